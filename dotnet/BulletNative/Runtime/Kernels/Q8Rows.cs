using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace BulletNative.Runtime.Kernels;

/// <summary>
/// Up to <see cref="Capacity"/> activation rows quantized to int8 per block of 32 (as llama.cpp's Q8_0): per block a
/// scale d = max|v|/127, values q = round(v/d) in [-127, 127], and d·Σq (which the weights' zero points need).
/// </summary>
/// <remarks>
/// <see cref="QuantizeReference"/> is the definition; <see cref="Quantize"/> is its vector form and gives the same bytes
/// and floats (the same float operations in the same order; the maximum and the integer sum do not depend on order).
/// </remarks>
public sealed unsafe class Q8Rows
{
    private readonly sbyte[] _q;
    private readonly float[] _scales, _scaledSums;

    /// <summary>Values per row, a positive multiple of 32.</summary>
    public int Cols { get; }
    /// <summary>Blocks of 32 values per row.</summary>
    public int Blocks => Cols / 32;
    /// <summary>The most rows the buffers hold.</summary>
    public int Capacity { get; }
    /// <summary>The int8 values, row m's at Q + m·Cols (pinned for the object's lifetime).</summary>
    public sbyte* Q => (sbyte*)Marshal.UnsafeAddrOfPinnedArrayElement(_q, 0);
    /// <summary>Each row's per-block scales d, row m's at Scales + m·Blocks.</summary>
    public float* Scales => (float*)Marshal.UnsafeAddrOfPinnedArrayElement(_scales, 0);
    /// <summary>Each row's per-block d·Σq, row m's at ScaledSums + m·Blocks.</summary>
    public float* ScaledSums => (float*)Marshal.UnsafeAddrOfPinnedArrayElement(_scaledSums, 0);

    /// <summary>Room for <paramref name="capacity"/> rows of <paramref name="cols"/> values (a multiple of 32).</summary>
    public Q8Rows(int cols, int capacity)
    {
        if (cols <= 0 || cols % 32 != 0) throw new BulletArgumentException($"int8 rows need a positive multiple of 32 values, got {cols}");
        if (capacity <= 0) throw new BulletArgumentException($"capacity {capacity} must be positive");
        Cols = cols;
        Capacity = capacity;
        _q = GC.AllocateArray<sbyte>(cols * capacity, pinned: true);
        _scales = GC.AllocateArray<float>(cols / 32 * capacity, pinned: true);
        _scaledSums = GC.AllocateArray<float>(cols / 32 * capacity, pinned: true);
    }

    /// <summary>Row <paramref name="row"/>'s int8 values.</summary>
    public ReadOnlySpan<sbyte> Values(int row) => _q.AsSpan(row * Cols, Cols);
    /// <summary>Row <paramref name="row"/>'s block scales d.</summary>
    public ReadOnlySpan<float> BlockScales(int row) => _scales.AsSpan(row * Blocks, Blocks);
    /// <summary>Row <paramref name="row"/>'s d·Σq per block.</summary>
    public ReadOnlySpan<float> BlockScaledSums(int row) => _scaledSums.AsSpan(row * Blocks, Blocks);

    /// <summary>
    /// The definition: quantizes v_i = x_i (or x_i · multiplier · weight_i when <paramref name="weight"/> is given, an
    /// RMSNorm folded in) into row <paramref name="row"/>.
    /// </summary>
    public void QuantizeReference(int row, ReadOnlySpan<float> x, ReadOnlySpan<float> weight = default, float multiplier = 1)
    {
        CheckRow(row, x, weight);
        Span<float> v = stackalloc float[32];
        for (var b = 0; b < Blocks; b++)
        {
            var max = 0f;
            for (var i = 0; i < 32; i++)
            {
                var c = b * 32 + i;
                v[i] = weight.IsEmpty ? x[c] : x[c] * multiplier * weight[c];
                max = MathF.Max(max, MathF.Abs(v[i]));
            }
            var (d, inverse) = BlockScale(max);
            var sum = 0;
            for (var i = 0; i < 32; i++)
            {
                var q = (int)Math.Clamp(MathF.Round(v[i] * inverse), -127, 127);
                _q[row * Cols + b * 32 + i] = (sbyte)q;
                sum += q;
            }
            _scales[row * Blocks + b] = d;
            _scaledSums[row * Blocks + b] = d * sum;
        }
    }

    /// <summary>The same as <see cref="QuantizeReference"/>, eight lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Quantize(int row, ReadOnlySpan<float> x, ReadOnlySpan<float> weight = default, float multiplier = 1)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            QuantizeReference(row, x, weight, multiplier);
            return;
        }
        CheckRow(row, x, weight);
        var scaled = !weight.IsEmpty;
        var m = Vector256.Create(multiplier);
        var low = Vector256.Create(-127);
        var high = Vector256.Create(127);
        fixed (float* xp = x)
        fixed (float* wp = weight)
        {
            sbyte* q = Q + row * Cols;
            for (var b = 0; b < Blocks; b++, q += 32)
            {
                var at = b * 32;
                Vector256<float> v0 = Vector256.Load(xp + at), v1 = Vector256.Load(xp + at + 8),
                    v2 = Vector256.Load(xp + at + 16), v3 = Vector256.Load(xp + at + 24);
                if (scaled)
                {
                    v0 = v0 * m * Vector256.Load(wp + at);
                    v1 = v1 * m * Vector256.Load(wp + at + 8);
                    v2 = v2 * m * Vector256.Load(wp + at + 16);
                    v3 = v3 * m * Vector256.Load(wp + at + 24);
                }
                var lanes = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
                var max = 0f;
                for (var i = 0; i < 8; i++) max = MathF.Max(max, lanes.GetElement(i));
                var (d, inverse) = BlockScale(max);
                var s = Vector256.Create(inverse);
                var q0 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(v0 * s)), low), high);
                var q1 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(v1 * s)), low), high);
                var q2 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(v2 * s)), low), high);
                var q3 = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(v3 * s)), low), high);
                Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(q);
                var sum = Vector256.Sum(q0 + q1 + q2 + q3);
                _scales[row * Blocks + b] = d;
                _scaledSums[row * Blocks + b] = d * sum;
            }
        }
    }

    /// <summary>d = max/127 and the multiplier 1/d (0 for an all-zero block).</summary>
    private static (float D, float Inverse) BlockScale(float max)
    {
        var d = max / 127f;
        return (d, d > 0 ? 1f / d : 0f);
    }

    private void CheckRow(int row, ReadOnlySpan<float> x, ReadOnlySpan<float> weight)
    {
        if ((uint)row >= (uint)Capacity) throw new BulletArgumentException($"row {row} is outside 0..{Capacity - 1}");
        if (x.Length != Cols) throw new BulletArgumentException($"a row has {Cols} values, got {x.Length}");
        if (!weight.IsEmpty && weight.Length != Cols) throw new BulletArgumentException($"the norm weight has {weight.Length} values, expected {Cols}");
    }
}
