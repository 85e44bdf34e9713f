using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Tokenizer;

namespace BulletNative.Tests.Tokenizer;

public class TokenizerFileTests
{
    private static BulletTokenizer Trained(int vocab = 200, int seed = 1) =>
        BpeTrainer.Train(RandomText.Make(new Random(seed), RandomText.Mixed, 10_000), new TokenizerTrainingOptions { VocabSize = vocab });

    // Line-break-free text, so vocab.txt can hold every token.
    private static BulletTokenizer TrainedOnOneLine() =>
        BpeTrainer.Train(RandomText.Make(new Random(4), ["a", "b", "c", "é", "中", "😀", "1", "."], 8000), new TokenizerTrainingOptions { VocabSize = 120 });

    private static void AssertSame(BulletTokenizer actual, BulletTokenizer expected, bool scores = true)
    {
        Assert.That(actual.Tokens, Is.EqualTo(expected.Tokens));
        Assert.That(actual.Merges, Is.EqualTo(expected.Merges));
        if (scores) Assert.That(actual.Scores, Is.EqualTo(expected.Scores));
    }

    [Test]
    public void BulkBlockHasTheLayoutOfSection3AndRoundTrips()
    {
        var tokenizer = BulletTokenizer.FromParts(["<unk>"u8.ToArray(), " "u8.ToArray(), "é"u8.ToArray()], [0f, 1.5f, -2f], [("é"u8.ToArray(), "é"u8.ToArray())]);
        var block = tokenizer.ToBulkBlock();
        byte[] expected =
        [
            .. "BULK"u8, 3, 0, 0, 0,
            0, 0, 0, 0, 5, 0, .. "<unk>"u8,
            0, 0, 0xC0, 0x3F, 1, 0, (byte)' ',
            0, 0, 0, 0xC0, 2, 0, 0xC3, 0xA9,
            1, 0, 0, 0, 2, 0, 0xC3, 0xA9, 2, 0, 0xC3, 0xA9,
        ];
        Assert.That(block, Is.EqualTo(expected));
        AssertSame(BulletTokenizer.FromBulkBlock([.. block, 0, 0, 0, 0], out var consumed), tokenizer);
        Assert.That(consumed, Is.EqualTo(block.Length));
    }

    [Test]
    public void EveryTruncationOrCorruptionOfABulkBlockIsAFormatError()
    {
        var block = Trained(80).ToBulkBlock();
        for (var length = 0; length < block.Length; length++)
            Assert.Throws<BulletFormatException>(() => BulletTokenizer.FromBulkBlock(block.AsSpan(0, length)), $"cut at {length}");
        var huge = block.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(4), uint.MaxValue);
        Assert.That(Assert.Throws<BulletFormatException>(() => BulletTokenizer.FromBulkBlock(huge))!.Message, Does.Contain("4294967295"));
        var magic = block.ToArray();
        magic[0] = (byte)'X';
        Assert.That(Assert.Throws<BulletFormatException>(() => BulletTokenizer.FromBulkBlock(magic))!.Message, Does.Contain("XULK"));
        var random = new Random(8);
        for (var i = 0; i < 2000; i++)
        {
            var corrupt = block.ToArray();
            corrupt[random.Next(4, corrupt.Length)] = (byte)random.Next(256);
            try
            {
                BulletTokenizer.FromBulkBlock(corrupt);
            }
            catch (BulletFormatException)
            {
                // a clear error is one of the two allowed outcomes; a crash or another exception is not
            }
        }
    }

    [Test]
    public void TokenizerJsonIsTheHuggingFaceBpeLayoutAndRoundTrips()
    {
        var tokenizer = Trained();
        var bytes = TokenizerJson.Write(tokenizer);
        var json = JsonNode.Parse(bytes)!.AsObject();
        Assert.That(json.Select(p => p.Key), Is.EqualTo(new[]
            { "version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model" }));
        var model = json["model"]!.AsObject();
        Assert.That((string)model["type"]!, Is.EqualTo("BPE"));
        Assert.That((string)model["unk_token"]!, Is.EqualTo("<unk>"));
        Assert.That((int)model["vocab"]![" "]!, Is.EqualTo(1));
        Assert.That(model["vocab"]!.AsObject().Count, Is.EqualTo(tokenizer.VocabSize));
        var (a, b) = tokenizer.Merges[0];
        Assert.That((string)model["merges"]![0]!, Is.EqualTo(Encoding.UTF8.GetString(a) + " " + Encoding.UTF8.GetString(b)));
        Assert.That(Encoding.UTF8.GetString(bytes), Does.Contain("中").And.Contain("é"), "non-ASCII text is written as itself");
        AssertSame(TokenizerJson.Read(bytes), tokenizer); // scores too: trained scores are the default rule's
    }

    [Test]
    public void TokenizerJsonAcceptsTheSimpleLayouts()
    {
        var expected = BulletTokenizer.FromParts(["<unk>"u8.ToArray(), " "u8.ToArray(), "a"u8.ToArray(), "b"u8.ToArray(), "ab"u8.ToArray()],
            [0, 0, 0, 0, -1], [("a"u8.ToArray(), "b"u8.ToArray())]);
        AssertSame(TokenizerJson.Read("""{"vocab": ["<unk>", " ", "a", "b", "ab"], "merges": ["a b"]}"""u8), expected);
        AssertSame(TokenizerJson.Read("""{"vocab": {"ab": 4, " ": 1, "a": 2, "<unk>": 0, "b": 3}, "merges": [["a", "b"]]}"""u8), expected);
        AssertSame(TokenizerJson.Read("""{"model": {"type": "BPE", "vocab": {"<unk>": 0, " ": 1, "a": 2, "b": 3, "ab": 4}, "merges": ["a b"]}}"""u8), expected);
        Assert.That(TokenizerJson.Read("""{"vocab": ["<unk>", " ", "x"]}"""u8).Mode, Is.EqualTo(TokenizerMode.Char));
    }

    [TestCase("""{"vocab": ["a"], "merges": ["a b c"]}""", "ambiguous")]
    [TestCase("""{"vocab": ["a"], "merges": ["ab"]}""", "separated by one space")]
    [TestCase("""{"vocab": ["a"], "merges": [" b"]}""", "empty side")]
    [TestCase("""{"vocab": ["a"], "merges": [["a"]]}""", "pair")]
    [TestCase("""{"vocab": {"a": 0, "b": 2}}""", "from 0 to 1")]
    [TestCase("""{"vocab": {"a": 0, "b": 0}}""", "two tokens")]
    [TestCase("""{"vocab": {"a": 0.5}}""", "tokenizer.json: the id of vocab entry \"a\" must be an integer, not 0.5")]
    [TestCase("""{"vocab": ["a", 3]}""", "tokenizer.json: vocab entry 1 must be a string, not 3")]
    [TestCase("""{"merges": []}""", "no \"vocab\"")]
    [TestCase("""{"model": {"type": "WordPiece", "vocab": {}}}""", "WordPiece")]
    [TestCase("""[1, 2]""", "JSON object")]
    [TestCase("""{"vocab": [""", "not valid JSON")]
    public void BadTokenizerJsonIsAClearError(string json, string message)
    {
        var error = Assert.Throws<BulletFormatException>(() => TokenizerJson.Read(Encoding.UTF8.GetBytes(json)));
        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public void TokenizerJsonRefusesWhatItCannotHold()
    {
        var duplicate = BulletTokenizer.FromParts(["<unk>"u8.ToArray(), "a"u8.ToArray(), "a"u8.ToArray()], [0, 0, 0], []);
        Assert.That(Assert.Throws<BulletArgumentException>(() => TokenizerJson.Write(duplicate))!.Message, Does.Contain("token 2").And.Contain("repeats token 1"));
        var notText = BulletTokenizer.FromParts(["<unk>"u8.ToArray(), [0xFF]], [0, 0], []);
        Assert.That(Assert.Throws<BulletArgumentException>(() => TokenizerJson.Write(notText))!.Message, Does.Contain("not valid UTF-8"));
    }

    [Test]
    public void VocabTxtAndMergesTxtRoundTripIncludingTheSpaceToken()
    {
        var tokenizer = TrainedOnOneLine();
        var vocab = TokenizerTextFiles.WriteVocab(tokenizer);
        Assert.That(Encoding.UTF8.GetString(vocab), Does.StartWith("<unk> 0\n  0\n"));
        AssertSame(TokenizerTextFiles.Read(vocab, TokenizerTextFiles.WriteMerges(tokenizer)), tokenizer);
    }

    [Test]
    public void VocabTxtReadsTheOldBuildersLines()
    {
        var vocab = "\uFEFF<unk>\r\n \r\n\r\nhello 1.5\r\nsay what\r\nx -2e-3\r\n  7\n 4\n"u8;
        var merges = "#version: 0.2\nh e\n"u8;
        var tokenizer = TokenizerTextFiles.Read(vocab, merges);
        Assert.That(tokenizer.Tokens.Select(t => Encoding.UTF8.GetString(t)), Is.EqualTo(new[] { "<unk>", " ", "hello", "say what", "x", " ", "" }));
        Assert.That(tokenizer.Scores, Is.EqualTo(new[] { 0f, 0f, 1.5f, 0f, -0.002f, 7f, 4f }));
        AssertSame(TokenizerTextFiles.Read(TokenizerTextFiles.WriteVocab(tokenizer), TokenizerTextFiles.WriteMerges(tokenizer)), tokenizer);
        Assert.That(tokenizer.Merges, Is.EqualTo(new[] { ("h"u8.ToArray(), "e"u8.ToArray()) }));
        Assert.That(Assert.Throws<BulletFormatException>(() => TokenizerTextFiles.Read("a\n"u8, "a b c\n"u8))!.Message, Does.Contain("line 1"));
    }

    [Test]
    public void VocabTxtRefusesLineBreakTokens()
    {
        var tokenizer = BpeTrainer.Train("a\nb a\nb", new TokenizerTrainingOptions { VocabSize = 64 });
        var error = Assert.Throws<BulletArgumentException>(() => TokenizerTextFiles.WriteVocab(tokenizer));
        Assert.That(error!.Message, Does.Contain("\"\\n\"").And.Contain("tokenizer.json"));
    }

    [Test]
    public void SaveAndLoadChooseTheFormByPath()
    {
        var dir = TestPaths.NewScratch();
        var tokenizer = TrainedOnOneLine();
        tokenizer.Save(Path.Combine(dir, "tok.json"));
        AssertSame(BulletTokenizer.Load(Path.Combine(dir, "tok.json")), tokenizer);

        tokenizer.Save(Path.Combine(dir, "shakes-vocab.txt"));
        Assert.That(File.Exists(Path.Combine(dir, "shakes-merges.txt")));
        AssertSame(BulletTokenizer.Load(Path.Combine(dir, "shakes-vocab.txt")), tokenizer);

        var folder = Path.Combine(dir, "folder") + Path.DirectorySeparatorChar;
        tokenizer.Save(folder);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "merges.txt", "vocab.txt" }));
        AssertSame(BulletTokenizer.Load(folder), tokenizer);

        Assert.That(Assert.Throws<BulletArgumentException>(() => tokenizer.Save(Path.Combine(dir, "x.bullet")))!.Message, Does.Contain("not a .bullet"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => tokenizer.Save(Path.Combine(dir, "x.bin")))!.Message, Does.Contain("*.json"));
        Assert.Throws<FileNotFoundException>(() => BulletTokenizer.Load(Path.Combine(dir, "missing.json")));
        Assert.That(Directory.GetFiles(dir).Where(f => f.EndsWith(".tmp")), Is.Empty);
    }

    [Test]
    public void SameTextAndSettingsGiveByteIdenticalFiles()
    {
        var dir = TestPaths.NewScratch();
        for (var run = 0; run < 2; run++)
        {
            var tokenizer = TrainedOnOneLine();
            tokenizer.Save(Path.Combine(dir, $"run{run}.json"));
            tokenizer.Save(Path.Combine(dir, $"run{run}-vocab.txt"));
            File.WriteAllBytes(Path.Combine(dir, $"run{run}.bulk"), tokenizer.ToBulkBlock());
        }
        foreach (var name in new[] { ".json", "-vocab.txt", "-merges.txt", ".bulk" })
            Assert.That(File.ReadAllBytes(Path.Combine(dir, "run1" + name)), Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, "run0" + name))), name);
    }

    [Test]
    public void LoadsTheTokenizerBlockOfABulletFile()
    {
        var tokenizer = BulletTokenizer.Load(TestPaths.Fixture("reference-597vocab.bullet"));
        Assert.That(tokenizer.VocabSize, Is.EqualTo(597));
        Assert.That(tokenizer.Mode, Is.EqualTo(TokenizerMode.Char));
        Assert.That(Encoding.UTF8.GetString(tokenizer.Tokens[11]), Is.EqualTo("Explain"));
        Assert.That(BulletTokenizer.Load(TestPaths.Fixture("reference-tiny.bullet")).VocabSize, Is.EqualTo(100));

        var dir = TestPaths.NewScratch();
        var broken = File.ReadAllBytes(TestPaths.Fixture("reference-597vocab.bullet"))[..5000];
        File.WriteAllBytes(Path.Combine(dir, "cut.bullet"), broken);
        Assert.That(Assert.Throws<BulletFormatException>(() => BulletTokenizer.Load(Path.Combine(dir, "cut.bullet")))!.Message,
            Does.Contain("cut.bullet").And.Contain("outside the file"));
    }
}
