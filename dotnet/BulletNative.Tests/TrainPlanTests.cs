using System.Text.Json.Nodes;
using BulletNative.Tokenizer;
using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>What the user sets wins over preset defaults; what cannot work on a text is corrected with a note.</summary>
public class TrainPlanTests
{
    /// <summary>A letter of about 150 words, written for these tests.</summary>
    internal const string Letter =
        "Dear Margaret,\n\nThank you for the lovely afternoon last Sunday. The garden looked wonderful, and I have not stopped " +
        "thinking about your roses by the old stone wall. Tom says the lemon cake was the best he has ever eaten, and I am " +
        "inclined to agree with him. We walked home along the river as the sun went down, and the light on the water made " +
        "everything feel slow and golden. I hope your knee is feeling better and that the doctor was kind. Please do not " +
        "worry about the books; keep them as long as you like. Next month we should go to the market together, early, " +
        "before the crowds arrive. I will bring the basket and you can bring your stories. Write soon and tell me how the " +
        "new puppy is behaving, and whether he has stopped chewing the door.\n\nWith love, as always,\nHelen\n";

    private static TrainPlan Plan(string json) => TrainPlan.FromJson(JsonNode.Parse(json)!.AsObject());

    [Test]
    public void Epochs_given_over_a_preset_replace_its_step_count()
    {
        var plan = Plan("""{"preset": "tiny", "epochs": 1}""");
        Assert.That((plan.Config.TotalSteps, plan.Config.Epochs, plan.Config.TimeBudgetSeconds), Is.EqualTo((0, 1.0, 0.0)));
        Assert.That(plan.Notes, Has.Some.EqualTo("epochs 1 given: the tiny preset's total_steps 600 is not used"));
    }

    [Test]
    public void A_time_budget_given_over_a_preset_replaces_its_step_count()
    {
        var plan = Plan("""{"preset": "shakespeare-char", "time_budget_s": 30}""");
        Assert.That((plan.Config.TotalSteps, plan.Config.TimeBudgetSeconds), Is.EqualTo((0, 30.0)));
        Assert.That(plan.Notes.Single(), Does.Contain("total_steps 2000 is not used"));
    }

    [Test]
    public void Steps_given_over_a_default_time_budget_replace_it()
    {
        var plan = Plan("""{"total_steps": 50}""");
        Assert.That((plan.Config.TotalSteps, plan.Config.TimeBudgetSeconds), Is.EqualTo((50, 0.0)));
    }

    [Test]
    public void Several_limits_given_all_apply_and_the_first_reached_ends_training()
    {
        var plan = Plan("""{"preset": "tiny", "total_steps": 100, "time_budget_s": 30, "epochs": 2}""");
        Assert.That(plan.Notes, Has.Some.EqualTo("training ends at whichever comes first: total_steps 100 or epochs 2 or time_budget_s 30"));
        var limits = new RunLimits(plan.Config, trainTokens: 16 * 64 * 10, tokensPerStep: 16 * 64);
        Assert.That((limits.StepLimit, limits.BudgetSeconds), Is.EqualTo(((long?)20, (double?)30)), "two epochs of 10 steps come before 100 steps");
    }

    [Test]
    public void A_vocab_size_given_over_a_character_preset_asks_for_bpe()
    {
        var plan = Plan("""{"preset": "shakespeare-char", "vocab_size": 300}""");
        Assert.That((plan.Config.Tokenizer, plan.Config.VocabSize), Is.EqualTo(("bpe", 300)));
        Assert.That(plan.Notes.Single(), Does.StartWith("vocab_size 300 given: a BPE tokenizer"));
    }

    [Test]
    public void A_character_tokenizer_given_over_a_bpe_preset_drops_its_vocab_size()
    {
        var plan = Plan("""{"preset": "tiny", "tokenizer": "char"}""");
        Assert.That((plan.Config.Tokenizer, plan.Config.VocabSize), Is.EqualTo(("char", 0)));
        var both = Plan("""{"preset": "tiny", "tokenizer": "char", "vocab_size": 60}""");
        Assert.That((both.Config.Tokenizer, both.Config.VocabSize, both.Notes.Count), Is.EqualTo(("char", 60, 0)), "both given: both kept");
    }

    [Test]
    public void A_given_tokenizer_wins_over_vocab_size_with_a_note()
    {
        var tokenizer = BpeTrainer.Train(Letter, new TokenizerTrainingOptions { VocabSize = 100 });
        var run = Plan("""{"preset": "tiny", "vocab_size": 200, "total_steps": 5}""").ForText(Letter, tokenizer);
        Assert.That(run.Config.VocabSize, Is.EqualTo(tokenizer.VocabSize));
        Assert.That(run.Notes, Has.Some.EqualTo($"the given tokenizer has {tokenizer.VocabSize} tokens; vocab_size 200 is not used"));
    }

    [Test]
    public void Without_a_preset_the_plan_chooses_a_budget_shape_and_recipe_and_keeps_what_the_user_set()
    {
        var plan = Plan("""{"optimizer": "adamw", "hidden_size": 64}""");
        Assert.That((plan.Config.Optimizer, plan.Config.Schedule), Is.EqualTo(("adamw", "wsd")));
        var run = plan.ForText(Letter);
        Assert.That(run.Config.TimeBudgetSeconds, Is.EqualTo(TrainPlan.DefaultBudgetSeconds(Letter.Length)));
        Assert.That((run.Config.HiddenSize, run.Config.Tokenizer), Is.EqualTo((64, "char")));
        Assert.That(run.Notes, Has.Some.StartWith("no steps, epochs or time budget given: trains for"));
        Assert.That(run.Notes, Has.Some.StartWith("shape chosen for"));
        Assert.That(Plan("{}").Config.Optimizer, Is.EqualTo("muon"));
    }

    [TestCase(800, 10)]
    [TestCase(20_000, 25)]
    [TestCase(60_000, 64)]
    public void A_short_text_gets_a_context_that_grows_with_it_up_to_the_rows(long chars, int context)
    {
        var row = ShapeTable.Choose(1e9, chars);
        Assert.That((row.MaxSeqLen, row.Tokenizer), Is.EqualTo((context, "char")));
        Assert.That(ShapeTable.Choose(1e9, 10_000_000).MaxSeqLen, Is.EqualTo(ShapeTable.Rows[^1].MaxSeqLen), "a long text keeps the row's");
    }

    [Test]
    public void A_letter_with_defaults_trains_whole_with_a_two_word_context_and_says_so()
    {
        var run = Plan("""{"total_steps": 3}""").ForText(Letter);
        Assert.That(run.Config.MaxSeqLen, Is.EqualTo(ShapeTable.MinTextContext));
        Assert.That((run.Config.ValFraction, run.Data.Val.Length), Is.EqualTo((0.0, 0)));
        Assert.That(run.Data.Train.Length, Is.EqualTo(run.Data.Codec.Encode(Letter).Length), "all of it trains");
        Assert.That(run.Notes, Has.Some.StartWith($"the text is short ({Letter.Length:N0} characters, fewer than 2,000): it all trains"));

        var asked = Plan("""{"total_steps": 3, "val_fraction": 0.2, "max_seq_len": 32}""").ForText(Letter);
        Assert.That((asked.Config.ValFraction, asked.Config.MaxSeqLen), Is.EqualTo((0.2, 32)), "what the user set wins");
        Assert.That(asked.Data.Val.Length, Is.GreaterThan(32));
        var pages = string.Concat(Enumerable.Repeat(Letter, 2_000 / Letter.Length + 1));
        Assert.That(Plan("""{"total_steps": 3}""").ForText(pages).Config.ValFraction, Is.GreaterThan(0), "2,000 characters keep validation");
    }

    [Test]
    public void A_short_letter_with_a_preset_gets_characters_a_context_that_fits_and_notes()
    {
        var run = Plan("""{"preset": "small"}""").ForText(Letter);
        Assert.That(run.Config.Tokenizer, Is.EqualTo("char"));
        Assert.That(run.Notes, Has.Some.StartWith($"the text is short ({Letter.Length:N0} characters): character tokens instead of a BPE vocabulary of 2000"));
        Assert.That(run.Config.MaxSeqLen, Is.LessThan(run.Data.Val.Length), "the validation part holds a window");
        Assert.That(run.Notes, Has.Some.StartWith("max_seq_len 128 is longer than the validation part"));
        Assert.DoesNotThrow(run.Config.Validate);
        using var trainer = new Trainer(run.Config, run.Data);
        Assert.That(double.IsFinite(trainer.TrainStep().TrainLoss));
    }

    [Test]
    public void A_bpe_vocabulary_the_user_asks_for_is_capped_at_what_the_text_makes()
    {
        var run = Plan("""{"preset": "tiny", "tokenizer": "bpe", "vocab_size": 4000, "total_steps": 3}""").ForText(Letter);
        Assert.That(run.Config.Tokenizer, Is.EqualTo("bpe"));
        Assert.That(run.Config.VocabSize, Is.LessThan(4000).And.EqualTo(run.Data.Codec.VocabSize));
        Assert.That(run.Notes, Has.Some.EqualTo($"vocab_size 4000 is more than this text makes: {run.Config.VocabSize} tokens"));
    }

    [Test]
    public void A_text_too_short_for_any_window_is_refused_with_its_length()
    {
        var error = Assert.Throws<BulletArgumentException>(() => Plan("""{"preset": "tiny"}""").ForText("Hello there."));
        Assert.That(error!.Message, Is.EqualTo($"the text is too short to train on: 12 characters (at least {TrainPlan.MinTextChars})"));
    }

    [Test]
    public void A_config_that_cannot_work_anywhere_is_refused_before_starting_naming_the_field()
    {
        Assert.That(Assert.Throws<BulletArgumentException>(() => Plan("""{"tokenizer": "bpe", "vocab_size": 10}""").Config.Validate())!.Message,
            Does.StartWith("vocab_size 10 must be between 64 and 32000"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => Plan("""{"time_budget_s": -1}""").Config.Validate())!.Message,
            Does.StartWith("time_budget_s -1 must be between 0"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => Plan("""{"optimizer": "sgd"}""").Config.Validate())!.Message,
            Does.StartWith("optimizer 'sgd'"));
    }

    [Test]
    public void Epochs_1_trains_one_epoch()
    {
        var config = new JsonObject
        {
            ["preset"] = "tiny", ["epochs"] = 1, ["tokenizer"] = "char", ["hidden_size"] = 32, ["num_layers"] = 1,
            ["max_seq_len"] = 16, ["batch_size"] = 4, ["eval_every"] = 0, ["sample_every"] = 0, ["attention_every"] = 0,
        };
        var text = string.Concat(Enumerable.Repeat(Letter, 3));
        using var session = TrainingSessionFactory.Create(config, new JsonObject { ["text"] = text });
        session.Start();
        var completed = WaitForEnd(session);
        var started = session.Events.Last("started")!;
        var tokensSeen = (long)completed["step"]! * 4 * 16;
        Assert.That(tokensSeen, Is.EqualTo((int)started["train_tokens"]!).Within(10).Percent);
        Assert.That((double)session.Events.Last("metrics")!["epoch"]!, Is.EqualTo(1).Within(0.1));
    }

    [Test]
    public void A_100_word_text_trains_with_default_settings_to_a_sample()
    {
        var words = Letter.Split(' ');
        var text = string.Join(' ', words.Take(100));
        using var session = TrainingSessionFactory.Create(new JsonObject(), new JsonObject { ["text"] = text });
        session.Start();
        var completed = WaitForEnd(session);
        Assert.That((string?)completed["reason"], Is.EqualTo("completed"));
        var started = session.Events.Last("started")!;
        Assert.That(started["notes"]!.AsArray(), Is.Not.Empty);
        Assert.That((string?)session.Events.Last("sample")!["text"], Is.Not.Empty);
        Assert.That(started["notes"]!.AsArray().Select(n => (string?)n), Has.Some.Contains("it all trains"));
        Assert.That(((double?)started["config"]!["val_fraction"], (int?)started["config"]!["max_seq_len"]),
            Is.EqualTo(((double?)0.0, (int?)ShapeTable.MinTextContext)));
        Assert.That(completed["best_val_bpc"], Is.Null, "no validation part, so no best checkpoint by it");
    }

    private static JsonObject WaitForEnd(TrainingSession session)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            if (session.Events.Last("error") is { } error) Assert.Fail((string?)error["message"] ?? "the session failed");
            if (session.Events.Last("completed") is { } done) return done;
            Thread.Sleep(100);
        }
        Assert.Fail("the session did not end");
        return null!;
    }
}
