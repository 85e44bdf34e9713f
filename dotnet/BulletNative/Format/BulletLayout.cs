namespace BulletNative.Format;

/// <summary>Tensor encodings named by the weights table's quant_type byte (docs/format.md, Weights block).</summary>
public enum BulletQuantType : byte
{
    /// <summary>0: 32 values in 20 bytes, half-precision scale and int8 zero point (docs/format.md, BQ4 block); the only type readers load.</summary>
    BQ4 = 0,
    /// <summary>1: reserved; readers skip such tensors (docs/format.md, Validation).</summary>
    BQ5 = 1,
    /// <summary>2: reserved; readers skip such tensors (docs/format.md, Validation).</summary>
    BQ8 = 2,
    /// <summary>3: reserved; readers skip such tensors (docs/format.md, Validation).</summary>
    FP16 = 3,
}

/// <summary>Every magic, alignment rule and fixed size of the .bullet v1.0 layout, in one place (docs/format.md).</summary>
public static class BulletLayout
{
    /// <summary>The header's bullet_version (docs/format.md, Header).</summary>
    public const string FormatVersion = "1.0";
    /// <summary>The header's architecture string (docs/format.md, Header).</summary>
    public const string Architecture = "bullet-hybrid-transformer";
    /// <summary>The header's quantization.type (docs/format.md, Header).</summary>
    public const string QuantizationName = "BQ4";

    /// <summary>Four NUL bytes end the header text.</summary>
    public const int HeaderTerminatorLength = 4;
    /// <summary>tokenizer_start is a multiple of this.</summary>
    public const int TokenizerAlignment = 4096;
    /// <summary>weights_start is a multiple of this.</summary>
    public const int WeightsAlignment = 64;
    /// <summary>Each tensor's data starts at a file offset that is a multiple of this.</summary>
    public const int TensorDataAlignment = 32;

    /// <summary>The four bytes that open the tokenizer block (docs/format.md, Tokenizer block).</summary>
    public static ReadOnlySpan<byte> TokenizerMagic => "BULK"u8;
    /// <summary>The four bytes that open the weights block (docs/format.md, Weights block).</summary>
    public static ReadOnlySpan<byte> WeightsMagic => "BWT0"u8;
    /// <summary>The four bytes that end the file; nothing may follow them (docs/format.md, Layout).</summary>
    public static ReadOnlySpan<byte> Footer => "END!"u8;

    /// <summary>Bytes of one tensor table entry before its padding: hash u64, rank u8, shape u16×4, quant u8, size u32.</summary>
    public const int TensorEntryLength = 8 + 1 + 4 * 2 + 1 + 4;
    /// <summary>The table always stores four dimensions; unused trailing ones are 1.</summary>
    public const int MaxRank = 4;

    /// <summary>Values per BQ4 block.</summary>
    public const int Bq4BlockValues = 32;
    /// <summary>Bytes per BQ4 block: half scale, int8 zero, one zero byte, 16 bytes of nibbles.</summary>
    public const int Bq4BlockBytes = 20;

    /// <summary>The smallest multiple of <paramref name="alignment"/> that is ≥ <paramref name="offset"/>.</summary>
    public static long AlignUp(long offset, long alignment) => (offset + alignment - 1) / alignment * alignment;
}
