using System.Diagnostics;
using System.Text;

namespace BulletNative.Tokenizer;

/// <summary>
/// Trains a .bullet tokenizer: id 0 "&lt;unk&gt;", id 1 " ", then every character of the text in code point order,
/// then merge results. Merges are learned inside words (runs of non-space bytes, as docs/format.md (Tokenizer block) splits
/// them), by pair frequency, highest first; ties go to the pair whose left id, then right id, is smallest.
/// Pair counts are kept up to date incrementally: a merge touches only the words that contain its pair.
/// </summary>
public static class BpeTrainer
{
    private const int MaxDroppedExamples = 20;

    /// <summary>Trains on a text file (UTF-8, BOM skipped, CRLF kept).</summary>
    public static BulletTokenizer TrainFile(string path, TokenizerTrainingOptions options)
    {
        options.Validate();
        return Train(Utf8Text.ReadFile(path, options.InvalidUtf8), options);
    }

    /// <summary>Trains on UTF-8 text (a leading BOM is skipped and reported).</summary>
    public static BulletTokenizer Train(ReadOnlySpan<byte> utf8, TokenizerTrainingOptions options)
    {
        options.Validate();
        return Train(Utf8Text.Prepare(utf8, options.InvalidUtf8, "training text"), options);
    }

    /// <summary>Trains on a string.</summary>
    public static BulletTokenizer Train(string text, TokenizerTrainingOptions options) =>
        Train(Utf8Text.EncodeStrict(text, "training text"), options);

    private static BulletTokenizer Train(Utf8Input input, TokenizerTrainingOptions options)
    {
        var clock = Stopwatch.StartNew();
        var text = input.Bytes;
        if (text.Length == 0) throw new BulletArgumentException("the training text is empty");

        var (wordCounts, totalWords) = CountWords(text);
        var characterCounts = CountCharacters(wordCounts);
        if (characterCounts.Count == 0) throw new BulletArgumentException("the training text holds only spaces; there is nothing to learn");

        // Keep the most frequent characters when capped (ties: lower code point), then order the kept ones by code point.
        var ranked = characterCounts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).ToList();
        var keep = options.MaxAlphabet is int cap && cap < ranked.Count ? cap : ranked.Count;
        var alphabet = ranked.Take(keep).Select(c => c.Key).Order().ToList();
        var dropped = ranked.Skip(keep).ToList();

        var tokens = new List<byte[]> { Encoding.UTF8.GetBytes(BulletTokenizer.UnknownToken), " "u8.ToArray() };
        tokens.AddRange(alphabet.Select(cp => Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp))));
        if (tokens.Count > options.VocabSize)
            throw new BulletArgumentException(
                $"vocab_size {options.VocabSize} is smaller than the {tokens.Count} tokens the text needs before any merge " +
                $"(<unk>, \" \" and {alphabet.Count} distinct characters); raise vocab_size or set max_alphabet to at most {options.VocabSize - 2}");

        var merges = new List<(int A, int B)>();
        var stopReason = "characters only";
        if (options.Mode == TokenizerMode.Bpe)
        {
            var idOfCharacter = new Dictionary<int, int>(alphabet.Count);
            for (var i = 0; i < alphabet.Count; i++) idOfCharacter[alphabet[i]] = i + 2;
            var learner = new MergeLearner(wordCounts, idOfCharacter, tokens);
            stopReason = learner.Learn(options.VocabSize, options.MinPairFrequency, merges);
        }

        var mergeBytes = merges.Select(m => (tokens[m.A], tokens[m.B])).ToList();
        var report = new TokenizerTrainingReport
        {
            Mode = options.Mode,
            RequestedVocabSize = options.VocabSize,
            VocabSize = tokens.Count,
            Merges = merges.Count,
            AlphabetSize = alphabet.Count,
            DroppedCharacters = dropped.Count,
            DroppedOccurrences = dropped.Sum(c => c.Value),
            DroppedExamples = dropped.Take(MaxDroppedExamples).Select(c => (char.ConvertFromUtf32(c.Key), c.Value)).ToList(),
            MinPairFrequency = options.MinPairFrequency,
            MaxAlphabet = options.MaxAlphabet,
            StopReason = stopReason,
            TextBytes = text.Length,
            Words = totalWords,
            DistinctWords = wordCounts.Count,
            BomSkipped = input.BomSkipped,
            ReplacedInvalidSequences = input.ReplacedSequences,
            Seconds = clock.Elapsed.TotalSeconds,
        };
        return BulletTokenizer.FromParts(tokens, BulletTokenizer.DefaultScores(tokens, mergeBytes), mergeBytes, report);
    }

    private static (Dictionary<byte[], long> Counts, long Total) CountWords(byte[] text)
    {
        var counts = new Dictionary<byte[], long>(ByteStringComparer.Instance);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<byte>>();
        long total = 0;
        foreach (var word in new WordPieces(text))
        {
            if (WordPieces.IsSpace(word)) continue;
            if (lookup.TryGetValue(word, out var n)) lookup[word] = n + 1;
            else lookup[word] = 1;
            total++;
        }
        return (counts, total);
    }

    private static Dictionary<int, long> CountCharacters(Dictionary<byte[], long> wordCounts)
    {
        var counts = new Dictionary<int, long>();
        foreach (var (word, n) in wordCounts)
            foreach (var rune in Encoding.UTF8.GetString(word).EnumerateRunes())
                counts[rune.Value] = counts.GetValueOrDefault(rune.Value) + n;
        return counts;
    }

    /// <summary>The merge loop over distinct words, with pair counts, the words holding each pair, and a lazy max-heap.</summary>
    private sealed class MergeLearner
    {
        private const int NotInVocabulary = -1;

        private readonly int[][] _words;      // symbols (token ids; -1 for a dropped character) of each distinct word
        private readonly int[] _lengths;      // live symbols of each word
        private readonly long[] _frequency;
        private readonly int[] _visited;
        private readonly List<byte[]> _tokens;
        private readonly Dictionary<byte[], int> _tokenIds = new(ByteStringComparer.Instance);
        private readonly Dictionary<long, long> _pairCounts = new(PairKeyComparer.Instance);
        private readonly Dictionary<long, List<int>> _wordsWithPair = new(PairKeyComparer.Instance);
        private readonly PriorityQueue<long, (long Count, long Key)> _heap = new(HeapOrder.Instance);
        private readonly Dictionary<long, long> _delta = new(PairKeyComparer.Instance);
        private readonly List<int> _produced = [];
        private readonly HashSet<long> _tooLong = new(PairKeyComparer.Instance);
        private int _stamp;

        /// <summary>A learner over the words of <paramref name="wordCounts"/> as character ids (<paramref name="idOfCharacter"/>); learned merges append their tokens to <paramref name="tokens"/>.</summary>
        public MergeLearner(Dictionary<byte[], long> wordCounts, Dictionary<int, int> idOfCharacter, List<byte[]> tokens)
        {
            _tokens = tokens;
            for (var id = 0; id < tokens.Count; id++) _tokenIds.TryAdd(tokens[id], id);
            var words = new List<int[]>();
            var frequency = new List<long>();
            foreach (var (bytes, n) in wordCounts)
            {
                var word = Encoding.UTF8.GetString(bytes).EnumerateRunes()
                    .Select(r => idOfCharacter.GetValueOrDefault(r.Value, NotInVocabulary)).ToArray();
                if (word.Length < 2) continue; // a single character has no pair
                words.Add(word);
                frequency.Add(n);
            }
            _words = [.. words];
            _frequency = [.. frequency];
            _lengths = _words.Select(w => w.Length).ToArray();
            _visited = new int[_words.Length];
            for (var w = 0; w < _words.Length; w++)
            {
                var word = _words[w];
                for (var i = 0; i + 1 < word.Length; i++)
                {
                    if (!Countable(word[i], word[i + 1])) continue;
                    var key = Key(word[i], word[i + 1]);
                    _pairCounts[key] = _pairCounts.GetValueOrDefault(key) + _frequency[w];
                    AddWord(key, w);
                }
            }
            foreach (var (key, count) in _pairCounts) _heap.Enqueue(key, (count, key));
        }

        /// <summary>Learns merges until the vocabulary reaches <paramref name="vocabSize"/>; returns why it stopped.</summary>
        public string Learn(int vocabSize, long minPairFrequency, List<(int A, int B)> merges)
        {
            while (_tokens.Count < vocabSize)
            {
                if (!TryPopBest(out var key, out var count)) return "no pairs left";
                if (count < minPairFrequency) return "min_pair_frequency";
                var (a, b) = ((int)(key >> 32), (int)key);
                byte[] joined = [.. _tokens[a], .. _tokens[b]];
                if (joined.Length > BulletTokenizer.MaxTokenBytes)
                {
                    _tooLong.Add(key);
                    continue;
                }
                // Two merges can make the same bytes (("ab","c") and ("a","bc")): the vocabulary keeps one token.
                if (!_tokenIds.TryGetValue(joined, out var result))
                {
                    result = _tokens.Count;
                    _tokens.Add(joined);
                    _tokenIds[joined] = result;
                }
                merges.Add((a, b));
                ApplyMerge(key, a, b, result);
            }
            return "vocab_size reached";
        }

        private bool TryPopBest(out long key, out long count)
        {
            while (_heap.TryDequeue(out key, out var entry))
            {
                count = entry.Count;
                if (!_tooLong.Contains(key) && _pairCounts.TryGetValue(key, out var current) && current == count) return true;
            }
            key = count = 0;
            return false;
        }

        private void ApplyMerge(long key, int a, int b, int result)
        {
            if (!_wordsWithPair.Remove(key, out var holders)) return;
            _stamp++;
            _delta.Clear();
            foreach (var w in holders)
            {
                if (_visited[w] == _stamp) continue;
                _visited[w] = _stamp;
                MergeInWord(w, a, b, result);
            }
            foreach (var (pair, change) in _delta)
            {
                if (change == 0) continue;
                var updated = _pairCounts.GetValueOrDefault(pair) + change;
                if (updated == 0) _pairCounts.Remove(pair);
                else
                {
                    _pairCounts[pair] = updated;
                    _heap.Enqueue(pair, (updated, pair));
                }
            }
        }

        // One left-to-right, non-overlapping pass of merge (a, b) over word w: the same pass encoding makes. Only the
        // pairs touching a joined position change, so only those are counted down (old) and up (new): a long word
        // costs one scan per merge, not a recount.
        private void MergeInWord(int w, int a, int b, int result)
        {
            var word = _words[w];
            var n = _lengths[w];
            var freq = _frequency[w];
            var produced = _produced;
            produced.Clear();
            var span = word.AsSpan(0, n);
            var kept = 0;
            var previousEnd = -2; // old index of the right side of the previous join
            for (var i = 0; ;)
            {
                var found = FindPair(span, i, a, b);
                var copyEnd = found < 0 ? n : found;
                if (kept != i) span[i..copyEnd].CopyTo(span[kept..]);
                kept += copyEnd - i;
                if (found < 0) break;
                // word[found - 1] still holds its old value: the copies so far wrote below it, or wrote nothing.
                if (found > 0 && previousEnd != found - 1) Change(word[found - 1], a, -freq);
                Change(a, b, -freq);
                if (found + 2 < n) Change(b, word[found + 2], -freq); // for back-to-back joins this is the pair between them, once
                previousEnd = found + 1;
                produced.Add(kept);
                word[kept++] = result;
                i = found + 2;
            }
            if (produced.Count == 0) return; // the word lost this pair to an earlier merge
            _lengths[w] = kept;
            for (var j = 0; j < produced.Count; j++)
            {
                var k = produced[j];
                if (k > 0) Change(word[k - 1], result, freq, w);
                var nextIsJoinedToo = j + 1 < produced.Count && produced[j + 1] == k + 1; // then that join counts the pair
                if (k + 1 < kept && !nextIsJoinedToo) Change(result, word[k + 1], freq, w);
            }
        }

        // The first index at or after start where (a, b) stands, or -1; IndexOf is vectorised, which matters for long words.
        private static int FindPair(ReadOnlySpan<int> word, int start, int a, int b)
        {
            for (var j = start; j < word.Length - 1; j++)
            {
                var offset = word[j..^1].IndexOf(a);
                if (offset < 0) return -1;
                j += offset;
                if (word[j + 1] == b) return j;
            }
            return -1;
        }

        private void Change(int left, int right, long amount, int newInWord = -1)
        {
            if (!Countable(left, right)) return;
            var pair = Key(left, right);
            _delta[pair] = _delta.GetValueOrDefault(pair) + amount;
            if (newInWord >= 0) AddWord(pair, newInWord);
        }

        private void AddWord(long pair, int w)
        {
            if (!_wordsWithPair.TryGetValue(pair, out var list)) _wordsWithPair[pair] = list = [];
            if (list.Count == 0 || list[^1] != w) list.Add(w);
        }

        private static bool Countable(int left, int right) => left != NotInVocabulary && right != NotInVocabulary;

        private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
    }

    /// <summary>Heap order: higher count first; among equal counts, the smaller (left id, right id) first.</summary>
    private sealed class HeapOrder : IComparer<(long Count, long Key)>
    {
        public static readonly HeapOrder Instance = new();

        public int Compare((long Count, long Key) x, (long Count, long Key) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Key.CompareTo(y.Key);
    }
}
