using System.Buffers.Binary;
using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The definition of a matrix × vector product read from BQ4 blocks: each weight decoded as (nibble - zero) · scale,
/// products summed in double. The fast products (<see cref="Kernels.Q4Q8"/>) are tested against it.
/// </summary>
public static class Bq4MatVec
{
    /// <summary>y[r] = Σ_c W[r, c] x[c], weights decoded one by one, summed in double.</summary>
    public static void MultiplyReference(Bq4Matrix matrix, ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != matrix.Cols)
            throw new BulletArgumentException($"input has {x.Length} values but the matrix has {matrix.Cols} columns");
        if (y.Length < matrix.Rows)
            throw new BulletArgumentException($"output has room for {y.Length} values but the matrix has {matrix.Rows} rows");
        var data = matrix.Data.Span;
        for (var r = 0; r < matrix.Rows; r++)
        {
            double sum = 0;
            for (var c = 0; c < matrix.Cols; c++)
                sum += (double)WeightAt(data, (long)r * matrix.Cols + c) * x[c];
            y[r] = (float)sum;
        }
    }

    /// <summary>The value at flat index <paramref name="index"/> of BQ4 data, decoded by the format's BQ4 block rule.</summary>
    public static float WeightAt(ReadOnlySpan<byte> data, long index)
    {
        var block = data.Slice((int)(index / Bq4.BlockValues * Bq4.BlockBytes), Bq4.BlockBytes);
        var i = (int)(index % Bq4.BlockValues);
        var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        var zero = (sbyte)block[2];
        var packed = block[4 + i / 2];
        var nibble = (i & 1) == 0 ? packed & 0xF : packed >> 4;
        return (nibble - zero) * scale;
    }
}
