using System.Buffers.Binary;
using System.Text;
using BulletNative.Tokenizer;

namespace BulletNative.Tests.Tokenizer;

/// <summary>The fast encoder gives exactly the ids of the plain rule of docs/format.md, Tokenizer block (ReferenceEncoder).</summary>
public class EncodingRuleTests
{
    private static string Shakespeare(int bytes)
    {
        var path = Path.Combine(TestPaths.RepoRoot, "..", "shared", "data", "tinyshakespeare.txt");
        var text = File.ReadAllBytes(path);
        var end = Array.IndexOf(text, (byte)' ', bytes);
        return Encoding.UTF8.GetString(text, 0, end);
    }

    private static readonly string[] HandwrittenTexts =
    [
        "",
        " ",
        "   ",
        "hello world",
        "  leading and trailing  ",
        "line one\nline two\r\nline three\n\n",
        "Ünïcödé wörds: naïve café, 中文字符, हिन्दी, emoji 😀😀 and 𝄞 clef",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "tab\tseparated\tvalues and a  double space",
        "<unk> looks like the unknown token",
    ];

    [Test]
    public void TrainedTokenizerMatchesTheRuleOnShakespeareAndHandwrittenTexts()
    {
        var training = Shakespeare(60_000);
        var tokenizer = BpeTrainer.Train(training, new TokenizerTrainingOptions { VocabSize = 600 });
        Assert.That(tokenizer.Merges, Has.Count.GreaterThan(400));
        foreach (var text in HandwrittenTexts.Append(training[..20_000]).Append(Shakespeare(70_000)[60_000..]))
            Assert.That(tokenizer.Encode(text), Is.EqualTo(ReferenceEncoder.Encode(text, tokenizer)), text.Length > 60 ? text[..60] : text);
    }

    [Test]
    public void FixtureTokenizerMatchesTheRule()
    {
        // The block is parsed here by hand from the file (tokenizer_start is 4096), apart from the library.
        var file = File.ReadAllBytes(TestPaths.Fixture("reference-597vocab.bullet"));
        var at = 4096;
        Assert.That(Encoding.ASCII.GetString(file, at, 4), Is.EqualTo("BULK"));
        var count = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 4));
        at += 8;
        var vocab = new List<string>();
        var scores = new List<float>();
        for (var i = 0; i < count; i++)
        {
            scores.Add(BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(at)));
            int length = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 4));
            vocab.Add(Encoding.UTF8.GetString(file, at + 6, length));
            at += 6 + length;
        }
        var mergeCount = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at));
        Assert.That((count, mergeCount), Is.EqualTo((597, 0)));

        var tokenizer = BulletTokenizer.FromBulkBlock(file.AsSpan(4096));
        Assert.That(tokenizer.Tokens.Select(t => Encoding.UTF8.GetString(t)), Is.EqualTo(vocab));
        Assert.That(tokenizer.Scores, Is.EqualTo(scores));

        var random = new Random(597);
        var texts = new List<string> { string.Join(" ", vocab), string.Join("\n", vocab.Take(50)), "I am confused. What do I do?" };
        var characters = string.Concat(vocab).EnumerateRunes().Select(r => r.ToString()).Distinct().ToArray();
        for (var i = 0; i < 30; i++)
        {
            texts.Add(string.Join(random.Next(3) == 0 ? "  " : " ", Enumerable.Range(0, 20).Select(_ => vocab[random.Next(vocab.Count)])));
            texts.Add(RandomText.Make(random, characters, 200));
        }
        foreach (var text in texts)
            Assert.That(tokenizer.Encode(text), Is.EqualTo(ReferenceEncoder.Encode(text, vocab, [])));
        Assert.That(tokenizer.Encode("I am"), Is.EqualTo(new[] { vocab.IndexOf("I"), vocab.IndexOf(" "), 0, 0 }.Select(i => Math.Max(i, 0))));
    }

    [Test]
    public void AdversarialMergeListsMatchTheRuleOnRandomStrings()
    {
        // Merges a trainer would never write: duplicates, (x, x), results missing from the vocabulary, sides made
        // later than the merge that uses them, duplicated tokens. The rule still defines the ids; ours must equal them.
        var random = new Random(20240);
        string[] alphabet = ["a", "b", "c", "é", "中", "😀", "\n"];
        for (var round = 0; round < 300; round++)
        {
            string Piece() => RandomText.Make(random, alphabet, random.Next(1, 4), spaceRate: 0);
            var merges = new List<(string, string)>();
            for (var m = random.Next(0, 40); m > 0; m--)
            {
                var a = Piece();
                merges.Add(random.Next(5) == 0 ? (a, a) : (a, Piece()));
                if (random.Next(6) == 0) merges.Add(merges[random.Next(merges.Count)]);
            }
            var vocab = new List<string> { "<unk>" };
            if (random.Next(4) != 0) vocab.Add(" ");
            vocab.AddRange(alphabet.Where(_ => random.Next(5) != 0));
            vocab.AddRange(merges.Where(_ => random.Next(4) != 0).Select(m => m.Item1 + m.Item2));
            if (random.Next(3) == 0) vocab.Add(vocab[random.Next(vocab.Count)]);
            var tokenizer = BulletTokenizer.FromParts(
                vocab.Select(Encoding.UTF8.GetBytes).ToList(), new float[vocab.Count],
                merges.Select(m => (Encoding.UTF8.GetBytes(m.Item1), Encoding.UTF8.GetBytes(m.Item2))).ToList());
            for (var t = 0; t < 10; t++)
            {
                var text = t % 2 == 0 ? RandomText.Make(random, alphabet, random.Next(0, 120)) : RandomText.Awkward(random, alphabet);
                Assert.That(tokenizer.Encode(text), Is.EqualTo(ReferenceEncoder.Encode(text, vocab, merges)),
                    $"round {round}, text {t}: {text}");
            }
        }
    }

    [Test]
    public void TrainedTokenizerMatchesTheRuleOnRandomStrings()
    {
        var random = new Random(7);
        var tokenizer = BpeTrainer.Train(RandomText.Make(random, RandomText.Mixed, 30_000), new TokenizerTrainingOptions { VocabSize = 300 });
        for (var t = 0; t < 200; t++)
        {
            var text = t % 2 == 0 ? RandomText.Make(random, RandomText.Mixed, random.Next(0, 300)) : RandomText.Awkward(random, RandomText.Mixed);
            Assert.That(tokenizer.Encode(text), Is.EqualTo(ReferenceEncoder.Encode(text, tokenizer)), text);
        }
    }

    [Test]
    public void BatchEncodingOnSeveralThreadsEqualsOneByOne()
    {
        var random = new Random(3);
        var tokenizer = BpeTrainer.Train(RandomText.Make(random, RandomText.Mixed, 20_000), new TokenizerTrainingOptions { VocabSize = 200 });
        var texts = Enumerable.Range(0, 64).Select(_ => RandomText.Awkward(random, RandomText.Mixed)).ToList();
        var batch = tokenizer.EncodeBatch(texts, threads: 3);
        for (var i = 0; i < texts.Count; i++) Assert.That(batch[i], Is.EqualTo(tokenizer.Encode(texts[i])));
    }

    [Test]
    public void CharactersNotInTheVocabularyBecomeIdZero()
    {
        var tokenizer = BpeTrainer.Train("abc abc", new TokenizerTrainingOptions { VocabSize = 64, Mode = TokenizerMode.Char });
        Assert.That(tokenizer.Encode("ab zq"), Is.EqualTo(new[] { 2, 3, 1, 0, 0 }));
    }

    [Test]
    public void InvalidUtf8IsAnErrorNamingTheOffset()
    {
        var tokenizer = BpeTrainer.Train("abc", new TokenizerTrainingOptions { VocabSize = 64 });
        var error = Assert.Throws<BulletFormatException>(() => tokenizer.Encode([(byte)'a', (byte)'b', 0xC3, (byte)'x']));
        Assert.That(error!.Message, Does.Contain("offset 2").And.Contain("0xC3"));
    }

    [Test]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        var tokenizer = BpeTrainer.Train("abc", new TokenizerTrainingOptions { VocabSize = 64, Mode = TokenizerMode.Char });
        Assert.That(tokenizer.Decode([2, 1, 4]), Is.EqualTo("a c"));
        var error = Assert.Throws<BulletArgumentException>(() => tokenizer.Decode([2, 5]));
        Assert.That(error!.Message, Does.Contain("5").And.Contain("0..4"));
    }
}
