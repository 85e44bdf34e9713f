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
        var mask = Vector512.Create((byte)0xF);
        var acc = Vector512<float>.Zero;
        for (var b = 0; b < blocks; b++, record += Stride, q += 32)
        {
            Vector512<byte> w0 = Vector512.Load(record), w1 = Vector512.Load(record + 64), w2 = Vector512.Load(record + 128), w3 = Vector512.Load(record + 192);
            var dot = Dot(w0 & mask, High(w0, mask), w1 & mask, High(w1, mask), w2 & mask, High(w2, mask), w3 & mask, High(w3, mask), q);
            var scales = (float*)(record + 16 * G);
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot), Vector512.Load(scales) * Vector512.Create(d[b]), acc);
            acc = Vector512.FusedMultiplyAdd(-Vector512.Load(scales + G), Vector512.Create(ds[b]), acc);
        }
        Store(call, group, m, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four(Q4Q8Call* call, int group, int m)
    {
        var blocks = call->Blocks;
        var record = call->Weights + (long)group * blocks * Stride;
        var q = call->Q + (long)m * blocks * 32;
        var qStride = blocks * 32;
        float* d = call->Scales + m * blocks, ds = call->ScaledSums + m * blocks;
        var mask = Vector512.Create((byte)0xF);
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b++, record += Stride, q += 32)
        {
            Vector512<byte> w0 = Vector512.Load(record), w1 = Vector512.Load(record + 64), w2 = Vector512.Load(record + 128), w3 = Vector512.Load(record + 192);
            Vector512<byte> l0 = w0 & mask, h0 = High(w0, mask), l1 = w1 & mask, h1 = High(w1, mask);
            Vector512<byte> l2 = w2 & mask, h2 = High(w2, mask), l3 = w3 & mask, h3 = High(w3, mask);
            var scales = (float*)(record + 16 * G);
            Vector512<float> s = Vector512.Load(scales), zs = -Vector512.Load(scales + G);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Dot(l0, h0, l1, h1, l2, h2, l3, h3, q)), s * Vector512.Create(d[b]), acc0);
            acc0 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[b]), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Dot(l0, h0, l1, h1, l2, h2, l3, h3, q + qStride)), s * Vector512.Create(d[blocks + b]), acc1);
            acc1 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[blocks + b]), acc1);
            acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Dot(l0, h0, l1, h1, l2, h2, l3, h3, q + 2 * qStride)), s * Vector512.Create(d[2 * blocks + b]), acc2);
            acc2 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[2 * blocks + b]), acc2);
            acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Dot(l0, h0, l1, h1, l2, h2, l3, h3, q + 3 * qStride)), s * Vector512.Create(d[3 * blocks + b]), acc3);
            acc3 = Vector512.FusedMultiplyAdd(zs, Vector512.Create(ds[3 * blocks + b]), acc3);
        }
        Store(call, group, m, acc0);
        Store(call, group, m + 1, acc1);
        Store(call, group, m + 2, acc2);
        Store(call, group, m + 3, acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> High(Vector512<byte> w, Vector512<byte> mask) => Vector512.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask;

    /// <summary>The exact integer dot product of one block for 16 rows (see Q4Q8's AVX2 form for the bounds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<byte> l0, Vector512<byte> h0, Vector512<byte> l1, Vector512<byte> h1,
        Vector512<byte> l2, Vector512<byte> h2, Vector512<byte> l3, Vector512<byte> h3, sbyte* q)
    {
        var sum = BytePairs(l0, Quad(q, 0)) + BytePairs(h0, Quad(q, 16)) + BytePairs(l1, Quad(q, 4)) + BytePairs(h1, Quad(q, 20))
            + BytePairs(l2, Quad(q, 8)) + BytePairs(h2, Quad(q, 24)) + BytePairs(l3, Quad(q, 12)) + BytePairs(h3, Quad(q, 28));
        return ShortPairs(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Quad(sbyte* q, int at) => Vector512.Create(*(int*)(q + at)).AsSByte();

    /// <summary>vpmaddubsw: u[2i]·s[2i] + u[2i+1]·s[2i+1] as int16.</summary>
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
