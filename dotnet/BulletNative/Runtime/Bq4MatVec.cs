using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// Matrix × vector products read straight from BQ4 blocks (nothing is dequantized into a float matrix).
/// </summary>
/// <remarks>
/// <see cref="MultiplyReference"/> is the definition: decode each weight as (nibble - zero) * scale and sum the
/// products in double. The fast path rewrites one block's contribution as
/// scale * (Σ nibble_i x_i - zero * Σ x_i): the input is prepared once per product (<see cref="PreparedInput"/>):
/// within each block its values are reordered as the 16 even-indexed then the 16 odd-indexed ones, matching the
/// low and high nibbles of the block's 16 bytes, and each block's Σ x_i is stored. A row then costs, per block,
/// two nibble unpacks, two int→float conversions and three fused multiply-adds on 16 lanes.
/// </remarks>
public static unsafe class Bq4MatVec
{
    /// <summary>The definition: y[r] = Σ_c W[r, c] x[c], weights decoded one by one, summed in double.</summary>
    public static void MultiplyReference(Bq4Matrix matrix, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckShapes(matrix, x.Length, y.Length);
        var data = matrix.Data.Span;
        for (var r = 0; r < matrix.Rows; r++)
        {
            double sum = 0;
            for (var c = 0; c < matrix.Cols; c++)
                sum += (double)WeightAt(data, (long)r * matrix.Cols + c) * x[c];
            y[r] = (float)sum;
        }
    }

    /// <summary>The value at flat index <paramref name="index"/> of BQ4 data, decoded by bullet-format.md §4.</summary>
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

    /// <summary>y = W x with SIMD kernels; rows are split over up to <paramref name="threads"/> threads for large matrices.</summary>
    public static void Multiply(Bq4Matrix matrix, PreparedInput x, Span<float> y, int threads = 1) =>
        Multiply(matrix, x, y, threads, BestKernel);

    /// <summary>The fastest kernel this processor runs.</summary>
    internal static Bq4Kernel BestKernel { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Bq4Kernel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? Bq4Kernel.Avx2
        : Bq4Kernel.Portable;

    /// <summary>y = W x with a chosen kernel (tests run every kernel the processor supports).</summary>
    internal static void Multiply(Bq4Matrix matrix, PreparedInput x, Span<float> y, int threads, Bq4Kernel kernel)
    {
        if (kernel > BestKernel) throw new BulletArgumentException($"this processor cannot run the {kernel} kernel");
        CheckShapes(matrix, x.Length, y.Length);
        var perThreadMinimum = 1 << 17; // weights per thread below which waking threads costs more than it saves
        var parts = (int)Math.Min(threads, Math.Max(1, (long)matrix.Rows * matrix.Cols / perThreadMinimum));
        if (parts <= 1)
        {
            MultiplyRows(matrix, x, y, 0, matrix.Rows, kernel);
            return;
        }
        fixed (float* yp = y)
        {
            var yAddress = (nint)yp;
            var length = y.Length;
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            {
                var from = (int)((long)matrix.Rows * part / parts);
                var to = (int)((long)matrix.Rows * (part + 1) / parts);
                MultiplyRows(matrix, x, new Span<float>((float*)yAddress, length), from, to, kernel);
            });
        }
    }

    private static void MultiplyRows(Bq4Matrix matrix, PreparedInput x, Span<float> y, int from, int to, Bq4Kernel kernel)
    {
        var blocks = matrix.BlocksPerRow;
        var rowBytes = matrix.RowBytes;
        fixed (byte* w = matrix.Data.Span)
        fixed (float* xp = x.Values)
        fixed (float* sums = x.BlockSums)
        {
            if (kernel == Bq4Kernel.Avx512)
                for (var r = from; r < to; r++) y[r] = RowDot512(w + (long)r * rowBytes, xp, sums, blocks);
            else if (kernel == Bq4Kernel.Avx2)
                for (var r = from; r < to; r++) y[r] = RowDot256(w + (long)r * rowBytes, xp, sums, blocks);
            else
                for (var r = from; r < to; r++) y[r] = RowDotScalar(w + (long)r * rowBytes, xp, sums, blocks);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowDot512(byte* row, float* x, float* sums, int blocks)
    {
        var acc = Vector512<float>.Zero;
        var correction = 0f;
        var low = Vector128.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, row += Bq4.BlockBytes, x += Bq4.BlockValues)
        {
            var scale = HalfToSingle(*(ushort*)row);
            var packed = Vector128.Load(row + 4);
            var even = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(packed & low));
            var odd = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.ShiftRightLogical(packed, 4)));
            var dot = Avx512F.FusedMultiplyAdd(odd, Vector512.Load(x + 16), even * Vector512.Load(x));
            acc = Avx512F.FusedMultiplyAdd(dot, Vector512.Create(scale), acc);
            correction += scale * (sbyte)row[2] * sums[b];
        }
        return Vector512.Sum(acc) - correction;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowDot256(byte* row, float* x, float* sums, int blocks)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var correction = 0f;
        var low = Vector128.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, row += Bq4.BlockBytes, x += Bq4.BlockValues)
        {
            var scale = Vector256.Create(HalfToSingle(*(ushort*)row));
            var packed = Vector128.Load(row + 4);
            var even = packed & low;
            var odd = Vector128.ShiftRightLogical(packed, 4);
            var e0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(even));
            var e1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(even, 8)));
            var o0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(odd));
            var o1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(odd, 8)));
            var d0 = Fma.MultiplyAdd(o0, Vector256.Load(x + 16), e0 * Vector256.Load(x));
            var d1 = Fma.MultiplyAdd(o1, Vector256.Load(x + 24), e1 * Vector256.Load(x + 8));
            acc0 = Fma.MultiplyAdd(d0, scale, acc0);
            acc1 = Fma.MultiplyAdd(d1, scale, acc1);
            correction += scale.ToScalar() * (sbyte)row[2] * sums[b];
        }
        return Vector256.Sum(acc0 + acc1) - correction;
    }

    private static float RowDotScalar(byte* row, float* x, float* sums, int blocks)
    {
        var total = 0f;
        for (var b = 0; b < blocks; b++, row += Bq4.BlockBytes, x += Bq4.BlockValues)
        {
            var dot = 0f;
            for (var i = 0; i < 16; i++) dot += (row[4 + i] & 0xF) * x[i] + (row[4 + i] >> 4) * x[16 + i];
            total += HalfToSingle(*(ushort*)row) * (dot - (sbyte)row[2] * sums[b]);
        }
        return total;
    }

    /// <summary>IEEE half to float, exact for every half (bit arithmetic for finite values; inf/NaN via System.Half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits)
    {
        var magnitude = (uint)(bits & 0x7FFF);
        if (magnitude >= 0x7C00) return (float)BitConverter.UInt16BitsToHalf(bits);
        // Shifting the half's exponent and mantissa into a float's place gives the value times 2^-112
        // (a float subnormal for half subnormals); the power-of-two product is exact.
        var value = BitConverter.UInt32BitsToSingle(magnitude << 13) * 5.192296858534828e33f;
        return (bits & 0x8000) != 0 ? -value : value;
    }

    private static void CheckShapes(Bq4Matrix matrix, int xLength, int yLength)
    {
        if (xLength != matrix.Cols)
            throw new BulletArgumentException($"input has {xLength} values but the matrix has {matrix.Cols} columns");
        if (yLength < matrix.Rows)
            throw new BulletArgumentException($"output has room for {yLength} values but the matrix has {matrix.Rows} rows");
    }
}

/// <summary>
/// An input vector arranged for <see cref="Bq4MatVec.Multiply"/>: per block of 32, the even-indexed values then the
/// odd-indexed ones, plus each block's sum. Prepared once, it serves every matrix that multiplies the same vector.
/// </summary>
public sealed class PreparedInput
{
    public float[] Values { get; }
    public float[] BlockSums { get; }
    /// <summary>The vector's length (a multiple of 32).</summary>
    public int Length => Values.Length;

    /// <summary>Room for a vector of <paramref name="length"/> values.</summary>
    public PreparedInput(int length)
    {
        if (length <= 0 || length % Bq4.BlockValues != 0)
            throw new BulletArgumentException($"a prepared input needs a positive multiple of 32 values, got {length}");
        Values = new float[length];
        BlockSums = new float[length / Bq4.BlockValues];
    }

    /// <summary>Fills this from <paramref name="x"/> (same length).</summary>
    public void Set(ReadOnlySpan<float> x)
    {
        if (x.Length != Values.Length)
            throw new BulletArgumentException($"input has {x.Length} values, expected {Values.Length}");
        for (var b = 0; b < BlockSums.Length; b++)
        {
            var src = x.Slice(b * Bq4.BlockValues, Bq4.BlockValues);
            var dst = Values.AsSpan(b * Bq4.BlockValues, Bq4.BlockValues);
            for (var i = 0; i < 16; i++)
            {
                dst[i] = src[2 * i];
                dst[16 + i] = src[2 * i + 1];
            }
            BlockSums[b] = System.Numerics.Tensors.TensorPrimitives.Sum(src);
        }
    }
}

/// <summary>The row kernels of <see cref="Bq4MatVec"/>, slowest first.</summary>
internal enum Bq4Kernel
{
    Portable,
    Avx2,
    Avx512,
}
