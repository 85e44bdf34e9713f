using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>The event log as the record another process follows: whole lines, seq continued across openings, torn lines dropped.</summary>
public class EventLogTests
{
    private static List<JsonObject> Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Test]
    public void A_file_log_writes_one_json_line_per_event_and_a_reopened_log_continues_the_seq()
    {
        var path = Path.Combine(TestPaths.NewScratch(), "events.jsonl");
        using (var log = new EventLog(path))
        {
            Assert.That(log.FirstSeq, Is.EqualTo(1));
            log.Add("started", new JsonObject { ["step"] = 0 });
            log.Add("metrics", new JsonObject { ["step"] = 1, ["text"] = "line\nbreak" });
            Assert.That(log.Since(1).Select(e => (string?)e!["type"]), Is.EqualTo(new[] { "metrics" }));
        }
        using (var log = new EventLog(path))
        {
            Assert.That(log.FirstSeq, Is.EqualTo(3));
            Assert.That(log.Add("resumed", new JsonObject()), Is.EqualTo(3));
            Assert.That(log.Since(0).Select(e => (long)e!["seq"]!), Is.EqualTo(new[] { 3L }), "a log returns the events it wrote");
        }
        var lines = Lines(path);
        Assert.That(lines.Select(e => (long)e["seq"]!), Is.EqualTo(new[] { 1L, 2L, 3L }));
        Assert.That((string?)lines[1]["text"], Is.EqualTo("line\nbreak"), "a newline inside a value stays inside its line");
    }

    [Test]
    public void A_torn_last_line_is_dropped_before_the_log_continues()
    {
        var path = Path.Combine(TestPaths.NewScratch(), "events.jsonl");
        File.WriteAllText(path, "{\"seq\":1,\"type\":\"started\"}\n{\"seq\":2,\"type\":\"met");
        using (var log = new EventLog(path)) Assert.That(log.Add("error", new JsonObject { ["message"] = "crashed" }), Is.EqualTo(2));
        Assert.That(Lines(path).Select(e => (string?)e["type"]), Is.EqualTo(new[] { "started", "error" }));
    }

    [Test]
    public void A_last_line_that_is_not_an_event_is_a_format_error_naming_the_file()
    {
        var path = Path.Combine(TestPaths.NewScratch(), "events.jsonl");
        File.WriteAllText(path, "{\"seq\":1}\nnot json\n");
        var error = Assert.Throws<BulletFormatException>(() => new EventLog(path).Dispose());
        Assert.That(error!.Message, Does.Contain("events.jsonl").And.Contain("not valid JSON"));
    }

    [Test]
    public void A_session_on_a_file_stamps_its_state_on_every_event_and_a_resumed_one_continues_the_seq()
    {
        var folder = TestPaths.NewScratch();
        var events = Path.Combine(folder, "events.jsonl");
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 6;
        using (var session = new TrainingSession(config, () => TestCodec.Corpus(config), folder, events: new EventLog(events)))
        {
            session.Start();
            WaitForFile(events, e => (string?)e["type"] == "completed");
        }
        var first = Lines(events);
        Assert.That(first.All(e => e["state"] is not null), "every event says the session's state");
        Assert.That((string?)first[0]["state"], Is.AnyOf("ready", "running"));
        Assert.That((string?)first[^1]["state"], Is.EqualTo("completed"));
        var checkpoint = (string)first.Last(e => (string?)e["type"] == "checkpoint")["path"]!;

        config.TotalSteps = 8;
        using (var resumed = new TrainingSession(config, () => TestCodec.Corpus(config), folder, checkpoint, new EventLog(events)))
        {
            resumed.Start();
            WaitForFile(events, e => (string?)e["type"] == "completed" && (long)e["step"]! == 8);
        }
        var all = Lines(events).Select(e => (long)e["seq"]!).ToList();
        Assert.That(all, Is.EqualTo(Enumerable.Range(1, all.Count).Select(i => (long)i)), "no repeated and no missing seq");
    }

    [Test]
    public void Threads_change_between_steps_and_a_compute_event_says_so()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 1000;
        using var session = new TrainingSession(config, () => TestCodec.Corpus(config));
        Assert.That(session.Events.Since(0, waitMs: 60_000).Count, Is.GreaterThan(0));
        session.SetThreads(2);
        session.TrainStep();
        var compute = session.Events.Last("compute");
        Assert.That((int)compute!["threads"]!, Is.EqualTo(2));
        Assert.That((int)session.Status()["threads"]!, Is.EqualTo(2));
        Assert.Throws<BulletArgumentException>(() => session.SetThreads(0));
    }

    private static void WaitForFile(string path, Func<JsonObject, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).Any(until)) return;
            Thread.Sleep(50);
        }
        Assert.Fail($"timed out waiting for an event in {path}");
    }
}
