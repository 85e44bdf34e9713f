using System.Text;
using BulletNative.Tokenizer;

namespace BulletNative.Tests.Tokenizer;

public class BpeTrainerTests
{
    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Test]
    public void VocabularyIsUnknownSpaceCharactersThenMerges()
    {
        var tokenizer = BpeTrainer.Train("low lower lowest\nlow", new TokenizerTrainingOptions { VocabSize = 64 });
        var tokens = tokenizer.Tokens.Select(Text).ToList();
        Assert.That(tokens.Take(11), Is.EqualTo(new[] { "<unk>", " ", "\n", "e", "l", "o", "r", "s", "t", "w", "lo" }));
        // "low" x3 (one of them "lowest\nlow" holds two), so (l, o) and (o, w) tie at 4: the smaller ids (l=4, o=5) win.
        Assert.That(tokenizer.Merges.Select(m => (Text(m.A), Text(m.B))).First(), Is.EqualTo(("l", "o")));
        Assert.That(tokenizer.Merges[1], Is.EqualTo(("lo"u8.ToArray(), "w"u8.ToArray())));
        Assert.That(tokenizer.Scores.Take(10), Is.All.EqualTo(0f));
        Assert.That(tokenizer.Scores[10], Is.EqualTo(-1f));
        Assert.That(tokenizer.TrainingReport!.StopReason, Is.EqualTo("no pairs left"));
        Assert.That(tokenizer.Encode("lowest"), Has.Length.EqualTo(1));
    }

    [Test]
    public void IncrementalCountsLearnTheSameMergesAsRecountingEverything()
    {
        var random = new Random(99);
        string[] alphabet = ["a", "b", "c", "d", "é", "中", "\n"];
        for (var round = 0; round < 12; round++)
        {
            var text = RandomText.Make(random, alphabet, 3000, spaceRate: 0.15);
            var options = new TokenizerTrainingOptions { VocabSize = 64 + round * 20, MinPairFrequency = 1 + round % 3, MaxAlphabet = round % 4 == 0 ? 5 : null };
            var trained = BpeTrainer.Train(text, options);
            var (tokens, merges) = NaiveTrainer(text, options);
            Assert.That(trained.Tokens.Select(Text), Is.EqualTo(tokens), $"round {round}");
            Assert.That(trained.Merges.Select(m => (Text(m.A), Text(m.B))), Is.EqualTo(merges), $"round {round}");
        }
    }

    // Recounts every pair after every merge: slow, obviously right, same rules (highest count, then smallest ids).
    private static (List<string> Tokens, List<(string, string)> Merges) NaiveTrainer(string text, TokenizerTrainingOptions options)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var counts = words.SelectMany(w => w.EnumerateRunes()).GroupBy(r => r.Value).ToDictionary(g => g.Key, g => g.Count());
        var kept = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Take(options.MaxAlphabet ?? int.MaxValue).Select(c => c.Key).Order();
        var tokens = new List<string> { "<unk>", " " };
        tokens.AddRange(kept.Select(char.ConvertFromUtf32));
        var idOf = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var pieces = words.Select(w => w.EnumerateRunes().Select(r => idOf.GetValueOrDefault(r.ToString(), -1)).ToList()).ToList();
        var merges = new List<(string, string)>();
        while (tokens.Count < options.VocabSize)
        {
            var pairCounts = new Dictionary<(int, int), long>();
            foreach (var word in pieces)
                for (var i = 0; i + 1 < word.Count; i++)
                    if (word[i] >= 0 && word[i + 1] >= 0)
                        pairCounts[(word[i], word[i + 1])] = pairCounts.GetValueOrDefault((word[i], word[i + 1])) + 1;
            if (pairCounts.Count == 0) break;
            var best = pairCounts.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First();
            if (best.Value < options.MinPairFrequency) break;
            var (a, b) = best.Key;
            var joined = tokens[a] + tokens[b];
            if (!idOf.TryGetValue(joined, out var result))
            {
                result = tokens.Count;
                tokens.Add(joined);
                idOf[joined] = result;
            }
            merges.Add((tokens[a], tokens[b]));
            foreach (var word in pieces)
                for (var i = 0; i + 1 < word.Count; i++)
                    if (word[i] == a && word[i + 1] == b)
                    {
                        word[i] = result;
                        word.RemoveAt(i + 1);
                    }
        }
        return (tokens, merges);
    }

    [Test]
    public void SameTextAndSettingsGiveTheSameTokenizer()
    {
        var text = RandomText.Make(new Random(5), RandomText.Mixed, 20_000);
        var options = new TokenizerTrainingOptions { VocabSize = 300 };
        var first = BpeTrainer.Train(text, options);
        var second = BpeTrainer.Train(Encoding.UTF8.GetBytes(text), options);
        Assert.That(second.ToBulkBlock(), Is.EqualTo(first.ToBulkBlock()));
    }

    [Test]
    public void ReachesTheRequestedSizeAndReportsIt()
    {
        var text = RandomText.Make(new Random(6), RandomText.Mixed, 20_000);
        var tokenizer = BpeTrainer.Train(text, new TokenizerTrainingOptions { VocabSize = 500 });
        var report = tokenizer.TrainingReport!;
        Assert.That(tokenizer.VocabSize, Is.EqualTo(500));
        Assert.That(report.VocabSize, Is.EqualTo(500));
        Assert.That(report.StopReason, Is.EqualTo("vocab_size reached"));
        Assert.That(report.AlphabetSize, Is.EqualTo(RandomText.Mixed.Length));
        Assert.That(report.Merges, Is.GreaterThanOrEqualTo(500 - 2 - RandomText.Mixed.Length));
        Assert.That(report.TextBytes, Is.EqualTo(Encoding.UTF8.GetByteCount(text)));
        var json = tokenizer.Describe();
        Assert.That((int)json["vocab_size"]!, Is.EqualTo(500));
        Assert.That((int)json["alphabet_size"]!, Is.EqualTo(RandomText.Mixed.Length));
        Assert.That((string)json["training"]!["stop_reason"]!, Is.EqualTo("vocab_size reached"));
    }

    [Test]
    public void MinimumPairFrequencyStopsEarly()
    {
        var text = "ab ab ab cd cd ef";
        var tokenizer = BpeTrainer.Train(text, new TokenizerTrainingOptions { VocabSize = 64, MinPairFrequency = 2 });
        Assert.That(tokenizer.Merges.Select(m => Text(m.A) + Text(m.B)), Is.EqualTo(new[] { "ab", "cd" }));
        Assert.That(tokenizer.TrainingReport!.StopReason, Is.EqualTo("min_pair_frequency"));
    }

    [Test]
    public void AlphabetCapDropsRareCharactersToUnknownAndReportsThem()
    {
        var text = "aaaa bbbb cccc dd ée 中";
        var tokenizer = BpeTrainer.Train(text, new TokenizerTrainingOptions { VocabSize = 64, MaxAlphabet = 3, Mode = TokenizerMode.Char });
        Assert.That(tokenizer.Tokens.Select(Text), Is.EqualTo(new[] { "<unk>", " ", "a", "b", "c" }));
        var report = tokenizer.TrainingReport!;
        Assert.That(report.DroppedCharacters, Is.EqualTo(4));
        Assert.That(report.DroppedOccurrences, Is.EqualTo(5));
        Assert.That(report.DroppedExamples[0], Is.EqualTo(("d", 2L)));
        Assert.That(tokenizer.Encode("ad中"), Is.EqualTo(new[] { 2, 0, 0 }));
        Assert.That(report.ToJson()["dropped_examples"]![0]!["character"]!.GetValue<string>(), Is.EqualTo("d"));
    }

    [Test]
    public void BadSettingsAreClearErrors()
    {
        Assert.That(Assert.Throws<BulletArgumentException>(() => BpeTrainer.Train("abc", new TokenizerTrainingOptions { VocabSize = 63 }))!.Message,
            Does.Contain("vocab_size 63 must be between 64 and 32000"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => BpeTrainer.Train("abc", new TokenizerTrainingOptions { VocabSize = 32_001 }))!.Message,
            Does.Contain("32001"));
        var manyCharacters = string.Concat(Enumerable.Range(0x4E00, 100).Select(char.ConvertFromUtf32));
        Assert.That(Assert.Throws<BulletArgumentException>(() => BpeTrainer.Train(manyCharacters, new TokenizerTrainingOptions { VocabSize = 64 }))!.Message,
            Does.Contain("100 distinct characters").And.Contain("max_alphabet"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => BpeTrainer.Train("", new TokenizerTrainingOptions()))!.Message, Does.Contain("empty"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => BpeTrainer.Train("   ", new TokenizerTrainingOptions()))!.Message, Does.Contain("only spaces"));
        Assert.That(Assert.Throws<BulletArgumentException>(() => TokenizerTrainingOptions.FromJson(new() { ["vocab_sise"] = 100 }))!.Message,
            Does.Contain("unknown tokenizer option \"vocab_sise\""));
        Assert.That(Assert.Throws<BulletArgumentException>(() => TokenizerTrainingOptions.FromJson(new() { ["mode"] = "word" }))!.Message,
            Does.Contain("\"word\""));
    }

    [Test]
    public void OptionsFromJson()
    {
        var options = TokenizerTrainingOptions.FromJson(new()
        {
            ["vocab_size"] = 128, ["mode"] = "char", ["min_pair_frequency"] = 3, ["max_alphabet"] = 50, ["invalid_utf8"] = "replace",
        });
        Assert.That(options, Is.EqualTo(new TokenizerTrainingOptions
        {
            VocabSize = 128, Mode = TokenizerMode.Char, MinPairFrequency = 3, MaxAlphabet = 50, InvalidUtf8 = InvalidUtf8Handling.Replace,
        }));
    }

    [Test]
    public void TrainsFromAFileWithBomAndCrlfAndReportsReplacements()
    {
        var dir = TestPaths.NewScratch();
        var path = Path.Combine(dir, "text.txt");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "one two\r\nthree "u8, 0xFF, .. " four"u8]);
        var error = Assert.Throws<BulletFormatException>(() => BpeTrainer.TrainFile(path, new TokenizerTrainingOptions { VocabSize = 64 }));
        Assert.That(error!.Message, Does.Contain("offset 18").And.Contain("0xFF").And.Contain(path));

        var tokenizer = BpeTrainer.TrainFile(path, new TokenizerTrainingOptions { VocabSize = 64, InvalidUtf8 = InvalidUtf8Handling.Replace });
        Assert.That(tokenizer.TrainingReport!.BomSkipped, Is.True);
        Assert.That(tokenizer.TrainingReport.ReplacedInvalidSequences, Is.EqualTo(1));
        Assert.That(tokenizer.Tokens.Select(Text), Does.Contain("\r").And.Contain("\n").And.Contain("\uFFFD").And.No.Contain("\uFEFF"));
        Assert.That(tokenizer.Decode(tokenizer.Encode("one two\r\nthree")), Is.EqualTo("one two\r\nthree"));
    }
}
