using System.Buffers.Binary;
using System.Text;

namespace BulletNative.Format;

/// <summary>
/// The tokenizer block of a .bullet file as data (docs/format.md, Tokenizer block): token bytes with scores in id order,
/// and merges in file order. Encoding logic lives in Tokenizer/; this type only holds and (de)serializes the block.
/// </summary>
public sealed class BulletVocabulary
{
    /// <summary>UTF-8 bytes of each token, indexed by id.</summary>
    public IReadOnlyList<byte[]> Tokens { get; }
    /// <summary>One score per token.</summary>
    public IReadOnlyList<float> Scores { get; }
    /// <summary>Merge pairs (a, b) in the order a runtime applies them.</summary>
    public IReadOnlyList<(byte[] A, byte[] B)> Merges { get; }

    /// <summary>Creates a vocabulary; scores default to 0 when null.</summary>
    public BulletVocabulary(IReadOnlyList<byte[]> tokens, IReadOnlyList<float>? scores, IReadOnlyList<(byte[] A, byte[] B)> merges)
    {
        if (scores != null && scores.Count != tokens.Count)
            throw new BulletArgumentException($"{scores.Count} scores for {tokens.Count} tokens");
        foreach (var t in tokens)
            if (t.Length > ushort.MaxValue) throw new BulletArgumentException($"a token of {t.Length} bytes is longer than 65535");
        foreach (var (a, b) in merges)
            if (a.Length > ushort.MaxValue || b.Length > ushort.MaxValue)
                throw new BulletArgumentException("a merge part is longer than 65535 bytes");
        Tokens = tokens;
        Scores = scores ?? new float[tokens.Count];
        Merges = merges;
    }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>The block's bytes exactly as docs/format.md (Tokenizer block) lays them out, starting with "BULK".</summary>
    public byte[] ToBlock()
    {
        var size = 4 + 4 + 4 + Tokens.Sum(t => 4 + 2 + t.Length) + Merges.Sum(m => 2 + m.A.Length + 2 + m.B.Length);
        var block = new byte[size];
        var span = block.AsSpan();
        BulletLayout.TokenizerMagic.CopyTo(span);
        var pos = 4;
        BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], (uint)Tokens.Count); pos += 4;
        for (var i = 0; i < Tokens.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[pos..], Scores[i]); pos += 4;
            pos = WriteBytes(span, pos, Tokens[i]);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], (uint)Merges.Count); pos += 4;
        foreach (var (a, b) in Merges)
        {
            pos = WriteBytes(span, pos, a);
            pos = WriteBytes(span, pos, b);
        }
        return block;
    }

    private static int WriteBytes(Span<byte> span, int pos, byte[] bytes)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span[pos..], (ushort)bytes.Length);
        bytes.CopyTo(span[(pos + 2)..]);
        return pos + 2 + bytes.Length;
    }

    /// <summary>
    /// Parses a block that starts at <paramref name="fileOffset"/> of <paramref name="data"/> and must end before
    /// <paramref name="limit"/>; returns the vocabulary and the offset just past the block. Every length is checked
    /// against the limit before it is used.
    /// </summary>
    public static (BulletVocabulary Vocabulary, long End) Parse(ReadOnlySpan<byte> data, long fileOffset, long limit)
    {
        var reader = new BoundedReader(data, fileOffset, limit, "tokenizer block");
        var magic = reader.Bytes(4);
        if (!magic.SequenceEqual(BulletLayout.TokenizerMagic))
            throw new BulletFormatException($"the tokenizer block at offset {fileOffset} starts with \"{Encoding.Latin1.GetString(magic)}\", not \"BULK\"");
        var count = reader.U32("vocab_count");
        // Each token takes at least 6 bytes, so a count that cannot fit is rejected before allocating for it.
        if (count > (limit - reader.Position) / 6)
            throw new BulletFormatException($"vocab_count {count} at offset {fileOffset + 4} cannot fit in the tokenizer block");
        var tokens = new byte[count][];
        var scores = new float[count];
        for (var i = 0; i < count; i++)
        {
            scores[i] = reader.F32($"score of token {i}");
            tokens[i] = reader.Bytes(reader.U16($"length of token {i}")).ToArray();
        }
        var mergeCount = reader.U32("merge_count");
        if (mergeCount > (limit - reader.Position) / 4)
            throw new BulletFormatException($"merge_count {mergeCount} at offset {reader.Position - 4} cannot fit in the tokenizer block");
        var merges = new (byte[], byte[])[mergeCount];
        for (var i = 0; i < mergeCount; i++)
        {
            var a = reader.Bytes(reader.U16($"length of merge {i} part a")).ToArray();
            var b = reader.Bytes(reader.U16($"length of merge {i} part b")).ToArray();
            merges[i] = (a, b);
        }
        return (new BulletVocabulary(tokens, scores, merges), reader.Position);
    }

    /// <summary>A token's text (invalid UTF-8 shown with replacement characters).</summary>
    public string TokenText(int id) => Encoding.UTF8.GetString(Tokens[id]);
}
