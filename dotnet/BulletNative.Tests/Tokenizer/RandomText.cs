using System.Text;

namespace BulletNative.Tests.Tokenizer;

/// <summary>Seeded random texts for property tests: multi-byte characters, runs of spaces, newlines, CRLF.</summary>
internal static class RandomText
{
    /// <summary>Characters of 1, 2, 3 and 4 UTF-8 bytes, plus line breaks and a tab.</summary>
    public static readonly string[] Mixed = ["a", "b", "c", "d", "e", "t", "h", ".", "é", "ß", "ж", "न", "्", "中", "😀", "𝄞", "\n", "\r", "\t"];

    public static string Make(Random random, string[] alphabet, int length, double spaceRate = 0.2)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
            text.Append(random.NextDouble() < spaceRate ? " " : alphabet[random.Next(alphabet.Length)]);
        return text.ToString();
    }

    /// <summary>Text with the shapes that break encoders: spaces at both ends, runs of spaces, CRLF, long words.</summary>
    public static string Awkward(Random random, string[] alphabet)
    {
        var text = new StringBuilder();
        text.Append(' ', random.Next(0, 4));
        var words = random.Next(1, 12);
        for (var w = 0; w < words; w++)
        {
            text.Append(Make(random, alphabet, random.Next(1, random.Next(2) == 0 ? 8 : 80), spaceRate: 0));
            text.Append(random.Next(4) switch { 0 => "\r\n", 1 => "   ", _ => " " });
        }
        text.Append(' ', random.Next(0, 3));
        return text.ToString();
    }
}
