using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Text;

namespace BulletNative.Tests;

/// <summary>Text counts and style metrics against hand-counted examples, streaming across buffer boundaries, and rejections.</summary>
public class TextStatisticsTests
{
    private static double Style(JsonObject stats, string key) => stats["style"]![key]!.GetValue<double>();

    [Test]
    public void CountsMatchAHandCountedText()
    {
        var stats = TextStatistics.OfText("Hello there! I am Tom.\nYou can't see me... ok?", 400);
        Assert.That(stats["characters"]!.GetValue<long>(), Is.EqualTo(46));
        Assert.That(stats["words"]!.GetValue<long>(), Is.EqualTo(10));
        Assert.That(stats["lines"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(stats["sentences"]!.GetValue<long>(), Is.EqualTo(4)); // "..." counts once
        Assert.That(Style(stats, "avg_sentence_length"), Is.EqualTo(2.5));
        // informal markers: "!", Hello, I, You, can't, me, ok = 7 over 10 words
        Assert.That(Style(stats, "formality"), Is.EqualTo(30.0));
        // punctuation: ! . ' . . . ? = 7 marks over 10 words
        Assert.That(Style(stats, "punctuation_rate"), Is.EqualTo(0.7));
    }

    [Test]
    public void TypeTokenRatioIgnoresCaseAndSurroundingPunctuation()
    {
        var stats = TextStatistics.OfText("The cat. the CAT, (the) dog", 0);
        Assert.That(Style(stats, "type_token_ratio"), Is.EqualTo(Math.Round(3.0 / 6, 4)));
        Assert.That(Style(stats, "avg_word_length"), Is.EqualTo(Math.Round(18.0 / 6, 4)));
    }

    [Test]
    public void AFileLargerThanOneBufferCountsLikeTheSameText()
    {
        // Multi-byte characters straddle the 64 KiB read buffer somewhere in 40,000 repetitions.
        var text = string.Concat(Enumerable.Repeat("Crème brûlée, naïve café! 🙂 ", 40_000));
        var path = Path.Combine(TestPaths.NewScratch(), "big.txt");
        File.WriteAllText(path, text, new UTF8Encoding(false));
        var fromFile = TextStatistics.OfFile(path, 10);
        var fromText = TextStatistics.OfText(text, 10);
        Assert.That(fromFile.ToJsonString(), Is.EqualTo(fromText.ToJsonString()));
        Assert.That(fromFile["characters"]!.GetValue<long>(), Is.EqualTo(28 * 40_000));
        Assert.That(fromFile["bytes"]!.GetValue<long>(), Is.EqualTo(Encoding.UTF8.GetByteCount(text)));
        Assert.That(fromFile["preview"]!.GetValue<string>(), Is.EqualTo("Crème brûl"));
    }

    [Test]
    public void NonTextIsRejectedWithWhere()
    {
        var scratch = TestPaths.NewScratch();
        void Write(string name, byte[] bytes) => File.WriteAllBytes(Path.Combine(scratch, name), bytes);
        Write("nul.bin", [.. "abc"u8, 0, .. "def"u8]);
        Write("latin1.txt", Encoding.Latin1.GetBytes("caf\u00e9 au lait"));
        Write("empty.txt", []);
        Write("controls.txt", [.. Enumerable.Repeat((byte)1, 100)]);
        Assert.That(() => TextStatistics.OfFile(Path.Combine(scratch, "nul.bin"), 0),
            Throws.TypeOf<BulletFormatException>().With.Message.Contains("NUL byte at offset 3"));
        Assert.That(() => TextStatistics.OfFile(Path.Combine(scratch, "latin1.txt"), 0),
            Throws.TypeOf<BulletFormatException>().With.Message.Contains("not valid UTF-8"));
        Assert.That(() => TextStatistics.OfFile(Path.Combine(scratch, "empty.txt"), 0),
            Throws.TypeOf<BulletFormatException>().With.Message.Contains("empty"));
        Assert.That(() => TextStatistics.OfFile(Path.Combine(scratch, "controls.txt"), 0),
            Throws.TypeOf<BulletFormatException>().With.Message.Contains("control characters"));
    }
}
