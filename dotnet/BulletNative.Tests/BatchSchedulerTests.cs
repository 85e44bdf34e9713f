using BulletNative.Runtime;

namespace BulletNative.Tests;

/// <summary>Continuous batching: every generation gets exactly the tokens it gets alone, whatever runs beside it.</summary>
public class BatchSchedulerTests
{
    private static readonly BulletModel s_model = RuntimeForwardTests.RandomModel(21, vocab: 60, hidden: 64, layers: 2, heads: 4, context: 48);

    private static int[] Prompt(int seed, int length) => Enumerable.Range(0, length).Select(i => (i * 7 + seed * 13) % 60).ToArray();

    private static (IReadOnlyList<int> Tokens, string Text, string? Reason) Alone(int[] prompt, GenerationOptions options)
    {
        var generator = new Generator(s_model, prompt, options);
        generator.Complete();
        return (generator.Sequence.Tokens.ToArray(), generator.Sequence.Text, generator.Sequence.StopReason);
    }

    private static string Drain(GenerationRequest request)
    {
        var text = "";
        while (request.Take(TimeSpan.FromSeconds(30)) is { } step)
        {
            text += step.Text;
            if (step.Done) return text;
        }
        throw new TimeoutException("no step for 30 s");
    }

    [Test]
    public void EightConcurrentGreedyRequestsGiveTheirTextsAlone()
    {
        // Prompts longer than a step's budget (chunked), lengths that slide past the context, different max_tokens.
        var requests = Enumerable.Range(0, 8).Select(i => (Prompt: Prompt(i, 3 + 9 * i), Options: new GenerationOptions
        {
            Temperature = 0, MaxTokens = 10 + 7 * i, Stop = i == 3 ? ["ab"] : [],
        })).ToArray();
        using var scheduler = new BatchScheduler(s_model, new SchedulerOptions(TokensPerStep: 24, MaxSequences: 8));
        var submitted = requests.Select(r => scheduler.Submit(r.Prompt, r.Options)).ToArray();
        var texts = new string[8];
        Parallel.For(0, 8, i => texts[i] = Drain(submitted[i]));
        for (var i = 0; i < 8; i++)
        {
            var alone = Alone(requests[i].Prompt, requests[i].Options);
            Assert.That(texts[i], Is.EqualTo(alone.Text), $"request {i}");
            Assert.That(submitted[i].Sequence.Tokens, Is.EqualTo(alone.Tokens), $"request {i}");
            Assert.That(submitted[i].Sequence.StopReason, Is.EqualTo(alone.Reason), $"request {i}");
        }
        Assert.That(submitted.Any(r => r.Sequence.Slides > 0), "one request runs past the context and slides");
        Assert.That(scheduler.Load, Is.EqualTo((0, 0)));
    }

    [Test]
    public void RequestsJoinAndLeaveBetweenStepsAndSampledOnesKeepTheirSeeds()
    {
        using var scheduler = new BatchScheduler(s_model);
        var sampled = new GenerationOptions { Temperature = 1.2, TopK = 0, TopP = 0.9, Seed = 5, MaxTokens = 40 };
        var first = scheduler.Submit(Prompt(1, 5), sampled);
        Assert.That(first.Take(TimeSpan.FromSeconds(30)), Is.Not.Null, "the first request is running");
        var late = scheduler.Submit(Prompt(2, 20), new GenerationOptions { Temperature = 0, MaxTokens = 6 });
        Assert.That(Drain(late), Is.EqualTo(Alone(Prompt(2, 20), new GenerationOptions { Temperature = 0, MaxTokens = 6 }).Text));
        Drain(first);
        Assert.That(first.Sequence.Tokens, Is.EqualTo(Alone(Prompt(1, 5), sampled).Tokens));
    }

    [Test]
    public void ACancelledRequestEndsAndTheOthersGoOn()
    {
        using var scheduler = new BatchScheduler(s_model);
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 1_000_000 };
        var cancelled = scheduler.Submit(Prompt(3, 4), options);
        var kept = scheduler.Submit(Prompt(4, 4), new GenerationOptions { Temperature = 0, MaxTokens = 30 });
        Assert.That(cancelled.Take(TimeSpan.FromSeconds(30)), Is.Not.Null);
        cancelled.Cancel();
        Drain(cancelled);
        Assert.That(cancelled.Sequence.StopReason, Is.EqualTo("cancelled"));
        Assert.That(cancelled.Sequence.Tokens.Count, Is.LessThan(1_000_000));
        Assert.That(Drain(kept), Is.EqualTo(Alone(Prompt(4, 4), new GenerationOptions { Temperature = 0, MaxTokens = 30 }).Text));
    }

    [Test]
    public void CancelsArrivingAtAnyMomentEndOnlyTheirOwnGenerations()
    {
        // Cancels land from other threads while the scheduler gathers rows; each must end its own generation at a
        // step boundary and never disturb the tokens of one already in the step.
        using var scheduler = new BatchScheduler(s_model, new SchedulerOptions(TokensPerStep: 16, MaxSequences: 16));
        var kept = new GenerationOptions { Temperature = 0, MaxTokens = 40 };
        var random = new Random(3);
        for (var round = 0; round < 20; round++)
        {
            var keeper = scheduler.Submit(Prompt(round, 5), kept);
            var doomed = Enumerable.Range(0, 12)
                .Select(i => scheduler.Submit(Prompt(round + i, 1 + i % 3), new GenerationOptions { Temperature = 0, MaxTokens = 1_000_000 }))
                .ToArray();
            var waits = doomed.Select(_ => random.Next(0, 4)).ToArray();
            var spins = doomed.Select(_ => random.Next(0, 2000)).ToArray();
            Parallel.For(0, doomed.Length, i =>
            {
                for (var taken = 0; taken < waits[i]; taken++) doomed[i].Take(TimeSpan.FromSeconds(30));
                Thread.SpinWait(spins[i]);
                doomed[i].Cancel();
                Drain(doomed[i]);
            });
            Assert.That(doomed.Select(r => r.Sequence.StopReason), Is.All.EqualTo("cancelled"), $"round {round}");
            Assert.That(Drain(keeper), Is.EqualTo(Alone(Prompt(round, 5), kept).Text), $"round {round}");
        }
        Assert.That(scheduler.Load, Is.EqualTo((0, 0)));
    }

    [Test]
    public void AGenerationHasLeftTheLoadOnceItsFinalStepIsTaken()
    {
        using var scheduler = new BatchScheduler(s_model);
        for (var i = 0; i < 300; i++)
        {
            Drain(scheduler.Submit(Prompt(i, 3), new GenerationOptions { Temperature = 0, MaxTokens = 1 }));
            Assert.That(scheduler.Load, Is.EqualTo((0, 0)), $"request {i}");
        }
    }

    [Test]
    public void TheCacheLimitMakesRequestsWaitTheirTurn()
    {
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 40 };
        // A model whose full-context cache is above the 1 MiB minimum limit, and a limit that holds one such cache.
        var wide = RuntimeForwardTests.RandomModel(22, vocab: 60, hidden: 256, layers: 2, heads: 4, context: 300);
        var perRequest = KvCache.BytesFor(wide, 300);
        using var scheduler = new BatchScheduler(wide, new SchedulerOptions(CacheBytes: perRequest + perRequest / 2));
        var requests = Enumerable.Range(0, 3).Select(i => scheduler.Submit(Prompt(i, 4), options with { MaxTokens = 296 })).ToArray();
        Assert.That(requests[0].Take(TimeSpan.FromSeconds(30)), Is.Not.Null);
        Assert.That(scheduler.Load.Waiting, Is.EqualTo(2), "only one cache fits at a time");
        foreach (var request in requests) Drain(request);
        Assert.That(requests.All(r => r.Sequence.Tokens.Count == 296));
    }
}
