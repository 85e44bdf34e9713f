using BulletNative.Tokenizer;
using BulletNative.Training;

namespace BulletNative.Tests;

public class BitsPerCharacterTests
{
    [Test]
    public void For_a_char_model_bits_per_character_is_the_loss_over_ln_2()
    {
        var lengths = new TokenLengths(new TestCodec("ab c"));
        long[] targets = [0, 1, 2, 3, 0]; // "ab ca": five tokens, five characters
        var loss = TextLoss.Of(1.5, targets, lengths);
        Assert.That((loss.Tokens, loss.Chars, loss.Bytes), Is.EqualTo((5L, 5L, 5L)));
        Assert.That(loss.BitsPerChar, Is.EqualTo(1.5 * 5 / 5 / Math.Log(2)).Within(1e-12));
    }

    [Test]
    public void For_a_bpe_model_bits_per_character_is_loss_times_tokens_over_characters_over_ln_2()
    {
        var text = string.Concat(Enumerable.Repeat("the café by the sea, the cat and the hat. ", 30));
        var tokenizer = BpeTrainer.Train(text, new TokenizerTrainingOptions { VocabSize = 80 });
        var ids = tokenizer.Encode("the café");
        Assert.That(ids.Length, Is.LessThan(8), "merges make tokens longer than one character");
        var loss = TextLoss.Of(2.0, ids.Select(i => (long)i).ToArray(), new TokenLengths(new TokenizerCodec(tokenizer)));
        Assert.That((loss.Chars, loss.Bytes), Is.EqualTo((8L, 9L)), "\"the café\": 8 characters, 9 UTF-8 bytes");
        Assert.That(loss.BitsPerChar, Is.EqualTo(2.0 * ids.Length / 8 / Math.Log(2)).Within(1e-12));
        Assert.That(loss.BitsPerByte, Is.EqualTo(2.0 * ids.Length / 9 / Math.Log(2)).Within(1e-12));
    }

    [Test]
    public void The_unknown_token_stands_for_one_character()
    {
        var tokenizer = BpeTrainer.Train("abc abc", new TokenizerTrainingOptions { Mode = TokenizerMode.Char });
        var lengths = new TokenLengths(new TokenizerCodec(tokenizer));
        var ids = tokenizer.Encode("abz").Select(i => (long)i).ToArray();
        Assert.That(ids[^1], Is.EqualTo(0), "z is unknown");
        Assert.That(lengths.Count(ids), Is.EqualTo((3L, 3L)));
    }

    [Test]
    public void Evaluation_and_export_verification_report_bits_per_character_of_their_targets()
    {
        var config = TestCodec.TinyConfig();
        (config.Tokenizer, config.VocabSize, config.TotalSteps) = ("bpe", 100, 10);
        var text = string.Concat(Enumerable.Repeat(TrainPlanTests.Letter, 4));
        var data = TokenizerCodec.Prepare(config, text);
        using var trainer = new Trainer(config, data);
        for (var i = 0; i < 10; i++) trainer.TrainStep();
        var val = trainer.EvaluateText()!.Value;
        Assert.That(val.Chars, Is.GreaterThan(val.Tokens), "BPE tokens spell more than one character on average");
        Assert.That(val.BitsPerChar, Is.EqualTo(val.Loss * val.Tokens / val.Chars / Math.Log(2)).Within(1e-9));

        var result = ModelExporter.ExportBullet(trainer, Path.Combine(TestPaths.NewScratch(), "m.bullet"), new ExportOptions(VerifyWindows: 4));
        var tokens = (int)result["verify_tokens"]!;
        var targets = data.Val[^tokens..]; // consecutive windows back from the end of the validation part
        var chars = data.Codec.Decode(targets).EnumerateRunes().Count();
        Assert.That((long)result["verify_chars"]!, Is.EqualTo(chars));
        foreach (var kind in new[] { "float", "bq4" })
            Assert.That((double)result[$"{kind}_bpc"]!,
                Is.EqualTo((double)result[$"{kind}_val_loss"]! * tokens / chars / Math.Log(2)).Within(2e-4), kind);
    }
}
