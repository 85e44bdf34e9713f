using System.Buffers;
using System.Globalization;

namespace BulletNative.Tokenizer;

/// <summary>
/// vocab.txt and merges.txt as the old bullet-builder read them. vocab.txt: one token per line in id order, written
/// "token score"; on reading, the score is what follows the LAST space when it parses as a number (else the whole
/// line is the token and its score is the default), empty lines are skipped and a trailing CR is stripped. So the
/// single-space token is the line "  0" (space, space, score), an empty token is " 0", and a token with spaces stays
/// whole because the score is always written. merges.txt: one "a b" per line (pieces never contain spaces); a first "#version" line is skipped.
/// Lines are bytes, so a token with a line break cannot be written: saving one is a clear error (use tokenizer.json).
/// </summary>
public static class TokenizerTextFiles
{
    /// <summary>The vocab.txt bytes.</summary>
    public static byte[] WriteVocab(BulletTokenizer tokenizer)
    {
        var output = new ArrayBufferWriter<byte>();
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            var token = tokenizer.Tokens[id];
            CheckLine(token, $"token {id}", "vocab.txt");
            output.Write(token);
            output.Write(" "u8);
            output.Write(System.Text.Encoding.ASCII.GetBytes(tokenizer.Scores[id].ToString("R", CultureInfo.InvariantCulture)));
            output.Write("\n"u8);
        }
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The merges.txt bytes.</summary>
    public static byte[] WriteMerges(BulletTokenizer tokenizer)
    {
        var output = new ArrayBufferWriter<byte>();
        for (var m = 0; m < tokenizer.Merges.Count; m++)
        {
            var (a, b) = tokenizer.Merges[m];
            foreach (var side in new[] { a, b })
            {
                CheckLine(side, $"merge {m}", "merges.txt");
                if (side.Length == 0 || side.Contains((byte)' '))
                    throw new BulletArgumentException($"merge {m} has an empty side or a side with a space; merges.txt cannot hold it (use .bullet)");
            }
            output.Write(a);
            output.Write(" "u8);
            output.Write(b);
            output.Write("\n"u8);
        }
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads vocab.txt (and merges.txt when given); missing scores get the default rule's value.</summary>
    public static BulletTokenizer Read(ReadOnlySpan<byte> vocab, ReadOnlySpan<byte> merges)
    {
        var tokens = new List<byte[]>();
        var scores = new List<float?>();
        foreach (var line in Lines(vocab))
        {
            var space = line.LastIndexOf((byte)' ');
            if (space >= 0 && float.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var score))
            {
                tokens.Add(line[..space].ToArray());
                scores.Add(score);
            }
            else
            {
                tokens.Add(line.ToArray());
                scores.Add(null);
            }
        }
        if (tokens.Count == 0) throw new BulletFormatException("vocab.txt holds no tokens");
        var mergeList = new List<(byte[] A, byte[] B)>();
        var number = 0;
        foreach (var line in Lines(merges))
        {
            number++;
            if (number == 1 && line.StartsWith("#version"u8)) continue;
            var space = line.IndexOf((byte)' ');
            if (space < 0 || line.LastIndexOf((byte)' ') != space || space == 0 || space == line.Length - 1)
                throw new BulletFormatException(
                    $"merges.txt line {number}: {TokenizerJson.Quote(System.Text.Encoding.UTF8.GetString(line))} must be two non-empty pieces separated by one space");
            mergeList.Add((line[..space].ToArray(), line[(space + 1)..].ToArray()));
        }
        var defaults = BulletTokenizer.DefaultScores(tokens, mergeList);
        return BulletTokenizer.FromParts(tokens, scores.Select((s, i) => s ?? defaults[i]).ToArray(), mergeList);
    }

    // Non-empty lines, each without its line break (and without a trailing CR); a BOM at the start is skipped.
    private static List<byte[]> Lines(ReadOnlySpan<byte> text)
    {
        text = Utf8Text.SkipBom(text);
        var lines = new List<byte[]>();
        while (!text.IsEmpty)
        {
            var end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            text = end < 0 ? [] : text[(end + 1)..];
            if (line.EndsWith("\r"u8)) line = line[..^1];
            if (!line.IsEmpty) lines.Add(line.ToArray());
        }
        return lines;
    }

    private static void CheckLine(byte[] bytes, string what, string file)
    {
        if (bytes.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') >= 0)
            throw new BulletArgumentException(
                $"{what} ({TokenizerJson.Quote(System.Text.Encoding.UTF8.GetString(bytes))}) holds a line break, which {file} cannot hold; save as tokenizer.json or .bullet instead");
    }
}
