using System.Buffers.Binary;

namespace BulletNative.Tokenizer;

/// <summary>
/// The tokenizer block of bullet-format.md §3: "BULK", u32 count, per token (f32 score, u16 length, bytes),
/// u32 merge count, per merge (u16 length, a, u16 length, b); little-endian. Every length is checked against the span.
/// </summary>
internal static class TokenizerBulkBlock
{
    private static ReadOnlySpan<byte> Magic => "BULK"u8;

    public static byte[] Write(BulletTokenizer tokenizer)
    {
        var tokens = tokenizer.Tokens;
        var merges = tokenizer.Merges;
        long size = 4 + 4 + 4;
        for (var i = 0; i < tokens.Count; i++)
        {
            CheckLength(tokens[i], $"token {i}");
            size += 4 + 2 + tokens[i].Length;
        }
        for (var m = 0; m < merges.Count; m++)
        {
            CheckLength(merges[m].A, $"left side of merge {m}");
            CheckLength(merges[m].B, $"right side of merge {m}");
            size += 2 + merges[m].A.Length + 2 + merges[m].B.Length;
        }
        if (size > Array.MaxLength) throw new BulletArgumentException($"the tokenizer block would take {size} bytes, more than one buffer can hold");
        var block = new byte[size];
        var span = block.AsSpan();
        Magic.CopyTo(span);
        var at = 4;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)tokens.Count);
        at += 4;
        for (var i = 0; i < tokens.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[at..], tokenizer.Scores[i]);
            at += 4;
            at = WriteBytes(span, at, tokens[i]);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)merges.Count);
        at += 4;
        foreach (var (a, b) in merges)
        {
            at = WriteBytes(span, at, a);
            at = WriteBytes(span, at, b);
        }
        return block;
    }

    public static BulletTokenizer Read(ReadOnlySpan<byte> block, out int consumed)
    {
        var reader = new Reader(block);
        var magic = reader.Take(4, "the magic");
        if (!magic.SequenceEqual(Magic))
            throw new BulletFormatException($"tokenizer block: magic is {Describe(magic)}, expected \"BULK\"");
        var count = reader.U32("the token count");
        if (count > (ulong)reader.Remaining / 6) // each token takes at least 6 bytes: refuse before allocating
            throw new BulletFormatException($"tokenizer block: token count {count} cannot fit in the {reader.Remaining} bytes that follow it");
        var tokens = new byte[count][];
        var scores = new float[count];
        for (var i = 0; i < count; i++)
        {
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(reader.Take(4, $"the score of token {i}"));
            var length = reader.U16($"the length of token {i}");
            tokens[i] = reader.Take(length, $"the {length} bytes of token {i}").ToArray();
        }
        var mergeCount = reader.U32("the merge count");
        if (mergeCount > (ulong)reader.Remaining / 4)
            throw new BulletFormatException($"tokenizer block: merge count {mergeCount} cannot fit in the {reader.Remaining} bytes that follow it");
        var merges = new (byte[] A, byte[] B)[mergeCount];
        for (var m = 0; m < mergeCount; m++)
        {
            var lengthA = reader.U16($"the length of the left side of merge {m}");
            var a = reader.Take(lengthA, $"the left side of merge {m}").ToArray();
            var lengthB = reader.U16($"the length of the right side of merge {m}");
            var b = reader.Take(lengthB, $"the right side of merge {m}").ToArray();
            merges[m] = (a, b);
        }
        consumed = reader.Position;
        if (count == 0) throw new BulletFormatException("tokenizer block: it holds no tokens (id 0 must exist)");
        return BulletTokenizer.FromParts(tokens, scores, merges);
    }

    private static void CheckLength(byte[] bytes, string what)
    {
        if (bytes.Length > BulletTokenizer.MaxTokenBytes)
            throw new BulletArgumentException($"{what} is {bytes.Length} bytes; the tokenizer block holds at most {BulletTokenizer.MaxTokenBytes}");
    }

    private static int WriteBytes(Span<byte> span, int at, byte[] bytes)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)bytes.Length);
        bytes.CopyTo(span[(at + 2)..]);
        return at + 2 + bytes.Length;
    }

    private static string Describe(ReadOnlySpan<byte> bytes) =>
        "0x" + Convert.ToHexString(bytes) + (bytes.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E) ? "" : $" (\"{System.Text.Encoding.ASCII.GetString(bytes)}\")");

    private ref struct Reader(ReadOnlySpan<byte> block)
    {
        private readonly ReadOnlySpan<byte> _block = block;

        public int Position { get; private set; }

        public readonly int Remaining => _block.Length - Position;

        public ReadOnlySpan<byte> Take(int length, string what)
        {
            if (length > Remaining)
                throw new BulletFormatException(
                    $"tokenizer block: {what} needs {length} bytes at block offset {Position}, but the block ends after {Remaining} more");
            var slice = _block.Slice(Position, length);
            Position += length;
            return slice;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

        public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    }
}
