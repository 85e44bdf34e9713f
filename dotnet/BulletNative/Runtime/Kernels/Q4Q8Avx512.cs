using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BulletNative.Runtime.Kernels;

/// <summary>
/// The 512-bit form of the integer kernel (groups of 16 rows, one row per 32-bit lane), self-contained so that the
/// AVX-512 kernel library (dotnet/BulletKernels512, compiled for x86-64-v4) builds it from this same file.
/// </summary>
/// <remarks>
/// .NET 10 has no intrinsic for the EVEX form of vpdpbusd (AVX512-VNNI; AvxVnni is the VEX form, which AMD Zen 4 lacks),
/// so the byte products go through vpmaddubsw + vpmaddwd as in the AVX2 kernel. Where the processor has no AVX512BW
/// (the main library, compiled for x86-64-v3, or a test on an AVX2 machine) the two products run as two 256-bit halves
/// and the other vector operations in software: the same results, slowly, so the kernel's layout logic is testable
/// on any machine.
/// </remarks>
public static unsafe class Q4Q8Avx512
{
    private const int G = 16, Stride = 24 * G;

    /// <summary>Runs one call (its weights packed in groups of 16 rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(Q4Q8Call* call)
    {
        for (var group = call->GroupFrom; group < call->GroupTo; group++)
        {
            var m = 0;
            for (; m + 4 <= call->M; m += 4) Four(call, group, m);
            for (; m < call->M; m++) One(call, group, m);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(Q4Q8Call* call, int group, int m)
    {
        var blocks = call->Blocks;
        var record = call->Weights + (long)group * blocks * Stride;
        var q = call->Q + (long)m * blocks * 32;
        float* d = call->Scales + m * blocks, ds = call->ScaledSums + m * blocks;
        Vector512<float> acc = default, correction = default;
        for (var b = 0; b < blocks; b++, record += Stride, q += 32)
        {
            var dot = Pair(Pair(Pair(Pair(Vector512<short>.Zero, record, 0, q), record, 1, q), record, 2, q), record, 3, q);
            var scales = (float*)(record + 16 * G);
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(ShortPairs(dot)), Vector512.Load(scales) * Vector512.Create(d[b]), acc);
            correction = Vector512.FusedMultiplyAdd(Vector512.Load(scales + G), Vector512.Create(ds[b]), correction);
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
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b++, record += Stride, q += 32)
        {
            Vector512<short> i0 = default, i1 = default, i2 = default, i3 = default;
            for (var p = 0; p < 4; p++)
            {
                var w = Vector512.Load(record + 64 * p);
                var mask = Vector512.Create((byte)0xF);
                Vector512<byte> lo = w & mask, hi = Vector512.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask;
                i0 += BytePairs(lo, Quad(q, 4 * p)) + BytePairs(hi, Quad(q, 16 + 4 * p));
                i1 += BytePairs(lo, Quad(q + qs, 4 * p)) + BytePairs(hi, Quad(q + qs, 16 + 4 * p));
                i2 += BytePairs(lo, Quad(q + 2 * qs, 4 * p)) + BytePairs(hi, Quad(q + 2 * qs, 16 + 4 * p));
                i3 += BytePairs(lo, Quad(q + 3 * qs, 4 * p)) + BytePairs(hi, Quad(q + 3 * qs, 16 + 4 * p));
            }
            var s = Vector512.Load((float*)(record + 16 * G));
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(ShortPairs(i0)), s * Vector512.Create(d[b]), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(ShortPairs(i1)), s * Vector512.Create(d[blocks + b]), acc1);
            acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(ShortPairs(i2)), s * Vector512.Create(d[2 * blocks + b]), acc2);
            acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(ShortPairs(i3)), s * Vector512.Create(d[3 * blocks + b]), acc3);
        }
        var ds = call->ScaledSums + m * blocks;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        record = start;
        for (var b = 0; b < blocks; b++, record += Stride)
        {
            var zs = Vector512.Load((float*)(record + 16 * G) + G);
            c0 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[b]), c0);
            c1 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[blocks + b]), c1);
            c2 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[2 * blocks + b]), c2);
            c3 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[3 * blocks + b]), c3);
        }
        Store(call, group, m, acc0 - c0);
        Store(call, group, m + 1, acc1 - c1);
        Store(call, group, m + 2, acc2 - c2);
        Store(call, group, m + 3, acc3 - c3);
    }

    /// <summary>Adds quad pair <paramref name="p"/>'s byte products (values 4p.., 16+4p..) of one block to the int16 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Pair(Vector512<short> acc, byte* record, int p, sbyte* q)
    {
        var w = Vector512.Load(record + 64 * p);
        var mask = Vector512.Create((byte)0xF);
        return acc + BytePairs(w & mask, Quad(q, 4 * p)) + BytePairs(Vector512.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask, Quad(q, 16 + 4 * p));
    }

    /// <summary>Activation values at byte <paramref name="at"/>..at+3 in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Quad(sbyte* q, int at) => Vector512.Create(*(int*)(q + at)).AsSByte();

    /// <summary>vpmaddubsw: u[2i]·s[2i] + u[2i+1]·s[2i+1] as int16 (at most 8·2·15·127 = 30,480 summed per block: no saturation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> BytePairs(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.IsSupported ? Avx512BW.MultiplyAddAdjacent(u, s)
        : Vector512.Create(Avx2.MultiplyAddAdjacent(u.GetLower(), s.GetLower()), Avx2.MultiplyAddAdjacent(u.GetUpper(), s.GetUpper()));

    /// <summary>vpmaddwd with ones: the int16 pairs summed into int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> ShortPairs(Vector512<short> v) =>
        Avx512BW.IsSupported ? Avx512BW.MultiplyAddAdjacent(v, Vector512.Create((short)1))
        : Vector512.Create(Avx2.MultiplyAddAdjacent(v.GetLower(), Vector256.Create((short)1)), Avx2.MultiplyAddAdjacent(v.GetUpper(), Vector256.Create((short)1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Q4Q8Call* call, int group, int m, Vector512<float> sums)
    {
        var y = call->Y + (long)m * call->YStride + group * G;
        var valid = call->Rows - group * G;
        if (valid >= G)
        {
            (call->Accumulate != 0 ? Vector512.Load(y) + sums : sums).Store(y);
            return;
        }
        for (var r = 0; r < valid; r++) y[r] = call->Accumulate != 0 ? y[r] + sums.GetElement(r) : sums.GetElement(r);
    }
}
