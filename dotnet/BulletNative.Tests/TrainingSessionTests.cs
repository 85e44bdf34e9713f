using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Tests;

public class TrainingSessionTests
{
    private static List<JsonObject> WaitFor(TrainingSession session, Func<JsonObject, bool> until, long since = 0)
    {
        var seen = new List<JsonObject>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var e in session.Events.Since(since, waitMs: 200).Select(e => e!.AsObject()))
            {
                seen.Add(e);
                since = (long)e["seq"]!;
                if (until(e)) return seen;
            }
        }
        Assert.Fail("timed out waiting for an event; saw: " + string.Join(", ",
            seen.Select(e => (string?)e["type"] == "error" ? $"error ({e["message"]})" : (string?)e["type"])));
        return seen;
    }

    private static bool IsType(JsonObject e, string type) => (string?)e["type"] == type;

    [Test]
    public void A_run_emits_started_metrics_samples_attention_and_completed_in_seq_order()
    {
        var config = TestCodec.TinyConfig();
        var output = TestPaths.NewScratch();
        config.CheckpointEvery = 5;
        config.KeepLast = 2;
        using var session = new TrainingSession(config, () => TestCodec.Corpus(config), output);
        session.Start();
        var events = WaitFor(session, e => IsType(e, "completed") || IsType(e, "error"));

        Assert.That(events.Select(e => (long)e["seq"]!), Is.Ordered.Ascending.And.Unique);
        Assert.That((string?)events[^1]["type"], Is.EqualTo("completed"));
        Assert.That((string?)events[^1]["reason"], Is.EqualTo("completed"));
        Assert.That((string?)events[0]["type"], Is.EqualTo("started"));
        Assert.That((long)events[0]["parameters"]!, Is.GreaterThan(0));
        Assert.That((bool)events[0]["compute"]!["mkl_intel_path"]!, Is.EqualTo(BulletNative.Model.MklDispatch.Forced));
        Assert.That((int)events[0]["compute"]!["threads"]!, Is.EqualTo(config.Threads));
        var metrics = events.Where(e => IsType(e, "metrics")).ToList();
        Assert.That(metrics.Select(m => (long)m["step"]!), Is.EqualTo(Enumerable.Range(1, 20).Select(i => (long)i)));
        Assert.That(metrics.Count(m => m["val_loss"] is not null), Is.EqualTo(4));
        Assert.That((double)metrics[^1]["tokens_per_sec"]!, Is.GreaterThan(0));
        Assert.That(events.Count(e => IsType(e, "sample")), Is.EqualTo(2));
        Assert.That(events.Count(e => IsType(e, "attention")), Is.EqualTo(2));
        Assert.That(session.State, Is.EqualTo(SessionState.Completed));
        var kept = Directory.GetDirectories(Path.Combine(output, "checkpoints")).Select(Path.GetFileName).Order().ToList();
        Assert.That(kept, Is.EqualTo(new[] { "best", "step-0000015", "step-0000020" }));
        Assert.That(session.Events.Since((long)events[^2]["seq"]!).Count, Is.EqualTo(1), "polling since a seq returns only newer events");
    }

    [Test]
    public void Controls_step_pause_resume_and_stop_act_between_steps()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 1000;
        using var session = new TrainingSession(config, () => TestCodec.Corpus(config));
        WaitFor(session, e => IsType(e, "started"));
        var metrics = session.TrainStep();
        Assert.That((long)metrics["step"]!, Is.EqualTo(1));
        session.StepN(3);
        WaitFor(session, e => IsType(e, "metrics") && (long)e["step"]! == 4);
        Thread.Sleep(100);
        Assert.That((long)session.Status()["step"]!, Is.EqualTo(4), "step N runs exactly N steps");

        session.SetSpeed(50);
        session.Start();
        WaitFor(session, e => IsType(e, "metrics") && (long)e["step"]! >= 6);
        session.Pause();
        Assert.That(session.State, Is.EqualTo(SessionState.Paused));
        var pausedAt = (long)session.Status()["step"]!;
        Assert.That((long)session.Events.Last("paused")!["step"]!, Is.EqualTo(pausedAt), "pause returns after the step in flight");
        Thread.Sleep(150);
        Assert.That((long)session.Status()["step"]!, Is.EqualTo(pausedAt));
        session.Resume();
        WaitFor(session, e => IsType(e, "metrics") && (long)e["step"]! >= pausedAt + 2);
        // Read before stopping: the session thread may emit "completed" before Stop's caller reads LastSeq.
        var beforeStop = session.Events.LastSeq;
        session.Stop();
        var end = WaitFor(session, e => IsType(e, "completed"), beforeStop);
        Assert.That((string?)end[^1]["reason"], Is.EqualTo("stopped"));
        Assert.That(session.State, Is.EqualTo(SessionState.Stopped));
        Assert.Throws<BulletStateException>(() => session.Start());
        var path = session.SaveCheckpoint(Path.Combine(TestPaths.NewScratch(), "after-stop"));
        Assert.That(File.Exists(Path.Combine(path, Checkpoint.WeightsFile)), "what was learned is kept after stop");
    }

    [Test]
    public void Disposing_a_running_session_stops_it_after_the_step_in_flight()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 1_000_000;
        var session = new TrainingSession(config, () => TestCodec.Corpus(config));
        session.Start();
        WaitFor(session, e => IsType(e, "metrics") && (long)e["step"]! >= 2);
        // Dispose must not wait for the million steps; the time guard only keeps a failure from hanging the suite.
        var disposed = Task.Run(session.Dispose);
        Assert.That(disposed.Wait(TimeSpan.FromMinutes(2)), Is.True, "Dispose returned");
        Assert.That(session.Events.LastSeq, Is.LessThan(1_000_000));
    }

    [Test]
    public void Bad_data_ends_in_an_error_event_and_other_sessions_live_on()
    {
        var config = TestCodec.TinyConfig();
        using var bad = new TrainingSession(config, () => new TokenData([1, 2, 3], new TestCodec("abcd"), 0.1, config.MaxSeqLen));
        using var good = new TrainingSession(config, () => TestCodec.Corpus(config));
        good.Start();
        var error = WaitFor(bad, e => IsType(e, "error"))[^1];
        Assert.That((string?)error["message"], Does.Contain("too short"));
        Assert.That(bad.State, Is.EqualTo(SessionState.Failed));
        Assert.That(bad.Status()["state"]!.ToString(), Is.EqualTo("failed"));
        Assert.That(WaitFor(good, e => IsType(e, "completed") || IsType(e, "error"))[^1]["type"]!.ToString(), Is.EqualTo("completed"));
    }

    [Test]
    public void Two_sessions_in_parallel_each_follow_their_own_seed()
    {
        var config = TestCodec.TinyConfig();
        config.Dropout = 0.1;
        double[] Alone()
        {
            using var trainer = new Trainer(config, TestCodec.Corpus(config));
            return Enumerable.Range(0, 20).Select(_ => trainer.TrainStep().TrainLoss).ToArray();
        }
        var expected = Alone();
        using var a = new TrainingSession(config, () => TestCodec.Corpus(config));
        using var b = new TrainingSession(config, () => TestCodec.Corpus(config));
        a.Start();
        b.Start();
        double[] Curve(TrainingSession s) => WaitFor(s, e => IsType(e, "completed")).Where(e => IsType(e, "metrics"))
            .Select(e => (double)e["train_loss"]!).ToArray();
        Assert.That(Curve(a), Is.EqualTo(expected));
        Assert.That(Curve(b), Is.EqualTo(expected));
    }
}
