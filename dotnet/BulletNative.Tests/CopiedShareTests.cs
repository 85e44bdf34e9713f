using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Text;

namespace BulletNative.Tests;

/// <summary>The copied share of a passage against its original, counted by hand on small texts, and streamed from a file.</summary>
public class CopiedShareTests
{
    private const string Original = "Dear Anna, the garden is full of roses this year and the old apple tree gave us forty apples. " +
        "We walked to the river on Sunday and the water was cold.";

    private static JsonObject Share(string passage, string original = Original, int words = 8) =>
        CopiedShare.Of(passage, new StringReader(original), words);

    [Test]
    public void APassageTakenFromTheOriginalIsAllCopied()
    {
        var result = Share("the old apple tree gave us forty apples. We walked to the river");
        // 13 words: 6 sequences of 8, every one in the original.
        Assert.That(result["ngrams"]!.GetValue<int>(), Is.EqualTo(6));
        Assert.That(result["copied"]!.GetValue<int>(), Is.EqualTo(6));
        Assert.That(result["share"]!.GetValue<double>(), Is.EqualTo(1.0));
        Assert.That(result["longest_copied_words"]!.GetValue<int>(), Is.EqualTo(13));
    }

    [Test]
    public void NewWordsAreNotCopiedAndCaseAndPunctuationDoNotHideACopy()
    {
        var fresh = Share("my cat sleeps on the warm stones by the door every single afternoon");
        Assert.That((fresh["copied"]!.GetValue<int>(), fresh["share"]!.GetValue<double>(), fresh["longest_copied_words"]!.GetValue<int>()), Is.EqualTo((0, 0.0, 0)));
        var shouted = Share("THE GARDEN IS FULL OF ROSES, THIS YEAR!");
        Assert.That(shouted["share"]!.GetValue<double>(), Is.EqualTo(1.0));
    }

    [Test]
    public void APartlyCopiedPassageCountsOnlyTheSequencesInsideTheCopy()
    {
        // 10 copied words then 10 new ones: 13 sequences, of which the 3 inside the copy are found.
        var result = Share("the garden is full of roses this year and the purple moon sang quietly over seven sleepy blue hills tonight");
        Assert.That(result["ngrams"]!.GetValue<int>(), Is.EqualTo(13));
        Assert.That(result["copied"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(result["share"]!.GetValue<double>(), Is.EqualTo(Math.Round(3.0 / 13, 4)));
        Assert.That(result["longest_copied_words"]!.GetValue<int>(), Is.EqualTo(10));
    }

    [Test]
    public void APassageShorterThanOneSequenceHasNoShare()
    {
        var result = Share("the garden is full");
        Assert.That(result["ngrams"]!.GetValue<int>(), Is.EqualTo(0));
        Assert.That(result["share"], Is.Null);
        Assert.That(() => Share("a b c", words: 1), Throws.TypeOf<BulletArgumentException>().With.Message.Contains("between 2 and 64"));
    }

    [Test]
    public void AnOriginalFileIsStreamedAcrossReadBuffers()
    {
        // The copied sentence sits where the 64 KiB read buffer ends.
        var filler = string.Concat(Enumerable.Repeat("lorem ", 65_536 / 6));
        var path = Path.Combine(TestPaths.NewScratch(), "original.txt");
        File.WriteAllText(path, filler + "the quick brown fox jumps over the lazy dog " + filler, new UTF8Encoding(false));
        var result = CopiedShare.OfFile("quick brown fox jumps over the lazy dog", path);
        Assert.That((result["ngrams"]!.GetValue<int>(), result["copied"]!.GetValue<int>()), Is.EqualTo((1, 1)));
    }

    [Test]
    public void SentenceOpenersAreListedMostFrequentFirst()
    {
        var stats = TextStatistics.OfText("Dear Tom, I went out. I saw (you). \"You\" came! I left? Then you slept.", 0);
        var openers = stats["sentence_openers"]!.AsArray().Select(o => o!.GetValue<string>());
        Assert.That(openers, Is.EqualTo(new[] { "I", "Dear", "You", "Then" }));
    }
}
