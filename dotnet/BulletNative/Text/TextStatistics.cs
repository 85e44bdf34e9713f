using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Text;

/// <summary>
/// Counts and style metrics of a UTF-8 text, read as a stream so a large upload is never held whole. Rejects
/// what is not text (invalid UTF-8, NUL or many control characters) with a message saying where.
/// </summary>
public static class TextStatistics
{
    /// <summary>What each style metric means, for a UI tooltip; the numbers below follow these definitions exactly.</summary>
    public static readonly IReadOnlyDictionary<string, string> Definitions = new Dictionary<string, string>
    {
        ["avg_sentence_length"] = "words per sentence; a sentence ends at . ! or ? (a run such as ?! counts once) or at the end of the text",
        ["type_token_ratio"] = "distinct words / words, words lower-cased with surrounding punctuation removed (vocabulary richness)",
        ["avg_word_length"] = "letters and digits per word",
        ["punctuation_rate"] = "punctuation marks per word",
        ["formality"] = "100 x (1 - informal markers / words), at least 0; informal markers are contractions, first and second person pronouns, interjections and exclamation marks",
    };

    private static readonly HashSet<string> s_informalWords =
    [
        "i", "me", "my", "mine", "you", "your", "yours", "we", "us", "our", "ours",
        "oh", "hey", "wow", "yeah", "yes", "ok", "okay", "hi", "hello", "ah", "um", "uh", "gonna", "wanna",
    ];

    /// <summary>How many of the most frequent sentence openers the statistics list.</summary>
    public const int OpenerCount = 5;

    /// <summary>A word as the metrics compare words: lower-cased, punctuation around it removed; null when nothing is left.</summary>
    public static string? NormalWord(ReadOnlySpan<char> raw)
    {
        var word = Trimmed(raw);
        return word.IsEmpty ? null : word.ToString().ToLowerInvariant();
    }

    /// <summary>The word without the punctuation around it ("(Yes," is "Yes").</summary>
    private static ReadOnlySpan<char> Trimmed(ReadOnlySpan<char> raw)
    {
        var start = 0;
        var end = raw.Length;
        while (start < end && !char.IsLetterOrDigit(raw[start])) start++;
        while (end > start && !char.IsLetterOrDigit(raw[end - 1])) end--;
        return raw[start..end];
    }

    /// <summary>Statistics of the file at <paramref name="path"/>.</summary>
    public static JsonObject OfFile(string path, int previewChars)
    {
        if (!File.Exists(path)) throw new BulletException(NativeStatus.IoError, $"file {path} does not exist");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Compute(stream, previewChars);
    }

    /// <summary>Statistics of <paramref name="text"/>.</summary>
    public static JsonObject OfText(string text, int previewChars) =>
        Compute(new MemoryStream(Encoding.UTF8.GetBytes(text)), previewChars);

    private static JsonObject Compute(Stream stream, int previewChars)
    {
        var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
        var bytes = new byte[1 << 16];
        var chars = new char[bytes.Length + 1];
        var counter = new Counter(previewChars);
        long offset = 0;
        int read;
        do
        {
            read = stream.Read(bytes, 0, bytes.Length);
            // NUL never occurs in text; checking bytes first names binary files as such rather than as bad UTF-8.
            var nul = bytes.AsSpan(0, read).IndexOf((byte)0);
            if (nul >= 0) throw new BulletFormatException($"the file looks binary: it contains a NUL byte at offset {offset + nul}");
            int count;
            try
            {
                count = decoder.GetChars(bytes, 0, read, chars, 0, flush: read == 0);
            }
            catch (DecoderFallbackException e)
            {
                throw new BulletFormatException($"the text is not valid UTF-8 (bad byte near offset {offset + Math.Max(0, e.Index)})");
            }
            counter.Add(chars.AsSpan(0, count));
            offset += read;
        } while (read > 0);
        if (counter.Characters == 0) throw new BulletFormatException("the text is empty");
        return counter.Result(offset);
    }

    /// <summary>A one-pass state machine over characters; surrogate pairs count as one character.</summary>
    private sealed class Counter(int previewChars)
    {
        private readonly StringBuilder _preview = new();
        private readonly HashSet<int> _distinct = [];
        private readonly HashSet<string> _wordTypes = [];
        private readonly StringBuilder _word = new();
        // First words of sentences: how often each (normal form) opens one, and how it was first written.
        private readonly Dictionary<string, (long Count, long First, string Written)> _openers = [];
        private char _highSurrogate;
        private bool _inWord, _sentenceHasWords, _lastWasTerminator, _wordOpensSentence;
        private long _controls, _lines, _words, _wordLetters, _lexicalWords, _sentences, _punctuation, _informal;
        private char _last;

        /// <summary>Characters counted so far; a surrogate pair counts as one.</summary>
        public long Characters { get; private set; }

        /// <summary>Counts <paramref name="text"/>, the next piece of the stream (a surrogate pair may be split between pieces).</summary>
        public void Add(ReadOnlySpan<char> text)
        {
            foreach (var c in text)
            {
                if (char.IsHighSurrogate(c)) { _highSurrogate = c; continue; }
                var codePoint = char.IsLowSurrogate(c) && _highSurrogate != 0 ? char.ConvertToUtf32(_highSurrogate, c) : c;
                _highSurrogate = '\0';
                Characters++;
                if (_preview.Length < previewChars) _preview.Append(codePoint is >= 0xD800 and <= 0xDFFF ? "\uFFFD" : char.ConvertFromUtf32(codePoint));
                _distinct.Add(codePoint);
                if (char.IsControl(c) && c is not ('\n' or '\r' or '\t' or '\f') && ++_controls > 32 && _controls * 100 > Characters)
                    throw new BulletFormatException($"the text looks binary: {_controls} control characters in its first {Characters} characters");
                if (c == '\n') _lines++;
                _last = c;
                Step(c);
            }
        }

        private void Step(char c)
        {
            if (char.IsWhiteSpace(c)) { EndWord(); return; }
            if (!_inWord) { _inWord = true; _words++; _wordOpensSentence = !_sentenceHasWords; _sentenceHasWords = true; }
            _word.Append(c);
            if (c is '.' or '!' or '?')
            {
                if (!_lastWasTerminator && _sentenceHasWords) _sentences++;
                _lastWasTerminator = true;
                _sentenceHasWords = false;
            }
            else _lastWasTerminator = false;
            if (c == '!') _informal++;
            if (char.IsPunctuation(c)) _punctuation++;
        }

        private void EndWord()
        {
            _lastWasTerminator = false;
            if (!_inWord) return;
            _inWord = false;
            var raw = _word.ToString();
            _word.Clear();
            var word = NormalWord(raw);
            if (word is null) return;
            if (_wordOpensSentence)
            {
                var seen = _openers.TryGetValue(word, out var o) ? o : (0, _openers.Count, Trimmed(raw).ToString());
                _openers[word] = (seen.Count + 1, seen.First, seen.Written);
            }
            _lexicalWords++;
            foreach (var ch in word) if (char.IsLetterOrDigit(ch)) _wordLetters++;
            _wordTypes.Add(word);
            if (word.Contains('\'') || word.Contains('\u2019') || s_informalWords.Contains(word)) _informal++;
        }

        /// <summary>Ends the last word and sentence and returns the statistics, with <paramref name="bytes"/> as the byte count.</summary>
        public JsonObject Result(long bytes)
        {
            EndWord();
            var sentences = _sentences + (_sentenceHasWords ? 1 : 0);
            var lines = _lines + (_last != '\n' ? 1 : 0);
            double Ratio(double a, double b) => b == 0 ? 0 : Math.Round(a / b, 4);
            var definitions = new JsonObject();
            foreach (var (key, value) in Definitions) definitions[key] = value;
            return new JsonObject
            {
                ["bytes"] = bytes,
                ["characters"] = Characters,
                ["words"] = _words,
                ["lines"] = lines,
                ["distinct_characters"] = _distinct.Count,
                ["sentences"] = sentences,
                ["preview"] = _preview.ToString(),
                ["sentence_openers"] = new JsonArray(_openers.Values.OrderByDescending(o => o.Count).ThenBy(o => o.First)
                    .Take(OpenerCount).Select(o => (JsonNode)o.Written).ToArray()),
                ["style"] = new JsonObject
                {
                    ["avg_sentence_length"] = Ratio(_words, sentences),
                    ["type_token_ratio"] = Ratio(_wordTypes.Count, _lexicalWords),
                    ["avg_word_length"] = Ratio(_wordLetters, _lexicalWords),
                    ["punctuation_rate"] = Ratio(_punctuation, _words),
                    ["formality"] = _lexicalWords == 0 ? 0 : Math.Round(Math.Max(0, 100 * (1 - (double)_informal / _lexicalWords)), 2),
                },
                ["definitions"] = definitions,
            };
        }
    }
}
