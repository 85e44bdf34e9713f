using System.Buffers.Binary;

namespace BulletNative.Format;

/// <summary>
/// Scalar encoders and decoders for the GGUF tensor types. Q8_0 and Q4_0 follow ggml's reference quantizers
/// (<c>quantize_row_q8_0_ref</c> and <c>quantize_row_q4_0_ref</c> in ggml-quants.c, as described in llama.cpp's
/// ggml sources), so a file holds the same bytes llama.cpp's own converter would write:
/// the scale is computed in float, stored as half precision, and the values are divided by the float scale.
/// </summary>
public static class GgufQuant
{
    /// <summary>Values per Q4_0/Q8_0 block (ggml's QK4_0 = QK8_0 = 32).</summary>
    public const int BlockValues = 32;

    /// <summary>fp16 scale + 16 bytes of nibbles.</summary>
    public const int Q4_0BlockBytes = 2 + BlockValues / 2;

    /// <summary>fp16 scale + 32 signed bytes.</summary>
    public const int Q8_0BlockBytes = 2 + BlockValues;

    /// <summary>Little-endian IEEE single precision.</summary>
    public static void EncodeF32(ReadOnlySpan<float> values, Span<byte> output)
    {
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(output[(4 * i)..], values[i]);
    }

    /// <summary>Little-endian IEEE half precision, rounded to nearest even (as ggml's fp32→fp16 conversion).</summary>
    public static void EncodeF16(ReadOnlySpan<float> values, Span<byte> output)
    {
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(output[(2 * i)..], (Half)values[i]);
    }

    /// <summary>
    /// Q8_0: per block of 32, d = max|x| / 127 and q = round(x / d) (half away from zero), stored as fp16 d then 32 int8.
    /// </summary>
    public static void EncodeQ8_0(ReadOnlySpan<float> values, Span<byte> output)
    {
        CheckBlocks(values.Length);
        for (var b = 0; b < values.Length / BlockValues; b++)
        {
            var x = values.Slice(b * BlockValues, BlockValues);
            var block = output.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes);
            var amax = 0f;
            foreach (var v in x) amax = MathF.Max(amax, MathF.Abs(v));
            var d = amax / 127f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (var j = 0; j < BlockValues; j++)
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>
    /// Q4_0: per block of 32, m = the value of largest magnitude with its sign (the first such), d = m / -8,
    /// q = min(15, trunc(x / d + 8.5)); fp16 d then 16 bytes, byte j = q[j] | q[j + 16] &lt;&lt; 4.
    /// </summary>
    public static void EncodeQ4_0(ReadOnlySpan<float> values, Span<byte> output)
    {
        CheckBlocks(values.Length);
        for (var b = 0; b < values.Length / BlockValues; b++)
        {
            var x = values.Slice(b * BlockValues, BlockValues);
            var block = output.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes);
            float amax = 0f, max = 0f;
            foreach (var v in x)
                if (amax < MathF.Abs(v)) (amax, max) = (MathF.Abs(v), v);
            var d = max / -8f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (var j = 0; j < BlockValues / 2; j++)
            {
                var low = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
                var high = Math.Min(15, (int)(sbyte)(x[j + BlockValues / 2] * id + 8.5f));
                block[2 + j] = (byte)(low | high << 4);
            }
        }
    }

    /// <summary>Inverse of <see cref="EncodeF32"/>.</summary>
    public static void DecodeF32(ReadOnlySpan<byte> data, Span<float> output)
    {
        for (var i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
    }

    /// <summary>Inverse of <see cref="EncodeF16"/>.</summary>
    public static void DecodeF16(ReadOnlySpan<byte> data, Span<float> output)
    {
        for (var i = 0; i < output.Length; i++) output[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]);
    }

    /// <summary>value = d · q.</summary>
    public static void DecodeQ8_0(ReadOnlySpan<byte> data, Span<float> output)
    {
        CheckBlocks(output.Length);
        for (var b = 0; b < output.Length / BlockValues; b++)
        {
            var block = data.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            for (var j = 0; j < BlockValues; j++) output[b * BlockValues + j] = d * (sbyte)block[2 + j];
        }
    }

    /// <summary>value = d · (q - 8).</summary>
    public static void DecodeQ4_0(ReadOnlySpan<byte> data, Span<float> output)
    {
        CheckBlocks(output.Length);
        for (var b = 0; b < output.Length / BlockValues; b++)
        {
            var block = data.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            for (var j = 0; j < BlockValues / 2; j++)
            {
                output[b * BlockValues + j] = d * ((block[2 + j] & 0x0F) - 8);
                output[b * BlockValues + j + BlockValues / 2] = d * ((block[2 + j] >> 4) - 8);
            }
        }
    }

    private static void CheckBlocks(int count)
    {
        if (count % BlockValues != 0)
            throw new BulletArgumentException($"{count} values are not a whole number of {BlockValues}-value blocks");
    }
}
