using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>Training for a time budget: the clock, the end, and a schedule that ends at its floor whatever happens on the way.</summary>
public class TimeBudgetTests
{
    private static TrainConfig BudgetConfig(double seconds)
    {
        var config = TestCodec.TinyConfig();
        (config.TotalSteps, config.TimeBudgetSeconds, config.Schedule, config.WarmupSteps) = (0, seconds, "wsd", 5);
        (config.SampleEvery, config.AttentionEvery) = (0, 0);
        return config;
    }

    private static List<JsonObject> WaitForEnd(TrainingSession session, Action<JsonObject>? onEvent = null)
    {
        var seen = new List<JsonObject>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        long since = 0;
        while (DateTime.UtcNow < deadline)
            foreach (var e in session.Events.Since(since, waitMs: 100).Select(e => e!.AsObject()))
            {
                seen.Add(e);
                since = (long)e["seq"]!;
                onEvent?.Invoke(e);
                if ((string?)e["type"] is "completed" or "error") return seen;
            }
        Assert.Fail("the session did not end");
        return seen;
    }

    private static List<JsonObject> Metrics(IEnumerable<JsonObject> events) => events.Where(e => (string?)e["type"] == "metrics").ToList();

    [Test]
    public void A_trainer_stops_at_its_budget_with_the_learning_rate_at_its_floor()
    {
        var config = BudgetConfig(2);
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        StepMetrics? last = null;
        while (!trainer.IsComplete) last = trainer.TrainStep();
        // The budget is checked before each step, so the run ends at most one step late; a loaded machine can stall one.
        var tolerance = 0.5 + 2 * trainer.SecondsPerStep;
        Assert.That(trainer.Clock.Seconds, Is.EqualTo(2).Within(tolerance));
        Assert.That(last!.LearningRate, Is.EqualTo(config.LearningRate * config.MinLrRatio).Within(1e-12));
        Assert.That(trainer.TotalSteps, Is.EqualTo(trainer.Step), "once done, the estimate is the count");
    }

    [Test]
    public void A_session_trains_for_its_budget_in_wall_time_plus_a_fixed_overhead()
    {
        var config = BudgetConfig(3);
        using var session = new TrainingSession(config, () => TestCodec.Corpus(config));
        var wall = Stopwatch.StartNew();
        session.Start();
        var events = WaitForEnd(session);
        wall.Stop();
        var completed = events[^1];
        Assert.That((string?)completed["reason"], Is.EqualTo("completed"));
        // The lower bound is the promise (it trains for its budget); the upper one only catches a budget that is
        // ignored, and is loose because a shared machine stalls.
        Assert.That(wall.Elapsed.TotalSeconds, Is.InRange(3 * 0.9, 3 + 15), "the budget, plus preparation and export");
        Assert.That((double)completed["training_sec"]!, Is.EqualTo(3).Within(0.5 + 2 * StepSeconds(events)));
        var metrics = Metrics(events);
        Assert.That((double)metrics[^1]["lr"]!, Is.EqualTo(config.LearningRate * config.MinLrRatio).Within(1e-12));
        Assert.That((double)metrics[^1]["eta_sec"]!, Is.EqualTo(0));
        Assert.That((double)events[0]["time_budget_s"]!, Is.EqualTo(3));
    }

    [Test]
    public void Pausing_stops_the_clock_and_the_schedule_carries_on_where_it_was()
    {
        var config = BudgetConfig(3);
        using var session = new TrainingSession(config, () => TestCodec.Corpus(config));
        var paused = false;
        session.Start();
        var events = WaitForEnd(session, e =>
        {
            if (paused || (string?)e["type"] != "metrics" || (double)e["training_sec"]! < 1) return;
            paused = true;
            session.Pause();
            var before = (double)session.Status()["metrics"]!["training_sec"]!;
            Thread.Sleep(1500);
            Assert.That((string?)session.Status()["state"], Is.EqualTo("paused"));
            Assert.That((double)session.Status()["metrics"]!["training_sec"]!, Is.EqualTo(before), "no step while paused");
            session.Resume();
        });
        Assert.That(paused);
        var completed = events[^1];
        Assert.That((double)completed["training_sec"]!, Is.EqualTo(3).Within(0.3 + 2 * StepSeconds(events)), "the pause is not counted");
        var rates = Metrics(events).Skip(config.WarmupSteps).Select(m => (double)m["lr"]!).ToList();
        Assert.That(rates, Is.Ordered.Descending, "after warmup the rate only falls, across the pause");
        Assert.That(rates[^1], Is.EqualTo(config.LearningRate * config.MinLrRatio).Within(1e-12));
    }

    [Test]
    public void A_run_stopped_early_resumes_from_its_checkpoint_with_the_rest_of_its_budget()
    {
        var config = BudgetConfig(3);
        var data = TestCodec.Corpus(config);
        var output = TestPaths.NewScratch();
        string checkpoint;
        double stoppedAt;
        using (var session = new TrainingSession(config, () => data, output))
        {
            session.Start();
            var events = WaitForEnd(session, e =>
            {
                if ((string?)e["type"] == "metrics" && (double)e["training_sec"]! >= 1) session.Stop();
            });
            Assert.That((string?)events[^1]["reason"], Is.EqualTo("stopped"));
            stoppedAt = (double)events[^1]["training_sec"]!;
            Assert.That(stoppedAt, Is.LessThan(2.5));
            Assert.That((double)Metrics(events)[^1]["lr"]!, Is.GreaterThan(config.LearningRate * config.MinLrRatio), "stopped before the decay ended");
            checkpoint = session.SaveCheckpoint();
        }
        using var resumed = new TrainingSession(config, () => data, output, checkpoint);
        resumed.Start();
        var rest = WaitForEnd(resumed);
        Assert.That((string?)rest[^1]["reason"], Is.EqualTo("completed"));
        Assert.That((double)Metrics(rest)[0]["training_sec"]!, Is.GreaterThan(stoppedAt), "the clock continues from the checkpoint");
        Assert.That((double)rest[^1]["training_sec"]!, Is.EqualTo(3).Within(0.3 + 2 * StepSeconds(rest)));
        Assert.That((double)Metrics(rest)[^1]["lr"]!, Is.EqualTo(config.LearningRate * config.MinLrRatio).Within(1e-12));
    }

    private static double StepSeconds(List<JsonObject> events)
    {
        var metrics = Metrics(events);
        return metrics.Zip(metrics.Skip(1), (a, b) => (double)b["training_sec"]! - (double)a["training_sec"]!).DefaultIfEmpty(0).Max();
    }
}
