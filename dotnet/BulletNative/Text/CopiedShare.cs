using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Text;

/// <summary>
/// How much of a generated passage is copied from a source text: the share of the passage's n-word sequences
/// (default 8) that occur word for word in the source, words compared as the style metrics compare them
/// (<see cref="TextStatistics.NormalWord"/>: case and surrounding punctuation ignored). The passage's sequences are
/// few, so they are held; the source is streamed, so a large one is never held whole.
/// </summary>
public static class CopiedShare
{
    /// <summary>The sequence length used unless a caller asks for another.</summary>
    public const int DefaultWords = 8;

    /// <summary>What each field means, for a UI tooltip.</summary>
    public const string Definition = "share of the passage's {0}-word sequences that appear word for word in the original " +
        "(case and punctuation around words ignored); longest_copied_words is the longest stretch of the passage found there";

    /// <summary>The copied share of <paramref name="passage"/> against the UTF-8 file at <paramref name="sourcePath"/>.</summary>
    public static JsonObject OfFile(string passage, string sourcePath, int words = DefaultWords)
    {
        if (!File.Exists(sourcePath)) throw new BulletException(NativeStatus.IoError, $"file {sourcePath} does not exist");
        using var reader = new StreamReader(sourcePath, new UTF8Encoding(false, throwOnInvalidBytes: true));
        try
        {
            return Of(passage, reader, words);
        }
        catch (DecoderFallbackException)
        {
            throw new BulletFormatException($"the original {Path.GetFileName(sourcePath)} is not valid UTF-8");
        }
    }

    /// <summary>The copied share of <paramref name="passage"/> against the text read from <paramref name="source"/>.</summary>
    public static JsonObject Of(string passage, TextReader source, int words = DefaultWords)
    {
        if (words is < 2 or > 64) throw new BulletArgumentException($"ngram {words} must be between 2 and 64");
        var passageWords = WordsOf(new StringReader(passage)).ToArray();
        var count = Math.Max(0, passageWords.Length - words + 1);
        // Each sequence of the passage by its text, with the positions where it starts.
        var starts = new Dictionary<string, List<int>>();
        for (var i = 0; i < count; i++)
        {
            var key = string.Join(" ", passageWords, i, words);
            if (!starts.TryGetValue(key, out var list)) starts[key] = list = [];
            list.Add(i);
        }
        var found = new bool[count];
        if (count > 0)
        {
            var window = new Queue<string>(words);
            foreach (var word in WordsOf(source))
            {
                if (window.Count == words) window.Dequeue();
                window.Enqueue(word);
                if (window.Count == words && starts.Remove(string.Join(" ", (IEnumerable<string>)window), out var positions))
                    foreach (var i in positions) found[i] = true;
                if (starts.Count == 0) break;
            }
        }
        var copied = found.Count(f => f);
        return new JsonObject
        {
            ["ngram"] = words,
            ["ngrams"] = count,
            ["copied"] = copied,
            ["share"] = count == 0 ? null : Math.Round((double)copied / count, 4),
            ["longest_copied_words"] = LongestCovered(found, words),
            ["definition"] = string.Format(Definition, words),
        };
    }

    /// <summary>The most consecutive words covered by consecutive copied sequences (0 when none is copied).</summary>
    private static int LongestCovered(bool[] found, int words)
    {
        int longest = 0, run = 0;
        foreach (var f in found)
        {
            run = f ? run + 1 : 0;
            if (run > 0) longest = Math.Max(longest, run + words - 1);
        }
        return longest;
    }

    /// <summary>The normal forms of the words of a text, read in chunks; a word with no letter or digit is skipped.</summary>
    private static IEnumerable<string> WordsOf(TextReader reader)
    {
        var buffer = new char[1 << 16];
        var word = new StringBuilder();
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (!char.IsWhiteSpace(buffer[i])) { word.Append(buffer[i]); continue; }
                if (word.Length == 0) continue;
                var normal = TextStatistics.NormalWord(word.ToString());
                word.Clear();
                if (normal != null) yield return normal;
            }
        }
        if (word.Length > 0 && TextStatistics.NormalWord(word.ToString()) is { } last) yield return last;
    }
}
