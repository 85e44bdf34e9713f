using System.Text;
using BulletNative.Tokenizer;

namespace BulletNative.Tests.Tokenizer;

/// <summary>decode(encode(t)) == t for every text made of characters the tokenizer has seen.</summary>
public class RoundTripTests
{
    [TestCase(TokenizerMode.Bpe)]
    [TestCase(TokenizerMode.Char)]
    public void RandomTextsOfSeenCharactersRoundTrip(TokenizerMode mode)
    {
        var random = new Random(mode == TokenizerMode.Bpe ? 11 : 12);
        var training = RandomText.Make(random, RandomText.Mixed, 20_000);
        var tokenizer = BpeTrainer.Train(training, new TokenizerTrainingOptions { VocabSize = 250, Mode = mode });
        Assert.That(tokenizer.Mode, Is.EqualTo(mode));
        for (var i = 0; i < 300; i++)
        {
            var text = i % 3 == 0 ? RandomText.Make(random, RandomText.Mixed, random.Next(0, 200), spaceRate: 0.4) : RandomText.Awkward(random, RandomText.Mixed);
            var ids = tokenizer.Encode(text);
            Assert.That(ids, Has.No.Member(0), "every character was seen, so nothing is unknown");
            Assert.That(tokenizer.Decode(ids), Is.EqualTo(text));
            Assert.That(tokenizer.DecodeToUtf8(ids), Is.EqualTo(Encoding.UTF8.GetBytes(text)));
        }
    }

    [Test]
    public void UnknownTokenTextItselfRoundTrips()
    {
        // "<unk>" learned as a merge result is the same bytes as id 0: the vocabulary keeps one token for it.
        var tokenizer = BpeTrainer.Train(string.Join(" ", Enumerable.Repeat("<unk>", 50)) + " a", new TokenizerTrainingOptions { VocabSize = 64 });
        Assert.That(tokenizer.Tokens.Count(t => t.AsSpan().SequenceEqual("<unk>"u8)), Is.EqualTo(1));
        Assert.That(tokenizer.Encode("<unk>"), Is.EqualTo(new[] { 0 }));
        Assert.That(tokenizer.Decode(tokenizer.Encode(" <unk> a<unk>")), Is.EqualTo(" <unk> a<unk>"));
    }
}
