using System.Text;

namespace BulletNative.Text;

/// <summary>
/// Where a converter writes its text: UTF-8 into a stream, counting bytes, characters (code points) and lines, and
/// refusing to grow past a byte limit so a small document that expands enormously fails instead of filling the disk.
/// </summary>
internal sealed class TextSink(Stream output, long maxBytes)
{
    private readonly Encoder _encoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetEncoder();
    private readonly byte[] _buffer = new byte[1 << 16];
    private char _last;
    private long _newlines;

    /// <summary>UTF-8 bytes written so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Characters written so far (a surrogate pair counts once).</summary>
    public long Characters { get; private set; }

    /// <summary>Lines as TextStatistics counts them: newlines, plus one for a last line without a newline.</summary>
    public long Lines => _newlines + (Characters > 0 && _last != '\n' ? 1 : 0);

    /// <summary>Writes one character.</summary>
    public void Write(char c) => Write([c]);

    /// <summary>Writes UTF-16 text; a surrogate pair may be split across calls.</summary>
    public void Write(ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty) return;
        foreach (var c in chars)
        {
            if (!char.IsLowSurrogate(c)) Characters++;
            if (c == '\n') _newlines++;
        }
        _last = chars[^1];
        while (!chars.IsEmpty)
        {
            _encoder.Convert(chars, _buffer, flush: false, out var used, out var produced, out _);
            Emit(_buffer.AsSpan(0, produced));
            chars = chars[used..];
        }
    }

    /// <summary>Writes text that is already valid UTF-8.</summary>
    public void WriteUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return;
        foreach (var b in utf8)
        {
            if ((b & 0xC0) != 0x80) Characters++;
            if (b == (byte)'\n') _newlines++;
        }
        _last = (char)utf8[^1]; // only compared with '\n', which never ends a multi-byte sequence
        Emit(utf8);
    }

    /// <summary>Writes out a surrogate half still held by the encoder (there is none after well-formed text).</summary>
    public void Finish()
    {
        _encoder.Convert(ReadOnlySpan<char>.Empty, _buffer, flush: true, out _, out var produced, out _);
        Emit(_buffer.AsSpan(0, produced));
        output.Flush();
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        Bytes += bytes.Length;
        if (Bytes > maxBytes)
            throw new BulletFormatException($"the converted text is larger than the limit of {maxBytes:N0} bytes");
        output.Write(bytes);
    }
}
