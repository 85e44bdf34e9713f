using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BulletNative.Runtime.Kernels;

/// <summary>The integer kernels for packed 4-bit weights × int8 activations, slowest first.</summary>
public enum Q4Q8Kernel
{
    /// <summary><see cref="Q4Q8.RunReference"/>: the definition, plain scalar code.</summary>
    Scalar,
    /// <summary>AVX2: vpmaddubsw + vpmaddwd on 8 rows at once.</summary>
    Avx2,
    /// <summary>AVX-VNNI: vpdpbusd (VEX, 256-bit) on 8 rows at once.</summary>
    AvxVnni,
    /// <summary>AVX-512 (F, BW): vpmaddubsw + vpmaddwd on 16 rows at once; in the published library from a second build.</summary>
    Avx512,
}

/// <summary>
/// Products of packed BQ4 weights (<see cref="PackedQ4"/>) with int8 activation rows (<see cref="Q8Rows"/>): per weight
/// row r and activation row m, y = Σ_blocks (s_r·d_m)·I − Σ_blocks (s_r·z_r)·(d_m·Σq_m) with I = Σ nibble·q the block's
/// exact integer dot product; both sums run block by block with fused multiply-adds.
/// </summary>
/// <remarks>
/// Every variant computes exactly the float operations of <see cref="RunReference"/> in the same order for each output
/// (one lane per weight row; the integer part is exact), so every variant gives the same bits as the definition. Each
/// output depends only on its own activation row, so a row's result is the same whatever else shares the batch.
/// </remarks>
public static unsafe class Q4Q8
{
    /// <summary>The fastest kernel this process can run (<c>BULLET_KERNEL</c>=scalar|avx2|avxvnni|avx512 caps it).</summary>
    public static Q4Q8Kernel Best { get; } = ChooseBest();

    private static Q4Q8Kernel ChooseBest()
    {
        var best = Avx512Library.Available ? Q4Q8Kernel.Avx512
            : AvxVnni.IsSupported ? Q4Q8Kernel.AvxVnni
            : Avx2.IsSupported ? Q4Q8Kernel.Avx2
            : Q4Q8Kernel.Scalar;
        var cap = Environment.GetEnvironmentVariable("BULLET_KERNEL");
        return Enum.TryParse<Q4Q8Kernel>(cap, ignoreCase: true, out var limit) && limit < best ? limit : best;
    }

    /// <summary>True when this processor runs <paramref name="kernel"/> with its own instructions (not emulated).</summary>
    public static bool RunsNatively(Q4Q8Kernel kernel) => kernel switch
    {
        Q4Q8Kernel.Scalar => true,
        Q4Q8Kernel.Avx2 => Avx2.IsSupported,
        Q4Q8Kernel.AvxVnni => AvxVnni.IsSupported,
        _ => Avx512BW.IsSupported || Avx512Library.Available,
    };

    /// <summary>Rows per group of the packing <paramref name="kernel"/> reads.</summary>
    public static int GroupRows(Q4Q8Kernel kernel) => kernel == Q4Q8Kernel.Avx512 ? 16 : 8;

    /// <summary>
    /// Y[m·yStride + r] (+)= row r of <paramref name="weights"/> · activation row m, for m &lt; <paramref name="m"/>;
    /// groups of rows are split over up to <paramref name="threads"/> threads when the product is large enough.
    /// </summary>
    public static void Multiply(PackedQ4 weights, Q8Rows activations, int m, float* y, int yStride, bool accumulate, int threads, Q4Q8Kernel kernel)
    {
        if (weights.GroupRows != GroupRows(kernel)) throw new BulletArgumentException($"the {kernel} kernel reads groups of {GroupRows(kernel)} rows, the weights have {weights.GroupRows}");
        if (activations.Cols != weights.Cols) throw new BulletArgumentException($"activations have {activations.Cols} values, the weights {weights.Cols} columns");
        if (m < 0 || m > activations.Capacity) throw new BulletArgumentException($"{m} activation rows, room for {activations.Capacity}");
        if (yStride < weights.Rows) throw new BulletArgumentException($"output stride {yStride} is less than {weights.Rows} rows");
        var call = new Q4Q8Call
        {
            Weights = weights.Data, GroupRows = weights.GroupRows, Blocks = weights.Blocks, GroupFrom = 0, GroupTo = weights.Groups,
            Rows = weights.Rows, Q = activations.Q, Scales = activations.Scales, ScaledSums = activations.ScaledSums, M = m,
            Y = y, YStride = yStride, Accumulate = accumulate ? 1 : 0,
        };
        // Below this many weight bytes × rows per thread, waking a thread costs more than it saves.
        const long perThreadMinimum = 1L << 19;
        var parts = (int)Math.Min(Math.Min(threads, weights.Groups), Math.Max(1, weights.ByteSize * m / perThreadMinimum));
        if (parts <= 1)
        {
            Run(&call, kernel);
            return;
        }
        RunSplit(call, parts, kernel);
    }

    private static void RunSplit(Q4Q8Call whole, int parts, Q4Q8Kernel kernel)
    {
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            var slice = whole;
            slice.GroupFrom = (int)((long)whole.GroupTo * part / parts);
            slice.GroupTo = (int)((long)whole.GroupTo * (part + 1) / parts);
            Run(&slice, kernel);
        });
    }

    /// <summary>Runs one call with a chosen kernel (emulated when the processor lacks its instructions: tests only).</summary>
    internal static void Run(Q4Q8Call* call, Q4Q8Kernel kernel)
    {
        switch (kernel)
        {
            case Q4Q8Kernel.Avx2: Avx2Kernel<MaddDot>.Run(call); break;
            case Q4Q8Kernel.AvxVnni: Avx2Kernel<VnniDot>.Run(call); break;
            case Q4Q8Kernel.Avx512:
                if (!Avx512BW.IsSupported && Avx512Library.Available) Avx512Library.Run(call);
                else Q4Q8Avx512.Run(call);
                break;
            default: RunReference(call); break;
        }
    }

    /// <summary>The definition, one output at a time, reading the packed layout value by value.</summary>
    public static void RunReference(Q4Q8Call* call)
    {
        int g = call->GroupRows, blocks = call->Blocks, stride = 24 * g;
        for (var group = call->GroupFrom; group < call->GroupTo; group++)
            for (var m = 0; m < call->M; m++)
                for (var r = 0; r < g && group * g + r < call->Rows; r++)
                {
                    float acc = 0, correction = 0;
                    for (var b = 0; b < blocks; b++)
                    {
                        var record = call->Weights + ((long)group * blocks + b) * stride;
                        var q = call->Q + ((long)m * blocks + b) * 32;
                        var dot = 0;
                        for (var p = 0; p < 4; p++)
                            for (var k = 0; k < 4; k++)
                            {
                                var packed = record[(p * g + r) * 4 + k];
                                dot += (packed & 0xF) * q[4 * p + k] + (packed >> 4) * q[16 + 4 * p + k];
                            }
                        var scales = (float*)(record + 16 * g);
                        var d = call->Scales[m * blocks + b];
                        acc = MathF.FusedMultiplyAdd(dot, scales[r] * d, acc);
                        correction = MathF.FusedMultiplyAdd(scales[g + r], call->ScaledSums[m * blocks + b], correction);
                    }
                    ref var y = ref call->Y[(long)m * call->YStride + group * g + r];
                    y = call->Accumulate != 0 ? y + (acc - correction) : acc - correction;
                }
    }

    /// <summary>
    /// The exact integer dot product of one block for 8 rows, one 32-bit lane per row, built quad pair by quad pair:
    /// <c>lo</c> holds each row's values 4p..4p+3, <c>hi</c> values 16+4p..16+4p+3, matched by the activation quads
    /// broadcast to every lane.
    /// </summary>
    private interface IBlockDot
    {
        static abstract Vector256<int> Pair(Vector256<int> acc, Vector256<byte> lo, Vector256<byte> hi, Vector256<sbyte> qlo, Vector256<sbyte> qhi);
        static abstract Vector256<int> Finish(Vector256<int> acc);
    }

    /// <summary>AVX2: byte products summed in pairs to int16 (at most 8·2·15·127 = 30,480: no saturation), then to int32 once.</summary>
    private readonly struct MaddDot : IBlockDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Pair(Vector256<int> acc, Vector256<byte> lo, Vector256<byte> hi, Vector256<sbyte> qlo, Vector256<sbyte> qhi) =>
            (acc.AsInt16() + Avx2.MultiplyAddAdjacent(lo, qlo) + Avx2.MultiplyAddAdjacent(hi, qhi)).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Finish(Vector256<int> acc) => Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256.Create((short)1));
    }

    /// <summary>AVX-VNNI: four byte products straight into each int32 lane; emulated by AVX2 where the processor lacks it.</summary>
    private readonly struct VnniDot : IBlockDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Pair(Vector256<int> acc, Vector256<byte> lo, Vector256<byte> hi, Vector256<sbyte> qlo, Vector256<sbyte> qhi) =>
            DotAdd(DotAdd(acc, lo, qlo), hi, qhi);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Finish(Vector256<int> acc) => acc;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> DotAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
            AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, u, s)
            : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));
    }

    /// <summary>Activation values at byte <paramref name="at"/>..at+3 in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Quad(sbyte* q, int at) => Vector256.Create(*(int*)(q + at)).AsSByte();

    /// <summary>
    /// The 256-bit kernels over groups of 8 rows; four activation rows share one pass over the weights. The zero-point
    /// sums only need the scales, so they run in a loop of their own: the main loop keeps its accumulators in registers.
    /// </summary>
    private static class Avx2Kernel<TDot> where TDot : IBlockDot
    {
        private const int G = 8, Stride = 24 * G;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(Q4Q8Call* call)
        {
            for (var group = call->GroupFrom; group < call->GroupTo; group++)
            {
                var pair = group + 1 < call->GroupTo;
                var m = 0;
                for (; m + 4 <= call->M; m += 4)
                {
                    Four(call, group, m);
                    if (pair) Four(call, group + 1, m);
                }
                for (; m < call->M; m++)
                    if (pair) Two(call, group, m);
                    else One(call, group, m);
                if (pair) group++;
            }
        }

        /// <summary>One activation row against two neighbouring groups: their weights share each activation quad.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Two(Q4Q8Call* call, int group, int m)
        {
            var blocks = call->Blocks;
            var first = call->Weights + (long)group * blocks * Stride;
            var second = first + (long)blocks * Stride;
            var q = call->Q + (long)m * blocks * 32;
            float* d = call->Scales + m * blocks, ds = call->ScaledSums + m * blocks;
            Vector256<float> acc0 = default, acc1 = default, c0 = default, c1 = default;
            var mask = Vector256.Create((byte)0xF);
            for (var b = 0; b < blocks; b++, first += Stride, second += Stride, q += 32)
            {
                Vector256<int> i0 = default, i1 = default;
                for (var p = 0; p < 4; p++)
                {
                    Vector256<sbyte> qlo = Quad(q, 4 * p), qhi = Quad(q, 16 + 4 * p);
                    Vector256<byte> w = Vector256.Load(first + 32 * p), x = Vector256.Load(second + 32 * p);
                    i0 = TDot.Pair(i0, w & mask, Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask, qlo, qhi);
                    i1 = TDot.Pair(i1, x & mask, Vector256.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask, qlo, qhi);
                }
                var db = Vector256.Create(d[b]);
                var dsb = Vector256.Create(ds[b]);
                float* s0 = (float*)(first + 16 * G), s1 = (float*)(second + 16 * G);
                acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i0)), Vector256.Load(s0) * db, acc0);
                acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i1)), Vector256.Load(s1) * db, acc1);
                c0 = Fma.MultiplyAdd(Vector256.Load(s0 + G), dsb, c0);
                c1 = Fma.MultiplyAdd(Vector256.Load(s1 + G), dsb, c1);
            }
            Store(call, group, m, acc0 - c0);
            Store(call, group + 1, m, acc1 - c1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> Pair(Vector256<int> acc, byte* record, int p, sbyte* q)
        {
            var w = Vector256.Load(record + 32 * p);
            var mask = Vector256.Create((byte)0xF);
            return TDot.Pair(acc, w & mask, Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask, Quad(q, 4 * p), Quad(q, 16 + 4 * p));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void One(Q4Q8Call* call, int group, int m)
        {
            var blocks = call->Blocks;
            var record = call->Weights + (long)group * blocks * Stride;
            var q = call->Q + (long)m * blocks * 32;
            float* d = call->Scales + m * blocks, ds = call->ScaledSums + m * blocks;
            Vector256<float> acc = default, correction = default;
            for (var b = 0; b < blocks; b++, record += Stride, q += 32)
            {
                var dot = Pair(Pair(Pair(Pair(Vector256<int>.Zero, record, 0, q), record, 1, q), record, 2, q), record, 3, q);
                var scales = (float*)(record + 16 * G);
                acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(dot)), Vector256.Load(scales) * Vector256.Create(d[b]), acc);
                correction = Fma.MultiplyAdd(Vector256.Load(scales + G), Vector256.Create(ds[b]), correction);
            }
            Store(call, group, m, acc - correction);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Four(Q4Q8Call* call, int group, int m)
        {
            var blocks = call->Blocks;
            var start = call->Weights + (long)group * blocks * Stride;
            var record = start;
            var q = call->Q + (long)m * blocks * 32;
            var qs = blocks * 32;
            var d = call->Scales + m * blocks;
            Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (var b = 0; b < blocks; b++, record += Stride, q += 32)
            {
                Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
                for (var p = 0; p < 4; p++)
                {
                    var w = Vector256.Load(record + 32 * p);
                    var mask = Vector256.Create((byte)0xF);
                    Vector256<byte> lo = w & mask, hi = Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask;
                    i0 = TDot.Pair(i0, lo, hi, Quad(q, 4 * p), Quad(q, 16 + 4 * p));
                    i1 = TDot.Pair(i1, lo, hi, Quad(q + qs, 4 * p), Quad(q + qs, 16 + 4 * p));
                    i2 = TDot.Pair(i2, lo, hi, Quad(q + 2 * qs, 4 * p), Quad(q + 2 * qs, 16 + 4 * p));
                    i3 = TDot.Pair(i3, lo, hi, Quad(q + 3 * qs, 4 * p), Quad(q + 3 * qs, 16 + 4 * p));
                }
                var s = Vector256.Load((float*)(record + 16 * G));
                acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i0)), s * Vector256.Create(d[b]), acc0);
                acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i1)), s * Vector256.Create(d[blocks + b]), acc1);
                acc2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i2)), s * Vector256.Create(d[2 * blocks + b]), acc2);
                acc3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TDot.Finish(i3)), s * Vector256.Create(d[3 * blocks + b]), acc3);
            }
            var ds = call->ScaledSums + m * blocks;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            record = start;
            for (var b = 0; b < blocks; b++, record += Stride)
            {
                var zs = Vector256.Load((float*)(record + 16 * G) + G);
                c0 = Fma.MultiplyAdd(zs, Vector256.Create(ds[b]), c0);
                c1 = Fma.MultiplyAdd(zs, Vector256.Create(ds[blocks + b]), c1);
                c2 = Fma.MultiplyAdd(zs, Vector256.Create(ds[2 * blocks + b]), c2);
                c3 = Fma.MultiplyAdd(zs, Vector256.Create(ds[3 * blocks + b]), c3);
            }
            Store(call, group, m, acc0 - c0);
            Store(call, group, m + 1, acc1 - c1);
            Store(call, group, m + 2, acc2 - c2);
            Store(call, group, m + 3, acc3 - c3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Q4Q8Call* call, int group, int m, Vector256<float> sums)
        {
            var y = call->Y + (long)m * call->YStride + group * G;
            var valid = call->Rows - group * G;
            if (valid >= G)
            {
                (call->Accumulate != 0 ? Vector256.Load(y) + sums : sums).Store(y);
                return;
            }
            for (var r = 0; r < valid; r++) y[r] = call->Accumulate != 0 ? y[r] + sums.GetElement(r) : sums.GetElement(r);
        }
    }
}
