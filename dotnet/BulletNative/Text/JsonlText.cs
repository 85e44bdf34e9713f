using System.Buffers;
using System.Text;
using System.Text.Json;

namespace BulletNative.Text;

/// <summary>
/// JSON Lines to text: one JSON object with a "text" string per line, the texts joined by blank lines. Blank lines are
/// skipped; any other line that is not such an object fails with its line number. Reads line by line, holding at most
/// one line (up to a limit) and one text value.
/// </summary>
internal static class JsonlText
{
    private const int ChunkBytes = 1 << 16;

    /// <summary>Converts the JSON Lines in <paramref name="source"/> into <paramref name="sink"/>; returns the number of records.</summary>
    public static long Convert(Stream source, TextSink sink, long maxLineBytes)
    {
        var line = new ArrayBufferWriter<byte>(ChunkBytes);
        var chunk = new byte[ChunkBytes];
        long number = 0, records = 0;
        int read;
        while ((read = source.Read(chunk, 0, chunk.Length)) > 0)
        {
            var rest = chunk.AsSpan(0, read);
            int newline;
            while ((newline = rest.IndexOf((byte)'\n')) >= 0)
            {
                Append(line, rest[..newline], number + 1, maxLineBytes);
                records += Record(line.WrittenSpan, ++number, records, sink);
                line.ResetWrittenCount();
                rest = rest[(newline + 1)..];
            }
            Append(line, rest, number + 1, maxLineBytes);
        }
        if (line.WrittenCount > 0) records += Record(line.WrittenSpan, ++number, records, sink);
        if (records == 0) throw new BulletFormatException("the .jsonl file has no records");
        return records;
    }

    private static void Append(ArrayBufferWriter<byte> line, ReadOnlySpan<byte> bytes, long number, long maxLineBytes)
    {
        if (line.WrittenCount + bytes.Length > maxLineBytes)
            throw new BulletFormatException($"line {number} of the .jsonl file is longer than the limit of {maxLineBytes:N0} bytes");
        line.Write(bytes);
    }

    /// <summary>Writes one line's text (after a blank line when it is not the first record); 1 for a record, 0 for a blank line.</summary>
    private static int Record(ReadOnlySpan<byte> line, long number, long recordsBefore, TextSink sink)
    {
        if (number == 1 && line.StartsWith("\uFEFF"u8)) line = line[3..];
        if (line.EndsWith("\r"u8)) line = line[..^1];
        if (line.Trim(" \t\r"u8).IsEmpty) return 0;
        var invalid = FirstInvalidUtf8(line);
        if (invalid >= 0)
            throw new BulletFormatException($"line {number} of the .jsonl file is not UTF-8 text (invalid byte at position {invalid + 1} of the line)");
        var text = TextField(line, number);
        if (recordsBefore > 0) sink.WriteUtf8("\n\n"u8);
        sink.WriteUtf8(text.Span);
        return 1;
    }

    /// <summary>The UTF-8 value of the line's top-level "text" field (the last one, as JSON parsers usually keep).</summary>
    private static ReadOnlyMemory<byte> TextField(ReadOnlySpan<byte> line, long number)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 64 });
        ReadOnlyMemory<byte>? text = null;
        var isObject = false;
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.StartObject) isObject = true;
                if (reader.CurrentDepth != 1 || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("text"u8)) continue;
                reader.Read();
                // Not a conditional expression: null would convert to an empty ReadOnlyMemory through byte[].
                if (reader.TokenType == JsonTokenType.String) text = CopyString(ref reader, number);
                else text = null;
            }
        }
        catch (JsonException e)
        {
            throw new BulletFormatException($"line {number} of the .jsonl file is not valid JSON: {Describe(e)}");
        }
        if (isObject && text is { } found) return found;
        throw new BulletFormatException($"line {number} of the .jsonl file must be an object with a \"text\" string field");
    }

    private static ReadOnlyMemory<byte> CopyString(ref Utf8JsonReader reader, long number)
    {
        if (!reader.ValueIsEscaped) return reader.ValueSpan.ToArray();
        // Unescaping never makes a string longer, so the raw length is enough room.
        var bytes = new byte[reader.ValueSpan.Length];
        try
        {
            return bytes.AsMemory(0, reader.CopyString(bytes));
        }
        catch (InvalidOperationException)
        {
            throw new BulletFormatException($"line {number} of the .jsonl file has a \"text\" with an invalid \\u escape (a lone surrogate)");
        }
    }

    /// <summary>The parser's message without its zero-based position suffix, with a one-based position instead.</summary>
    private static string Describe(JsonException e)
    {
        var message = e.Message;
        var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (suffix >= 0) message = message[..suffix];
        message = message.TrimEnd('.', ' ');
        return e.BytePositionInLine is { } position ? $"{message} (at position {position + 1} of the line)" : message;
    }

    /// <summary>The index of the first byte that does not start a valid UTF-8 sequence, or -1.</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        var index = 0;
        while (index < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[index..], out _, out var consumed) != OperationStatus.Done) return index;
            index += consumed;
        }
        return -1;
    }
}
