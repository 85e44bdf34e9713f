using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Tests;

public class TrainingSessionFactoryTests
{
    private static readonly string Text = string.Concat(Enumerable.Repeat(
        "the cat sat on the mat. a dog ate the hat. some birds sing when morning comes, quick brown foxes jump over lazy dogs. ", 25));

    private static JsonObject TinyJson(string tokenizer, int vocab) => new()
    {
        ["preset"] = "tiny", ["tokenizer"] = tokenizer, ["vocab_size"] = vocab, ["hidden_size"] = 32, ["num_layers"] = 1,
        ["max_seq_len"] = 16, ["batch_size"] = 4, ["total_steps"] = 6, ["eval_every"] = 3, ["eval_batches"] = 2,
        ["sample_every"] = 0, ["attention_every"] = 0,
    };

    private static JsonObject Last(TrainingSession session)
    {
        for (var i = 0; i < 600; i++)
        {
            var e = session.Events.Since(0).Select(e => e!.AsObject()).LastOrDefault(e => (string?)e["type"] is "completed" or "error");
            if (e != null) return e;
            Thread.Sleep(50);
        }
        throw new TimeoutException();
    }

    [TestCase("char", 0)]
    [TestCase("bpe", 80)]
    public void A_session_trains_its_tokenizer_on_the_text(string tokenizer, int vocab)
    {
        using var session = TrainingSessionFactory.Create(TinyJson(tokenizer, vocab), new JsonObject { ["text"] = Text });
        session.Start();
        Assert.That((string?)Last(session)["type"], Is.EqualTo("completed"));
        var started = session.Events.Since(0).First(e => (string?)e!["type"] == "started")!;
        var expected = tokenizer == "char" ? Text.Distinct().Count() + 1 : vocab; // + the unknown token
        Assert.That((int)started["vocab_size"]!, Is.EqualTo(expected));
    }

    [Test]
    public void A_vocab_bigger_than_the_text_makes_trains_with_what_it_makes_and_says_so()
    {
        using var session = TrainingSessionFactory.Create(TinyJson("bpe", 5000), new JsonObject { ["text"] = Text });
        session.Start();
        Assert.That((string?)Last(session)["type"], Is.EqualTo("completed"));
        var started = session.Events.Since(0).First(e => (string?)e!["type"] == "started")!;
        var vocab = (int)started["vocab_size"]!;
        Assert.That(vocab, Is.LessThan(5000).And.GreaterThan(Text.Distinct().Count()));
        Assert.That((int)started["config"]!["vocab_size"]!, Is.EqualTo(vocab), "the resolved config says what was trained");
        Assert.That(started["notes"]!.AsArray().Select(n => (string)n!),
            Has.Some.EqualTo($"vocab_size 5000 is more than this text makes: {vocab} tokens"));
    }

    [Test]
    public void Bad_configs_and_options_fail_at_create_with_a_readable_message()
    {
        var config = TinyJson("char", 0);
        config["hidden_size"] = 100;
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(config, new JsonObject { ["text"] = Text }))!.Message,
            Does.Contain("hidden_size 100 must be a positive multiple of 32"));
        config["hidden_size"] = 64;
        config["num_heads"] = 3;
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(config, new JsonObject { ["text"] = Text }))!.Message,
            Does.Contain("num_heads 3 must divide hidden_size 64 into an even head size"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(TinyJson("char", 0), new JsonObject { ["text"] = "" }))!.Message,
            Does.Contain("empty"));
        var typo = TinyJson("char", 0);
        typo["hiden_size"] = 64;
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(typo, new JsonObject { ["text"] = Text }))!.Message,
            Does.Contain("did you mean hidden_size"));
        var nullRate = TinyJson("char", 0);
        nullRate["learning_rate"] = null;
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(nullRate, new JsonObject { ["text"] = Text }))!.Message,
            Is.EqualTo("learning_rate must be a number, not null"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(TinyJson("char", 0), new JsonObject { ["text"] = 5 }))!.Message,
            Is.EqualTo("text must be a string, not 5"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => TrainingSessionFactory.Create(TinyJson("char", 0), new JsonObject { ["txt"] = Text }))!.Message,
            Is.EqualTo("unknown session option \"txt\" (did you mean text?)"));
    }

    [Test]
    public void A_session_resumes_from_a_checkpoint_folder_with_its_tokenizer()
    {
        var output = TestPaths.NewScratch();
        var config = TinyJson("bpe", 80);
        config["total_steps"] = 8;
        double[] straight;
        using (var session = TrainingSessionFactory.Create(config, new JsonObject { ["text"] = Text }))
        {
            session.Start();
            Last(session);
            straight = session.Events.Since(0).Where(e => (string?)e!["type"] == "metrics").Select(e => (double)e!["train_loss"]!).ToArray();
        }
        string checkpoint;
        using (var session = TrainingSessionFactory.Create(config, new JsonObject { ["text"] = Text, ["output_dir"] = output }))
        {
            session.StepN(4);
            while ((long)session.Status()["step"]! < 4) Thread.Sleep(20);
            checkpoint = session.SaveCheckpoint();
        }
        Assert.That(File.Exists(Path.Combine(checkpoint, Checkpoint.TokenizerFile)));
        using var resumed = TrainingSessionFactory.Create(new JsonObject(), new JsonObject { ["text"] = Text, ["resume_from"] = checkpoint });
        resumed.Start();
        Assert.That((string?)Last(resumed)["type"], Is.EqualTo("completed"));
        var rest = resumed.Events.Since(0).Where(e => (string?)e!["type"] == "metrics").Select(e => (double)e!["train_loss"]!).ToArray();
        Assert.That(rest, Is.EqualTo(straight[4..]).Within(1e-6));
    }
}
