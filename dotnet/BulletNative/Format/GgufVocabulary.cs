using System.Text;

namespace BulletNative.Format;

/// <summary>
/// GPT-2's byte-to-unicode alphabet, which llama.cpp's "gpt2" tokenizer model requires for tokens and merges.
/// The published mapping (GPT-2's encoder.py, bytes_to_unicode): the printable bytes '!'..'~', '¡'..'¬' and '®'..'ÿ'
/// stand for themselves; every other byte, in increasing order, becomes the code point 256, 257, ... (so space is
/// U+0120 'Ġ' and newline U+010A 'Ċ'). Every byte string thereby becomes a string without spaces or control characters.
/// </summary>
public static class GgufVocabulary
{
    private static readonly char[] s_byteToChar = BuildTable();

    /// <summary>The character byte <paramref name="b"/> stands for.</summary>
    public static char CharOf(byte b) => s_byteToChar[b];

    /// <summary>A token's bytes spelled in the GPT-2 alphabet, one character per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(s_byteToChar[b]);
        return sb.ToString();
    }

    /// <summary>Inverse of <see cref="Encode"/>; a character outside the alphabet is an error.</summary>
    public static byte[] Decode(string text)
    {
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var index = Array.IndexOf(s_byteToChar, text[i]);
            if (index < 0) throw new BulletFormatException($"character U+{(int)text[i]:X4} is not in the GPT-2 byte alphabet");
            bytes[i] = (byte)index;
        }
        return bytes;
    }

    private static char[] BuildTable()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++) table[b] = Printable(b) ? (char)b : (char)next++;
        return table;
    }
}
