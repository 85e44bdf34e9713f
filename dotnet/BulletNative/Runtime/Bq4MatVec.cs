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
/// scale * (Σ nibble_i x_i - zero * Σ x_i), with the input prepared once per product (<see cref="PreparedInput"/>)
/// so that a block costs one widening of its 16 bytes, a mask, two int→float conversions and three fused
/// multiply-adds on 16 lanes; four rows run together to share the input and hide latency.
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

    /// <summary>The value at flat index <paramref name="index"/> of BQ4 data, decoded by docs/format.md (BQ4 block).</summary>
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
        fixed (float* yp = y)
        {
            var r = from;
            if (kernel == Bq4Kernel.Avx512)
                for (; r + 4 <= to; r += 4) FourRows512(w + (long)r * rowBytes, rowBytes, xp, sums, blocks, yp + r);
            else if (kernel == Bq4Kernel.Avx2)
                for (; r + 4 <= to; r += 4) FourRows256(w + (long)r * rowBytes, rowBytes, xp, sums, blocks, yp + r);
            for (; r < to; r++) yp[r] = RowDotPortable(w + (long)r * rowBytes, xp, sums, blocks);
        }
    }

    // Per block the prepared input holds a_i = x[2i] - x[2i+1]/16 and c_i = x[2i+1]/16 (i < 16), so with the packed
    // byte v_i = lo_i + 16 hi_i: lo_i x[2i] + hi_i x[2i+1] = lo_i a_i + v_i c_i. One widening of the 16 bytes to
    // 32-bit lanes then serves both nibbles; the low nibble is a mask away.

    // AggressiveOptimization: kernels are compiled fully optimized at once (as under NativeAOT) instead of tiering up.

    /// <summary>Four consecutive rows at once: the input is loaded once per block and four independent sums hide FMA latency.</summary>
    /// <remarks>
    /// The loop holds everything in registers: no calls (a call would force every vector register to be saved) and no
    /// address-taken locals, which NativeAOT would otherwise keep in memory.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows512(byte* row, int rowBytes, float* x, float* sums, int blocks, float* y)
    {
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        var low = Vector512.Create(0xF);
        byte* r0 = row, r1 = row + rowBytes, r2 = row + 2 * rowBytes, r3 = row + 3 * rowBytes;
        for (var b = 0; b < blocks; b++, x += Bq4.BlockValues, r0 += Bq4.BlockBytes, r1 += Bq4.BlockBytes, r2 += Bq4.BlockBytes, r3 += Bq4.BlockBytes)
        {
            var a = Vector512.Load(x);
            var c = Vector512.Load(x + 16);
            var sum = sums[b];
            float s0 = HalfToSingle(*(ushort*)r0), s1 = HalfToSingle(*(ushort*)r1), s2 = HalfToSingle(*(ushort*)r2), s3 = HalfToSingle(*(ushort*)r3);
            acc0 = Avx512F.FusedMultiplyAdd(Dot512(r0, a, c, low), Vector512.Create(s0), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Dot512(r1, a, c, low), Vector512.Create(s1), acc1);
            acc2 = Avx512F.FusedMultiplyAdd(Dot512(r2, a, c, low), Vector512.Create(s2), acc2);
            acc3 = Avx512F.FusedMultiplyAdd(Dot512(r3, a, c, low), Vector512.Create(s3), acc3);
            c0 += s0 * (sbyte)r0[2] * sum;
            c1 += s1 * (sbyte)r1[2] * sum;
            c2 += s2 * (sbyte)r2[2] * sum;
            c3 += s3 * (sbyte)r3[2] * sum;
        }
        y[0] = Vector512.Sum(acc0) - c0;
        y[1] = Vector512.Sum(acc1) - c1;
        y[2] = Vector512.Sum(acc2) - c2;
        y[3] = Vector512.Sum(acc3) - c3;
    }

    /// <summary>Σ lo_i a_i + v_i c_i of one block (before its scale and zero point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dot512(byte* block, Vector512<float> a, Vector512<float> c, Vector512<int> low)
    {
        var bytes = Avx512F.ConvertToVector512Int32(Vector128.Load(block + 4));
        var lo = Avx512F.ConvertToVector512Single(bytes & low);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(bytes), c, lo * a);
    }

    /// <summary>The AVX2 form of <see cref="FourRows512"/>: each block's 16 bytes as two halves of 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows256(byte* row, int rowBytes, float* x, float* sums, int blocks, float* y)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        var low = Vector256.Create(0xF);
        byte* r0 = row, r1 = row + rowBytes, r2 = row + 2 * rowBytes, r3 = row + 3 * rowBytes;
        for (var b = 0; b < blocks; b++, x += Bq4.BlockValues, r0 += Bq4.BlockBytes, r1 += Bq4.BlockBytes, r2 += Bq4.BlockBytes, r3 += Bq4.BlockBytes)
        {
            var sum = sums[b];
            float s0 = HalfToSingle(*(ushort*)r0), s1 = HalfToSingle(*(ushort*)r1), s2 = HalfToSingle(*(ushort*)r2), s3 = HalfToSingle(*(ushort*)r3);
            acc0 = Fma.MultiplyAdd(Dot256(r0, x, low), Vector256.Create(s0), acc0);
            acc1 = Fma.MultiplyAdd(Dot256(r1, x, low), Vector256.Create(s1), acc1);
            acc2 = Fma.MultiplyAdd(Dot256(r2, x, low), Vector256.Create(s2), acc2);
            acc3 = Fma.MultiplyAdd(Dot256(r3, x, low), Vector256.Create(s3), acc3);
            c0 += s0 * (sbyte)r0[2] * sum;
            c1 += s1 * (sbyte)r1[2] * sum;
            c2 += s2 * (sbyte)r2[2] * sum;
            c3 += s3 * (sbyte)r3[2] * sum;
        }
        y[0] = Vector256.Sum(acc0) - c0;
        y[1] = Vector256.Sum(acc1) - c1;
        y[2] = Vector256.Sum(acc2) - c2;
        y[3] = Vector256.Sum(acc3) - c3;
    }

    /// <summary>Σ lo_i a_i + v_i c_i of one block in two halves (the input is read from memory: 16 registers are few).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot256(byte* block, float* x, Vector256<int> low)
    {
        var bytes0 = Avx2.ConvertToVector256Int32(block + 4);
        var bytes1 = Avx2.ConvertToVector256Int32(block + 12);
        var d0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(bytes0), Vector256.Load(x + 16), Avx.ConvertToVector256Single(bytes0 & low) * Vector256.Load(x));
        var d1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(bytes1), Vector256.Load(x + 24), Avx.ConvertToVector256Single(bytes1 & low) * Vector256.Load(x + 8));
        return d0 + d1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowDotPortable(byte* row, float* x, float* sums, int blocks)
    {
        var total = 0f;
        for (var b = 0; b < blocks; b++, row += Bq4.BlockBytes, x += Bq4.BlockValues)
        {
            var dot = 0f;
            for (var i = 0; i < 16; i++) dot += (row[4 + i] & 0xF) * x[i] + row[4 + i] * x[16 + i];
            total += HalfToSingle(*(ushort*)row) * (dot - (sbyte)row[2] * sums[b]);
        }
        return total;
    }

    /// <summary>IEEE half to float, exact for every half, in bit arithmetic without calls (it sits in kernel loops).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits)
    {
        var magnitude = (uint)(bits & 0x7FFF);
        // Shifting the half's exponent and mantissa into a float's place gives the value times 2^-112
        // (a float subnormal for half subnormals); the power-of-two product is exact.
        var value = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(magnitude << 13) * 5.192296858534828e33f);
        if (magnitude >= 0x7C00) value = 0x7F800000 | ((magnitude & 0x3FF) << 13); // inf and NaN
        return BitConverter.UInt32BitsToSingle(value | ((uint)(bits & 0x8000) << 16));
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
/// An input vector arranged for the products of <see cref="Bq4MatVec"/>: per block of 32, a_i = x[2i] - x[2i+1]/16 then
/// c_i = x[2i+1]/16 for i &lt; 16 (weights for a block's low nibbles and for its whole bytes), plus each block's sum.
/// Prepared once, it serves every matrix that multiplies the same vector.
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
            var sum = 0f;
            for (var i = 0; i < 16; i++)
            {
                float even = src[2 * i], odd = src[2 * i + 1];
                dst[i] = even - odd * 0.0625f;
                dst[16 + i] = odd * 0.0625f;
                sum += even + odd;
            }
            BlockSums[b] = sum;
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
