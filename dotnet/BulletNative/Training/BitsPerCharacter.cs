using System.Text;

namespace BulletNative.Training;

/// <summary>
/// A summed loss over some predicted tokens, with the characters (Unicode code points) and UTF-8 bytes those tokens
/// spell. Per-token loss depends on the tokenizer; per character it does not, so models with different tokenizers
/// compare by <see cref="BitsPerChar"/>: the summed loss in bits over the characters of the target tokens.
/// </summary>
public readonly record struct TextLoss(double Nats, long Tokens, long Chars, long Bytes)
{
    /// <summary>Mean loss per token (nats): what cross-entropy reports.</summary>
    public double Loss => Nats / Tokens;

    /// <summary>Bits per character: summed token losses ÷ ln 2 ÷ characters.</summary>
    public double BitsPerChar => Nats / Math.Log(2) / Chars;

    /// <summary>Bits per UTF-8 byte.</summary>
    public double BitsPerByte => Nats / Math.Log(2) / Bytes;

    /// <summary>Both measurements together.</summary>
    public static TextLoss operator +(TextLoss a, TextLoss b) =>
        new(a.Nats + b.Nats, a.Tokens + b.Tokens, a.Chars + b.Chars, a.Bytes + b.Bytes);

    /// <summary>A loss of <paramref name="meanLoss"/> per token over <paramref name="targets"/>, counted with <paramref name="lengths"/>.</summary>
    public static TextLoss Of(double meanLoss, ReadOnlySpan<long> targets, TokenLengths lengths)
    {
        var (chars, bytes) = lengths.Count(targets);
        return new TextLoss(meanLoss * targets.Length, targets.Length, chars, bytes);
    }
}

/// <summary>How many characters and UTF-8 bytes each token id spells (the unknown token stands for one character).</summary>
public sealed class TokenLengths
{
    private readonly int[] _chars, _bytes;

    /// <summary>The lengths of every token of <paramref name="codec"/>.</summary>
    public TokenLengths(ITextCodec codec)
    {
        _chars = new int[codec.VocabSize];
        _bytes = new int[codec.VocabSize];
        for (var id = 0; id < codec.VocabSize; id++)
        {
            var text = id == codec.UnknownId ? "?" : codec.Decode([id]);
            _chars[id] = text.EnumerateRunes().Count();
            _bytes[id] = Encoding.UTF8.GetByteCount(text);
        }
    }

    /// <summary>Characters and bytes spelled by <paramref name="ids"/>.</summary>
    public (long Chars, long Bytes) Count(ReadOnlySpan<long> ids)
    {
        long chars = 0, bytes = 0;
        foreach (var id in ids) (chars, bytes) = (chars + _chars[id], bytes + _bytes[id]);
        return (chars, bytes);
    }

    /// <summary>Characters and bytes spelled by <paramref name="ids"/>.</summary>
    public (long Chars, long Bytes) Count(ReadOnlySpan<int> ids)
    {
        long chars = 0, bytes = 0;
        foreach (var id in ids) (chars, bytes) = (chars + _chars[id], bytes + _bytes[id]);
        return (chars, bytes);
    }
}
