using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BulletNative.Format;

/// <summary>
/// BQ4, the 4-bit block quantization of .bullet (docs/format.md, BQ4 block): 32 values per 20-byte block, each decoded as
/// (nibble - zero) * scale with a half-precision scale and an int8 zero point.
/// </summary>
/// <remarks>
/// <see cref="QuantizeReference"/> and <see cref="DequantizeReference"/> are plain scalar code and are the definition;
/// <see cref="Quantize"/> and <see cref="Dequantize"/> are vectorized and give the same bytes and the same floats.
///
/// A block decodes to scale * k for k in a window [start, start + 15] of consecutive integers, where
/// start = -zero lies in [-127, 128]. The encoder looks for the (scale, start) pair with the smallest squared error:
/// it tries a grid of half-precision scales around the smallest scale that covers the block, finds the best window
/// for each (the error is convex in start, so a walk from the centred window finds it), then refits the scale by
/// least squares to the chosen integers. A constant block is solved exactly when its value is representable.
/// So that the vectorized path makes the same choices, a block's error is summed in one fixed order
/// (<see cref="ScalarMath.TreeSum"/>), which the 8-lane vector code reproduces lane for lane.
/// </remarks>
public static class Bq4
{
    /// <summary>A BQ4 block's size: BlockValues (32) values in BlockBytes (20) bytes (docs/format.md, BQ4 block).</summary>
    public const int BlockValues = BulletLayout.Bq4BlockValues, BlockBytes = BulletLayout.Bq4BlockBytes;

    private const int MinStart = -127, MaxStart = 128; // start = -zero, zero in int8
    private const int MaxK = MaxStart + 15, MinK = MinStart;
    private const float HalfMax = 65504f;
    private const float HalfMin = 5.96046448e-8f; // 2^-24, the smallest positive (subnormal) half
    private const int RefitRounds = 2;

    // Multiples of the covering scale to try: below 1 the block's extremes are clipped, which pays off when most
    // values sit near the middle (Gaussian weights); above 1 the integer grid can align better. On Gaussian blocks
    // these 8 reach 7.65 % relative RMSE where a grid of 161 steps of 0.005 from 0.5 to 1.3 reaches 7.63 %.
    private static readonly float[] s_scaleFactors = [0.80f, 0.86f, 0.90f, 0.94f, 0.97f, 1.00f, 1.04f, 1.09f];

    /// <summary>How many blocks hold <paramref name="n"/> values.</summary>
    public static long BlockCount(long n)
    {
        if (n < 0) throw new BulletArgumentException($"value count {n} must not be negative");
        return (n + BlockValues - 1) / BlockValues;
    }

    /// <summary>How many bytes BQ4 data of <paramref name="n"/> values takes: ceil(n/32) * 20.</summary>
    public static long ByteCount(long n) => BlockCount(n) * BlockBytes;

    /// <summary>The definition of BQ4 encoding: writes ByteCount(values.Length) bytes; plain scalar code.</summary>
    public static void QuantizeReference(ReadOnlySpan<float> values, Span<byte> output) =>
        QuantizeWith<ScalarMath>(values, output);

    /// <summary>BQ4 encoding, vectorized; byte-identical to <see cref="QuantizeReference"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> values, Span<byte> output)
    {
        if (Vector256.IsHardwareAccelerated) QuantizeWith<VectorMath>(values, output);
        else QuantizeWith<ScalarMath>(values, output);
    }

    /// <summary>The definition of BQ4 decoding: fills output (n values) from data (at least ByteCount(n) bytes).</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> data, Span<float> output)
    {
        CheckDataLength(data, output.Length);
        for (var b = 0; b < output.Length; b += BlockValues)
        {
            var block = data.Slice(b / BlockValues * BlockBytes, BlockBytes);
            var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var zero = (sbyte)block[2];
            var count = Math.Min(BlockValues, output.Length - b);
            for (var i = 0; i < count; i++)
            {
                var packed = block[4 + i / 2];
                var nibble = (i & 1) == 0 ? packed & 0xF : packed >> 4;
                output[b + i] = (nibble - zero) * scale;
            }
        }
    }

    /// <summary>BQ4 decoding, vectorized; gives exactly the floats of <see cref="DequantizeReference"/>.</summary>
    public static void Dequantize(ReadOnlySpan<byte> data, Span<float> output)
    {
        if (!Avx2.IsSupported)
        {
            DequantizeReference(data, output);
            return;
        }
        CheckDataLength(data, output.Length);
        var fullBlocks = output.Length / BlockValues;
        ref var src = ref MemoryMarshal.GetReference(data);
        ref var dst = ref MemoryMarshal.GetReference(output);
        var low = Vector128.Create((ushort)0xF);
        for (var b = 0; b < fullBlocks; b++)
        {
            ref var block = ref Unsafe.Add(ref src, b * BlockBytes);
            var scale = Vector256.Create((float)BinaryPrimitives.ReadHalfLittleEndian(MemoryMarshal.CreateReadOnlySpan(ref block, 2)));
            var zero = Vector256.Create((int)(sbyte)Unsafe.Add(ref block, 2));
            var packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 4));
            // Widening byte i to 16 bits and moving its high nibble into the upper byte puts nibble 2i at byte 2i
            // and nibble 2i+1 at byte 2i+1: the values in order, one per byte.
            var w0 = Vector128.WidenLower(packed);
            var w1 = Vector128.WidenUpper(packed);
            var n0 = ((w0 & low) | ((w0 >> 4) << 8)).AsByte();
            var n1 = ((w1 & low) | ((w1 >> 4) << 8)).AsByte();
            ref var o = ref Unsafe.Add(ref dst, b * BlockValues);
            StoreValues(Avx2.ConvertToVector256Int32(n0), zero, scale, ref o, 0);
            StoreValues(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(n0, 8)), zero, scale, ref o, 8);
            StoreValues(Avx2.ConvertToVector256Int32(n1), zero, scale, ref o, 16);
            StoreValues(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(n1, 8)), zero, scale, ref o, 24);
        }
        var done = fullBlocks * BlockValues;
        if (done < output.Length)
            DequantizeReference(data.Slice(fullBlocks * BlockBytes, BlockBytes), output[done..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreValues(Vector256<int> nibbles, Vector256<int> zero, Vector256<float> scale, ref float dst, int offset) =>
        (Vector256.ConvertToSingle(nibbles - zero) * scale).StoreUnsafe(ref dst, (nuint)offset);

    private static void CheckDataLength(ReadOnlySpan<byte> data, long n)
    {
        var needed = ByteCount(n);
        if (data.Length < needed)
            throw new BulletArgumentException($"BQ4 data of {n} values needs {needed} bytes, got {data.Length}");
    }

    private static void QuantizeWith<TMath>(ReadOnlySpan<float> values, Span<byte> output) where TMath : struct, IBlockMath
    {
        var needed = ByteCount(values.Length);
        if (output.Length < needed)
            throw new BulletArgumentException($"BQ4 output for {values.Length} values needs {needed} bytes, got {output.Length}");
        Span<float> padded = stackalloc float[BlockValues];
        for (long b = 0, blocks = BlockCount(values.Length); b < blocks; b++)
        {
            var first = (int)(b * BlockValues);
            var count = Math.Min(BlockValues, values.Length - first);
            scoped ReadOnlySpan<float> block = values.Slice(first, count);
            if (count < BlockValues)
            {
                padded.Clear();
                block.CopyTo(padded);
                block = padded;
            }
            EncodeBlock<TMath>(block, output.Slice((int)(b * BlockBytes), BlockBytes), first);
        }
    }

    private static void EncodeBlock<TMath>(ReadOnlySpan<float> x, Span<byte> dst, int firstIndex) where TMath : struct, IBlockMath
    {
        if (!TMath.AllFinite(x)) ThrowNotFinite(x, firstIndex);
        TMath.MinMax(x, out var min, out var max);
        float scale;
        int start;
        if (min == 0 && max == 0)
        {
            scale = 0;
            start = 0;
        }
        else
        {
            var cover = MathF.Max((max - min) / 15f, MathF.Max(max / MaxK, min / MinK));
            if (!(cover <= HalfMax)) ThrowTooLarge(x, firstIndex, min, max);
            (scale, start) = min == max ? ConstantChoice(min) : Search<TMath>(x, min, max, cover);
        }
        BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)scale);
        dst[2] = (byte)(sbyte)(-start);
        dst[3] = 0;
        var inverse = scale == 0 ? 0f : 1f / scale;
        TMath.Nibbles(x, inverse, start, dst[4..]);
    }

    private static (float Scale, int Start) Search<TMath>(ReadOnlySpan<float> x, float min, float max, float cover)
        where TMath : struct, IBlockMath
    {
        var bestScale = 0f;
        var bestStart = 0;
        var bestError = float.PositiveInfinity;
        var previous = 0f;
        foreach (var factor in s_scaleFactors)
        {
            var scale = ToHalf(cover * factor);
            if (scale == previous) continue;
            previous = scale;
            var start = CentredStart(min, max, scale);
            var error = BestWindow<TMath>(x, scale, ref start);
            if (error < bestError) (bestScale, bestStart, bestError) = (scale, start, error);
        }
        for (var round = 0; round < RefitRounds; round++)
        {
            TMath.Moments(x, 1f / bestScale, bestStart, out var xk, out var kk);
            if (kk == 0 || !(xk > 0)) break;
            var scale = ToHalf(xk / kk);
            if (scale == bestScale) break;
            var start = bestStart;
            var error = BestWindow<TMath>(x, scale, ref start);
            if (!(error < bestError)) break;
            (bestScale, bestStart, bestError) = (scale, start, error);
        }
        return (bestScale, bestStart);
    }

    /// <summary>The window start with the least error for this scale, walking from <paramref name="start"/>.</summary>
    private static float BestWindow<TMath>(ReadOnlySpan<float> x, float scale, ref int start) where TMath : struct, IBlockMath
    {
        var inverse = 1f / scale;
        while (true)
        {
            TMath.SquaredErrors(x, scale, inverse, start, out var below, out var at, out var above);
            if (below < at && start > MinStart) start--;
            else if (above < at && start < MaxStart) start++;
            else return at;
        }
    }

    private static int CentredStart(float min, float max, float scale)
    {
        var centre = MathF.Round((min * 0.5f + max * 0.5f) / scale - 7.5f);
        return (int)Math.Clamp(centre, MinStart, MaxStart);
    }

    /// <summary>All 32 values equal c: the scale and integer k (k * scale closest to c, smallest k first).</summary>
    private static (float Scale, int Start) ConstantChoice(float c)
    {
        var magnitude = MathF.Abs(c);
        var limit = c > 0 ? MaxK : -MinK;
        var (bestScale, bestK, bestError) = (HalfMin, 0, magnitude);
        for (var k = 1; k <= limit && bestError > 0; k++)
        {
            var scale = ToHalf(magnitude / k);
            var error = MathF.Abs(magnitude - k * scale);
            if (error < bestError) (bestScale, bestK, bestError) = (scale, k, error);
        }
        var signedK = c > 0 ? bestK : -bestK;
        // Any window holding k decodes the block; the one holding 0 too keeps the zero point small.
        return (bestScale, Math.Clamp(Math.Clamp(0, signedK - 15, signedK), MinStart, MaxStart));
    }

    private static float ToHalf(float value) => (float)(Half)Math.Clamp(value, HalfMin, HalfMax);

    private static void ThrowNotFinite(ReadOnlySpan<float> x, int firstIndex)
    {
        for (var i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i]))
                throw new BulletArgumentException($"cannot quantize value {x[i]} at index {firstIndex + i}: BQ4 values must be finite");
        throw new UnreachableException();
    }

    private static void ThrowTooLarge(ReadOnlySpan<float> x, int firstIndex, float min, float max)
    {
        var worst = 0;
        for (var i = 1; i < x.Length; i++)
            if (MathF.Abs(x[i]) > MathF.Abs(x[worst])) worst = i;
        throw new BulletArgumentException(
            $"cannot quantize value {x[worst]} at index {firstIndex + worst}: its block spans [{min}, {max}], which needs a " +
            $"BQ4 scale above the half-precision maximum {HalfMax} (a block must span less than about 9.8e5, and values " +
            "stay below about 9.3e6 above zero and 8.3e6 below)");
    }

    /// <summary>The per-block arithmetic both encoders share; implementations must agree bit for bit.</summary>
    private interface IBlockMath
    {
        static abstract bool AllFinite(ReadOnlySpan<float> x);
        static abstract void MinMax(ReadOnlySpan<float> x, out float min, out float max);
        /// <summary>
        /// Sums of (x - k*scale)^2 with k = clamp(round(x*inverse), s, s+15), each in TreeSum order, for the window
        /// starts s = start-1, start, start+1 (one call, so the three sums overlap in the pipeline).
        /// </summary>
        static abstract void SquaredErrors(ReadOnlySpan<float> x, float scale, float inverse, int start,
            out float below, out float at, out float above);
        /// <summary>Sum of x*k (TreeSum order) and of k*k (exact) for the same k.</summary>
        static abstract void Moments(ReadOnlySpan<float> x, float inverse, int start, out float xk, out float kk);
        /// <summary>Packs nibble k - start of each value, two per byte, low nibble first.</summary>
        static abstract void Nibbles(ReadOnlySpan<float> x, float inverse, int start, Span<byte> dst);
    }

    private readonly struct ScalarMath : IBlockMath
    {
        public static bool AllFinite(ReadOnlySpan<float> x)
        {
            foreach (var v in x)
                if (!float.IsFinite(v)) return false;
            return true;
        }

        public static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
        {
            min = max = x[0];
            foreach (var v in x)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }

        private static float K(float v, float inverse, int start) => Math.Clamp(MathF.Round(v * inverse), start, start + 15f);

        public static void SquaredErrors(ReadOnlySpan<float> x, float scale, float inverse, int start,
            out float below, out float at, out float above)
        {
            below = SquaredError(x, scale, inverse, start - 1);
            at = SquaredError(x, scale, inverse, start);
            above = SquaredError(x, scale, inverse, start + 1);
        }

        private static float SquaredError(ReadOnlySpan<float> x, float scale, float inverse, int start)
        {
            Span<float> e = stackalloc float[BlockValues];
            for (var i = 0; i < BlockValues; i++)
            {
                var d = x[i] - K(x[i], inverse, start) * scale;
                e[i] = d * d;
            }
            return TreeSum(e);
        }

        public static void Moments(ReadOnlySpan<float> x, float inverse, int start, out float xk, out float kk)
        {
            Span<float> p = stackalloc float[BlockValues];
            kk = 0;
            for (var i = 0; i < BlockValues; i++)
            {
                var k = K(x[i], inverse, start);
                p[i] = x[i] * k;
                kk += k * k;
            }
            xk = TreeSum(p);
        }

        public static void Nibbles(ReadOnlySpan<float> x, float inverse, int start, Span<byte> dst)
        {
            for (var i = 0; i < BlockValues / 2; i++)
            {
                var lo = (int)K(x[2 * i], inverse, start) - start;
                var hi = (int)K(x[2 * i + 1], inverse, start) - start;
                dst[i] = (byte)(lo | hi << 4);
            }
        }

        /// <summary>
        /// The summation order of a block: e[j] + e[16+j], then halves folded (8, 4, 2 lanes): the order an 8-lane
        /// vector accumulation of the block's four vectors produces, so both encoders round identically.
        /// </summary>
        public static float TreeSum(Span<float> e)
        {
            for (var width = 16; width >= 1; width /= 2)
                for (var j = 0; j < width; j++)
                    e[j] += e[j + width];
            return e[0];
        }
    }

    private readonly struct VectorMath : IBlockMath
    {
        public static bool AllFinite(ReadOnlySpan<float> x)
        {
            Load(x, out var v0, out var v1, out var v2, out var v3);
            // v - v is 0 for finite values and NaN for infinities and NaN.
            var d = (v0 - v0) + (v1 - v1) + (v2 - v2) + (v3 - v3);
            return Vector256.EqualsAll(d, Vector256<float>.Zero);
        }

        public static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
        {
            Load(x, out var v0, out var v1, out var v2, out var v3);
            var lo = Vector256.Min(Vector256.Min(v0, v1), Vector256.Min(v2, v3));
            var hi = Vector256.Max(Vector256.Max(v0, v1), Vector256.Max(v2, v3));
            var lo4 = Vector128.Min(lo.GetLower(), lo.GetUpper());
            var hi4 = Vector128.Max(hi.GetLower(), hi.GetUpper());
            min = MathF.Min(MathF.Min(lo4[0], lo4[1]), MathF.Min(lo4[2], lo4[3]));
            max = MathF.Max(MathF.Max(hi4[0], hi4[1]), MathF.Max(hi4[2], hi4[3]));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> K(Vector256<float> v, Vector256<float> inverse, Vector256<float> lo, Vector256<float> hi) =>
            Vector256.Min(Vector256.Max(Vector256.Round(v * inverse), lo), hi);

        public static void SquaredErrors(ReadOnlySpan<float> x, float scale, float inverse, int start,
            out float below, out float at, out float above)
        {
            Load(x, out var v0, out var v1, out var v2, out var v3);
            var inv = Vector256.Create(inverse);
            // The rounded quotients do not depend on the window; only the clamp does.
            var r0 = Vector256.Round(v0 * inv);
            var r1 = Vector256.Round(v1 * inv);
            var r2 = Vector256.Round(v2 * inv);
            var r3 = Vector256.Round(v3 * inv);
            var s = Vector256.Create(scale);
            below = Error(v0, v1, v2, v3, r0, r1, r2, r3, s, start - 1);
            at = Error(v0, v1, v2, v3, r0, r1, r2, r3, s, start);
            above = Error(v0, v1, v2, v3, r0, r1, r2, r3, s, start + 1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Error(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
            Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, Vector256<float> s, int start)
        {
            var lo = Vector256.Create((float)start);
            var hi = Vector256.Create(start + 15f);
            var d0 = v0 - Vector256.Min(Vector256.Max(r0, lo), hi) * s;
            var d1 = v1 - Vector256.Min(Vector256.Max(r1, lo), hi) * s;
            var d2 = v2 - Vector256.Min(Vector256.Max(r2, lo), hi) * s;
            var d3 = v3 - Vector256.Min(Vector256.Max(r3, lo), hi) * s;
            return Fold(d0 * d0, d1 * d1, d2 * d2, d3 * d3);
        }

        public static void Moments(ReadOnlySpan<float> x, float inverse, int start, out float xk, out float kk)
        {
            Load(x, out var v0, out var v1, out var v2, out var v3);
            var inv = Vector256.Create(inverse);
            var lo = Vector256.Create((float)start);
            var hi = Vector256.Create(start + 15f);
            var k0 = K(v0, inv, lo, hi);
            var k1 = K(v1, inv, lo, hi);
            var k2 = K(v2, inv, lo, hi);
            var k3 = K(v3, inv, lo, hi);
            xk = Fold(v0 * k0, v1 * k1, v2 * k2, v3 * k3);
            kk = Fold(k0 * k0, k1 * k1, k2 * k2, k3 * k3); // integers below 2^24: exact in any order
        }

        public static void Nibbles(ReadOnlySpan<float> x, float inverse, int start, Span<byte> dst)
        {
            Load(x, out var v0, out var v1, out var v2, out var v3);
            var inv = Vector256.Create(inverse);
            var lo = Vector256.Create((float)start);
            var hi = Vector256.Create(start + 15f);
            var p0 = Pair(v0, inv, lo, hi);
            var p1 = Pair(v1, inv, lo, hi);
            var p2 = Pair(v2, inv, lo, hi);
            var p3 = Pair(v3, inv, lo, hi);
            var bytes = Vector256.Narrow(Vector256.Narrow(Vector256.Narrow(p0, p1), Vector256.Narrow(p2, p3)), Vector256<short>.Zero);
            bytes.GetLower().AsByte().CopyTo(dst);
        }

        /// <summary>Each 64-bit lane holds nibbles 2i (low half) and 2i+1 (high half): returns lo | hi &lt;&lt; 4.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<long> Pair(Vector256<float> v, Vector256<float> inv, Vector256<float> lo, Vector256<float> hi)
        {
            var pairs = Vector256.ConvertToInt32(K(v, inv, lo, hi) - lo).AsInt64();
            return (pairs | (pairs >>> 28)) & Vector256.Create(0xFFL);
        }

        /// <summary>ScalarMath.TreeSum's order on the block's four 8-lane vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Fold(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3)
        {
            var eight = (e0 + e2) + (e1 + e3);
            var four = eight.GetLower() + eight.GetUpper();
            var two0 = four[0] + four[2];
            var two1 = four[1] + four[3];
            return two0 + two1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Load(ReadOnlySpan<float> x, out Vector256<float> v0, out Vector256<float> v1,
            out Vector256<float> v2, out Vector256<float> v3)
        {
            ref var r = ref MemoryMarshal.GetReference(x);
            v0 = Vector256.LoadUnsafe(ref r, 0);
            v1 = Vector256.LoadUnsafe(ref r, 8);
            v2 = Vector256.LoadUnsafe(ref r, 16);
            v3 = Vector256.LoadUnsafe(ref r, 24);
        }
    }
}
