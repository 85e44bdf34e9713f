using System.Text.Json.Nodes;
using BulletNative.Runtime;

namespace BulletNative.Tests;

/// <summary>Sampling, streaming generation, stop strings, context policy, perplexity and attention.</summary>
public class RuntimeGenerationTests
{
    private static readonly BulletModel s_model = RuntimeForwardTests.RandomModel(11, vocab: 60, hidden: 64, layers: 2, heads: 4, context: 32);

    private static GenerationOptions Options(string json) => GenerationOptions.FromJson((JsonObject)JsonNode.Parse(json)!);

    private static int[] Generate(string json)
    {
        var generator = new Generator(s_model, [3, 4, 5], Options(json));
        generator.Complete();
        return generator.Sequence.Tokens.ToArray();
    }

    [Test]
    public void SameSeedSameTokensOtherSeedOtherTokens()
    {
        var a = Generate("""{"temperature": 1.5, "top_k": 0, "top_p": 1, "seed": 7, "max_tokens": 30}""");
        var b = Generate("""{"temperature": 1.5, "top_k": 0, "top_p": 1, "seed": 7, "max_tokens": 30}""");
        var c = Generate("""{"temperature": 1.5, "top_k": 0, "top_p": 1, "seed": 8, "max_tokens": 30}""");
        Assert.That(a, Has.Length.EqualTo(30));
        Assert.That(b, Is.EqualTo(a));
        Assert.That(c, Is.Not.EqualTo(a));
    }

    [Test]
    public void TemperatureZeroAndTopKOneAreGreedy()
    {
        var greedy = Generate("""{"temperature": 0, "max_tokens": 20}""");
        var topK = Generate("""{"temperature": 1.3, "top_k": 1, "seed": 5, "max_tokens": 20}""");
        Assert.That(topK, Is.EqualTo(greedy));
        // Greedy by hand with the reference pass: argmax of its logits at every step.
        var pass = new ReferenceForward(s_model);
        var logits = new float[60];
        foreach (var id in new[] { 3, 4, 5 }) pass.Forward(id, logits);
        var expected = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            expected.Add(Sampler.ArgMax(logits));
            pass.Forward(expected[^1], logits);
        }
        Assert.That(greedy, Is.EqualTo(expected));
    }

    [Test]
    public void TopKAndTopPOnlyDrawFromTheLikeliestTokens()
    {
        var logits = new float[] { 0.1f, 3f, 2.9f, -1f, 2.95f, 0f };
        var topK = new Sampler(new GenerationOptions { Temperature = 5, TopK = 2, TopP = 1, Seed = 1 });
        var topP = new Sampler(new GenerationOptions { Temperature = 1, TopK = 0, TopP = 0.5, Seed = 1 });
        var drawnK = Enumerable.Range(0, 300).Select(_ => topK.Next(logits, [])).ToHashSet();
        var drawnP = Enumerable.Range(0, 300).Select(_ => topP.Next(logits, [])).ToHashSet();
        Assert.That(drawnK, Is.EquivalentTo(new[] { 1, 4 }));
        Assert.That(drawnP, Is.EquivalentTo(new[] { 1, 4 }));
    }

    [Test]
    public void RepetitionPenaltyTurnsGreedyAwayFromSeenTokens()
    {
        var logits = new float[] { 1f, 2f, 1.5f };
        var sampler = new Sampler(new GenerationOptions { Temperature = 0, RepetitionPenalty = 2 });
        Assert.That(sampler.Next(logits, []), Is.EqualTo(1));
        Assert.That(sampler.Next(logits, [1]), Is.EqualTo(2));
    }

    [TestCase("""{"temperature": -1}""", "temperature")]
    [TestCase("""{"top_k": -2}""", "top_k")]
    [TestCase("""{"top_p": 0}""", "top_p")]
    [TestCase("""{"top_p": 1.5}""", "top_p")]
    [TestCase("""{"repetition_penalty": 0}""", "repetition_penalty")]
    [TestCase("""{"max_tokens": -1}""", "max_tokens")]
    [TestCase("""{"seed": 1.5}""", "seed")]
    [TestCase("""{"stop": [""]}""", "stop")]
    [TestCase("""{"stop": 3}""", "stop")]
    [TestCase("""{"context": "wrap"}""", "context")]
    [TestCase("""{"temperature": "hot"}""", "temperature")]
    [TestCase("""{"temprature": 1}""", "unknown generation option \"temprature\"")]
    [TestCase("""{"threads": 0}""", "threads")]
    public void InvalidOptionsAreClearErrors(string json, string named) =>
        Assert.That(() => Options(json), Throws.TypeOf<BulletArgumentException>().With.Message.Contains(named));

    [Test]
    public void StreamedPiecesAddUpToTheTextAndStopStringsCut()
    {
        var full = new Generator(s_model, [3], Options("""{"temperature": 0, "max_tokens": 40}"""));
        var text = full.Complete();
        Assert.That(text, Is.Not.Empty);
        var stop = text.Substring(text.Length / 2, 2);
        var generator = new Generator(s_model, [3], Options($$"""{"temperature": 0, "max_tokens": 40, "stop": ["{{stop}}"]}"""));
        var pieces = new List<string>();
        GeneratedToken? step;
        while ((step = generator.Next()) != null)
        {
            pieces.Add(step.Text);
            if (step.Done) break;
        }
        Assert.That(generator.Sequence.StopReason, Is.EqualTo("stop"));
        Assert.That(string.Concat(pieces), Is.EqualTo(generator.Sequence.Text));
        Assert.That(generator.Sequence.Text, Is.EqualTo(text[..text.IndexOf(stop, StringComparison.Ordinal)]));
        Assert.That(generator.Next(), Is.Null);
    }

    [Test]
    public void FullContextSlidesOrStops()
    {
        var slide = new Generator(s_model, [1, 2, 3], Options("""{"temperature": 0, "max_tokens": 80}"""));
        slide.Complete();
        Assert.That(slide.Sequence.Tokens, Has.Count.EqualTo(80));
        Assert.That(slide.Sequence.Slides, Is.GreaterThan(0));
        Assert.That(slide.Sequence.StopReason, Is.EqualTo("max_tokens"));
        var stop = new Generator(s_model, [1, 2, 3], Options("""{"temperature": 0, "max_tokens": 80, "context": "stop"}"""));
        stop.Complete();
        Assert.That(stop.Sequence.StopReason, Is.EqualTo("context_full"));
        Assert.That(stop.Sequence.Tokens, Has.Count.EqualTo(32 - 3 + 1));
        Assert.That(stop.Sequence.Tokens, Is.EqualTo(slide.Sequence.Tokens.Take(stop.Sequence.Tokens.Count)));
    }

    [Test]
    public void LongPromptKeepsItsLastWindow()
    {
        var prompt = Enumerable.Range(0, 50).Select(i => i % 60).ToArray();
        var generator = new Generator(s_model, prompt, Options("""{"temperature": 0, "max_tokens": 3}"""));
        generator.Complete();
        Assert.That(generator.Sequence.PromptTokensDropped, Is.EqualTo(18));
        Assert.That(generator.Sequence.Tokens, Has.Count.EqualTo(3));
    }

    [Test]
    public void PerplexityMatchesAHandComputationInOneWindowAndScoresEveryTokenOnceWhenSliding()
    {
        var tokens = Enumerable.Range(0, 10).Select(i => i * 7 % 60).ToArray();
        var pass = new ReferenceForward(s_model);
        var logits = new float[60];
        double nll = 0;
        for (var i = 0; i < 9; i++)
        {
            pass.Forward(tokens[i], logits);
            var max = logits.Max();
            nll += max + Math.Log(logits.Sum(v => Math.Exp(v - max))) - logits[tokens[i + 1]];
        }
        var result = ModelAnalysis.Perplexity(s_model, tokens);
        Assert.That(result.TokensScored, Is.EqualTo(9));
        // Within the int8 activations' tolerance of the definition (docs/runtime.md).
        Assert.That(result.Perplexity, Is.EqualTo(Math.Exp(nll / 9)).Within(1).Percent);
        Assert.That(result.AverageTokenProbability, Is.EqualTo(Math.Exp(-nll / 9)).Within(1).Percent);
        var report = RuntimeReports.Perplexity(s_model, s_model.Tokenizer.Decode(tokens));
        Assert.That(report["avg_token_probability"]!.GetValue<double>() * report["perplexity"]!.GetValue<double>(), Is.EqualTo(1).Within(1e-9));

        var longText = Enumerable.Range(0, 100).Select(i => i * 11 % 60).ToArray();
        var sliding = ModelAnalysis.Perplexity(s_model, longText);
        Assert.That(sliding.TokensScored, Is.EqualTo(99));
        Assert.That(sliding.Windows, Is.EqualTo(6));
        Assert.That(double.IsFinite(sliding.Perplexity) && sliding.Perplexity > 1);
        Assert.That(() => ModelAnalysis.Perplexity(s_model, [1]), Throws.TypeOf<BulletArgumentException>());
    }

    [Test]
    public void AttentionIsLowerTriangularWithRowsSummingToOne()
    {
        var result = ModelAnalysis.Attention(s_model, [1, 2, 3, 4, 5]);
        Assert.That(result.Weights, Has.Length.EqualTo(2 * 4 * 5 * 5));
        for (var lh = 0; lh < 8; lh++)
            for (var q = 0; q < 5; q++)
            {
                var row = result.Weights.AsSpan((lh * 5 + q) * 5, 5);
                Assert.That(row[..(q + 1)].ToArray().Sum(), Is.EqualTo(1f).Within(1e-5f));
                Assert.That(row[(q + 1)..].ToArray(), Is.All.EqualTo(0f));
            }
        Assert.That(result.Weights[0], Is.EqualTo(1f).Within(1e-6f)); // position 0 attends only to itself
    }

    [Test]
    public void FixturesGenerateWithWarningsListed()
    {
        foreach (var name in new[] { "reference-597vocab.bullet", "reference-tiny.bullet" })
        {
            var model = BulletModel.Load(TestPaths.Fixture(name));
            Assert.That(model.Warnings, Is.Not.Empty, name);
            var generator = new Generator(model, model.Tokenizer.Encode("token_1 "), Options("""{"temperature": 0, "max_tokens": 5}"""));
            generator.Complete();
            Assert.That(generator.Sequence.Tokens, Has.Count.EqualTo(5), name);
        }
    }

    [Test]
    public void TokenChoicesGiveTheModelsSoftmaxAndTheSamplersReshapedProbabilities()
    {
        const double temperature = 0.7, topP = 0.8;
        const int topK = 6;
        var generator = new Generator(s_model, [3, 4, 5], new GenerationOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = 9, MaxTokens = 12, TopLogprobs = 10 });
        var steps = new List<GeneratedToken>();
        while (generator.Next() is { } step) { steps.Add(step); if (step.Done) break; }
        var fast = new FastForward(s_model);
        var reference = new ReferenceForward(s_model);
        float[] fastLogits = new float[60], referenceLogits = new float[60];
        foreach (var id in new[] { 3, 4, 5 }) { fast.Forward(id, fastLogits); reference.Forward(id, referenceLogits); }
        foreach (var step in steps)
        {
            var choice = step.Choice!;
            Assert.That(choice.Top, Has.Length.EqualTo(10));
            Assert.That(choice.Top.Sum(c => c.Probability), Is.LessThanOrEqualTo(1 + 1e-12));
            Assert.That(choice.Top.Sum(c => c.SampledProbability), Is.LessThanOrEqualTo(1 + 1e-12));
            Assert.That(choice.Top.Select(c => c.Probability), Is.Ordered.Descending);
            // The model's probabilities: a float softmax of the definition's logits (within the int8 tolerance).
            var max = referenceLogits.Max();
            var sum = referenceLogits.Sum(v => Math.Exp(v - max));
            foreach (var c in choice.Top.Append(choice.Chosen))
                Assert.That(c.Probability, Is.EqualTo(Math.Exp(referenceLogits[c.Id] - max) / sum).Within(0.02));
            // The draw's probabilities, by hand from the same logits: top-k, temperature, then top-p.
            var kept = Enumerable.Range(0, 60).OrderByDescending(i => fastLogits[i]).ThenBy(i => i).Take(topK).ToList();
            var weights = kept.Select(i => Math.Exp((fastLogits[i] - fastLogits[kept[0]]) / temperature)).ToList();
            var cumulative = 0.0;
            var keep = kept.Count;
            for (var i = 0; i < kept.Count; i++) { cumulative += weights[i] / weights.Sum(); if (cumulative >= topP) { keep = i + 1; break; } }
            var total = weights.Take(keep).Sum();
            foreach (var c in choice.Top.Append(choice.Chosen))
            {
                var at = kept.IndexOf(c.Id);
                Assert.That(c.SampledProbability, Is.EqualTo(at >= 0 && at < keep ? weights[at] / total : 0).Within(1e-9), $"token {c.Id}");
            }
            Assert.That(choice.Chosen.Id, Is.EqualTo(step.Id));
            Assert.That(choice.Chosen.SampledProbability, Is.GreaterThan(0));
            fast.Forward(step.Id, fastLogits);
            reference.Forward(step.Id, referenceLogits);
        }
    }
}
