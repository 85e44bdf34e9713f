namespace BulletNative.Format;

/// <summary>ggml tensor types this exporter writes; the numbers are ggml's <c>ggml_type</c> values stored in the file.</summary>
public enum GgufTensorType : uint
{
    /// <summary>IEEE 754 single precision, 4 bytes a value.</summary>
    F32 = 0,
    /// <summary>IEEE 754 half precision, 2 bytes a value.</summary>
    F16 = 1,
    /// <summary>Blocks of 32 values in 18 bytes: a half-precision scale and 32 4-bit values offset by 8.</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32 values in 34 bytes: a half-precision scale and 32 signed bytes.</summary>
    Q8_0 = 8,
}

/// <summary>GGUF metadata value types (<c>gguf_type</c>), the numbers stored before every value.</summary>
public enum GgufValueType : uint
{
    /// <summary>An unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>A signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>An unsigned 16-bit integer, little-endian.</summary>
    UInt16 = 2,
    /// <summary>A signed 16-bit integer, little-endian.</summary>
    Int16 = 3,
    /// <summary>An unsigned 32-bit integer, little-endian.</summary>
    UInt32 = 4,
    /// <summary>A signed 32-bit integer, little-endian.</summary>
    Int32 = 5,
    /// <summary>An IEEE 754 single, little-endian.</summary>
    Float32 = 6,
    /// <summary>One byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>A u64 byte length, then that many UTF-8 bytes (no terminator).</summary>
    String = 8,
    /// <summary>An element type (u32), a u64 count, then that many values of the type.</summary>
    Array = 9,
    /// <summary>An unsigned 64-bit integer, little-endian.</summary>
    UInt64 = 10,
    /// <summary>A signed 64-bit integer, little-endian.</summary>
    Int64 = 11,
    /// <summary>An IEEE 754 double, little-endian.</summary>
    Float64 = 12,
}

/// <summary>
/// One row of the type table: the type, its option name, values and bytes per block, and llama.cpp's
/// <c>general.file_type</c> (<c>llama_ftype</c>) for a file mostly of this type.
/// </summary>
public sealed record GgufTypeInfo(GgufTensorType Type, string Name, int BlockValues, int BlockBytes, uint FileType)
{
    /// <summary>Bytes of <paramref name="values"/> values (a multiple of the block size).</summary>
    public long BytesFor(long values) => values / BlockValues * BlockBytes;
}

/// <summary>The type table, in one place: every other part of the exporter asks it about sizes, names and encoders.</summary>
public static class GgufTypes
{
    private static readonly GgufTypeInfo[] s_table =
    [
        new(GgufTensorType.F32, "f32", 1, 4, 0),
        new(GgufTensorType.F16, "f16", 1, 2, 1),
        new(GgufTensorType.Q4_0, "q4_0", GgufQuant.BlockValues, GgufQuant.Q4_0BlockBytes, 2),
        new(GgufTensorType.Q8_0, "q8_0", GgufQuant.BlockValues, GgufQuant.Q8_0BlockBytes, 7),
    ];

    /// <summary>Every supported type.</summary>
    public static IReadOnlyList<GgufTypeInfo> All => s_table;

    /// <summary>The table row of <paramref name="type"/>.</summary>
    public static GgufTypeInfo Info(GgufTensorType type) =>
        s_table.FirstOrDefault(t => t.Type == type) ?? throw new BulletArgumentException($"GGUF tensor type {type} is not supported");

    /// <summary>Parses a type name such as "q4_0" (case-insensitive).</summary>
    public static GgufTypeInfo Parse(string name) =>
        s_table.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new BulletArgumentException($"unknown GGUF type \"{name}\" (known: {string.Join(", ", s_table.Select(t => t.Name))})");

    /// <summary>Encodes <paramref name="values"/> (a multiple of the block size) into <paramref name="output"/>.</summary>
    public static void Encode(GgufTensorType type, ReadOnlySpan<float> values, Span<byte> output)
    {
        switch (type)
        {
            case GgufTensorType.F32: GgufQuant.EncodeF32(values, output); break;
            case GgufTensorType.F16: GgufQuant.EncodeF16(values, output); break;
            case GgufTensorType.Q4_0: GgufQuant.EncodeQ4_0(values, output); break;
            case GgufTensorType.Q8_0: GgufQuant.EncodeQ8_0(values, output); break;
            default: throw new BulletArgumentException($"GGUF tensor type {type} is not supported");
        }
    }

    /// <summary>Decodes what <see cref="Encode"/> wrote back to floats.</summary>
    public static void Decode(GgufTensorType type, ReadOnlySpan<byte> data, Span<float> output)
    {
        switch (type)
        {
            case GgufTensorType.F32: GgufQuant.DecodeF32(data, output); break;
            case GgufTensorType.F16: GgufQuant.DecodeF16(data, output); break;
            case GgufTensorType.Q4_0: GgufQuant.DecodeQ4_0(data, output); break;
            case GgufTensorType.Q8_0: GgufQuant.DecodeQ8_0(data, output); break;
            default: throw new BulletArgumentException($"GGUF tensor type {type} is not supported");
        }
    }
}
