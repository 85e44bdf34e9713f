using System.Buffers;
using System.Text;

namespace BulletNative.Tokenizer;

/// <summary>How invalid UTF-8 in input text is treated.</summary>
public enum InvalidUtf8Handling
{
    /// <summary>Reject the text, naming the byte offset of the first bad byte.</summary>
    Error,
    /// <summary>Replace each maximal invalid sequence with U+FFFD and report how many were replaced.</summary>
    Replace,
}

/// <summary>The result of preparing input text: its UTF-8 bytes and what was done to get them.</summary>
public readonly record struct Utf8Input(byte[] Bytes, bool BomSkipped, int ReplacedSequences);

/// <summary>Strict UTF-8 input: a leading BOM is skipped, invalid bytes are an error with their offset (or replaced, when asked).</summary>
public static class Utf8Text
{
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];
    private static ReadOnlySpan<byte> ReplacementCharacter => [0xEF, 0xBF, 0xBD];

    /// <summary>The bytes after a leading UTF-8 BOM (all of them when there is none).</summary>
    public static ReadOnlySpan<byte> SkipBom(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Bom) ? bytes[Bom.Length..] : bytes;

    /// <summary>Strict UTF-8 encoding of .NET strings: a lone surrogate is an error, not a silent U+FFFD.</summary>
    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a text file: skips a BOM, keeps CRLF as is, and validates (or repairs) the UTF-8.</summary>
    public static Utf8Input ReadFile(string path, InvalidUtf8Handling handling) =>
        Prepare(File.ReadAllBytes(path), handling, $"file {path}");

    /// <summary>Skips a leading BOM and validates (or repairs) the rest; offsets in errors count from the first byte given.</summary>
    public static Utf8Input Prepare(ReadOnlySpan<byte> bytes, InvalidUtf8Handling handling, string what)
    {
        var bom = bytes.StartsWith(Bom);
        var body = bom ? bytes[Bom.Length..] : bytes;
        var bad = FirstInvalidOffset(body);
        if (bad < 0) return new Utf8Input(body.ToArray(), bom, 0);
        if (handling == InvalidUtf8Handling.Error)
            throw InvalidError(body, bad, bom ? Bom.Length : 0, what);
        var repaired = ReplaceInvalid(body, out var replaced);
        return new Utf8Input(repaired, bom, replaced);
    }

    /// <summary>Throws a BulletFormatException naming the first invalid byte when <paramref name="bytes"/> is not valid UTF-8.</summary>
    public static void Validate(ReadOnlySpan<byte> bytes, string what)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return;
        throw InvalidError(bytes, FirstInvalidOffset(bytes), 0, what);
    }

    /// <summary>The offset of the first byte that starts an invalid sequence, or -1 when all of it is valid UTF-8.</summary>
    public static int FirstInvalidOffset(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        var offset = 0;
        while (offset < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed);
            if (status != OperationStatus.Done) return offset;
            offset += consumed;
        }
        return -1;
    }

    /// <summary>Decodes UTF-8 that is known to be valid, or throws naming the bad offset.</summary>
    public static string DecodeStrict(ReadOnlySpan<byte> bytes, string what)
    {
        Validate(bytes, what);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Encodes a .NET string as UTF-8, rejecting lone surrogates with a clear error.</summary>
    public static byte[] EncodeStrict(string text, string what)
    {
        try
        {
            return Strict.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new BulletArgumentException($"{what} contains a lone UTF-16 surrogate at character {e.Index}; it has no UTF-8 form");
        }
    }

    private static byte[] ReplaceInvalid(ReadOnlySpan<byte> bytes, out int replaced)
    {
        var output = new ArrayBufferWriter<byte>(bytes.Length + 16);
        replaced = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed);
            if (status == OperationStatus.Done) output.Write(bytes.Slice(offset, consumed));
            else
            {
                output.Write(ReplacementCharacter);
                replaced++;
            }
            offset += consumed;
        }
        return output.WrittenSpan.ToArray();
    }

    private static BulletFormatException InvalidError(ReadOnlySpan<byte> bytes, int offset, int baseOffset, string what) =>
        new($"{what} is not valid UTF-8: byte 0x{bytes[offset]:X2} at offset {offset + baseOffset} does not start a valid character " +
            "(save the text as UTF-8, or train with invalid_utf8 \"replace\" to substitute U+FFFD)");
}
