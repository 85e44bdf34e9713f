using System.Buffers.Binary;

namespace BulletNative.Format;

/// <summary>
/// Reads little-endian fields from a file image while refusing to step past a limit, so a corrupt length
/// field becomes a clear error naming the field and its offset instead of a crash or a huge allocation.
/// </summary>
internal ref struct BoundedReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _limit;
    private readonly string _region;

    /// <summary>Current file offset.</summary>
    public long Position { get; private set; }

    /// <summary>A reader at <paramref name="start"/> that may not pass <paramref name="limit"/> (nor the data's end); errors name <paramref name="region"/>.</summary>
    public BoundedReader(ReadOnlySpan<byte> data, long start, long limit, string region)
    {
        _data = data;
        _limit = Math.Min(limit, data.Length);
        _region = region;
        Position = start;
    }

    /// <summary>Takes the next <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> Bytes(long count)
    {
        if (count < 0 || Position + count > _limit)
            throw new BulletFormatException(
                $"{_region}: {count} bytes needed at offset {Position}, but the {_region} ends at offset {_limit}");
        var span = _data.Slice((int)Position, (int)count);
        Position += count;
        return span;
    }

    /// <summary>The next little-endian u32; <paramref name="field"/> names it in an overrun error.</summary>
    public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Field(field, 4));
    /// <summary>The next little-endian u16; <paramref name="field"/> names it in an overrun error.</summary>
    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Field(field, 2));
    /// <summary>The next little-endian u64; <paramref name="field"/> names it in an overrun error.</summary>
    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Field(field, 8));
    /// <summary>The next byte; <paramref name="field"/> names it in an overrun error.</summary>
    public byte U8(string field) => Field(field, 1)[0];
    /// <summary>The next little-endian IEEE 754 single; <paramref name="field"/> names it in an overrun error.</summary>
    public float F32(string field) => BinaryPrimitives.ReadSingleLittleEndian(Field(field, 4));

    /// <summary>Moves to an absolute offset inside the limit.</summary>
    public void Seek(long offset)
    {
        if (offset < 0 || offset > _limit)
            throw new BulletFormatException($"{_region}: offset {offset} is outside the file (size {_limit})");
        Position = offset;
    }

    private ReadOnlySpan<byte> Field(string field, int size)
    {
        if (Position + size > _limit)
            throw new BulletFormatException($"{_region}: {field} at offset {Position} runs past the end (offset {_limit})");
        var span = _data.Slice((int)Position, size);
        Position += size;
        return span;
    }
}
