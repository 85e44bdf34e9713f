using BulletNative.Format;

namespace BulletBench;

/// <summary>BQ4 throughput: the scalar reference against the SIMD path on the same Gaussian weights, in one run.</summary>
public static class Bq4Bench
{
    /// <summary>Args: [millions of values] (default 16).</summary>
    public static void Run(string[] args)
    {
        var n = (args.Length > 0 ? int.Parse(args[0]) : 16) * 1_000_000 / 32 * 32;
        var random = new Random(42);
        var values = new float[n];
        for (var i = 0; i < n; i++)
            values[i] = (float)BulletNative.Builder.RandomWeights.Gaussian(random, 0.02);
        var data = new byte[Bq4.ByteCount(n)];
        var check = new byte[data.Length];
        var decoded = new float[n];
        var inputMegabytes = n * 4.0 / 1e6;
        WarmUp(values.AsSpan(0, Math.Min(n, 1 << 16)));

        var quantizeScalar = Timing.BestSeconds(() => Bq4.QuantizeReference(values, check), repeats: 2);
        var quantizeSimd = Timing.BestSeconds(() => Bq4.Quantize(values, data), repeats: 3);
        if (!data.AsSpan().SequenceEqual(check)) throw new InvalidOperationException("SIMD and scalar bytes differ");
        var dequantizeScalar = Timing.BestSeconds(() => Bq4.DequantizeReference(data, decoded), repeats: 3);
        var dequantizeSimd = Timing.BestSeconds(() => Bq4.Dequantize(data, decoded));

        Console.WriteLine($"BQ4 on {n:N0} Gaussian floats ({inputMegabytes:F0} MB of float32), best of runs; MB/s of float32 values (quantize input, dequantize output)");
        Report("quantize", inputMegabytes, quantizeScalar, quantizeSimd);
        Report("dequantize", inputMegabytes, dequantizeScalar, dequantizeSimd);
    }

    /// <summary>Runs every path on a small slice until tiered JIT has had time to compile its optimized code.</summary>
    private static void WarmUp(ReadOnlySpan<float> sample)
    {
        var data = new byte[Bq4.ByteCount(sample.Length)];
        var decoded = new float[sample.Length];
        for (var i = 0; i < 40; i++)
        {
            Bq4.QuantizeReference(sample, data);
            Bq4.Quantize(sample, data);
            Bq4.DequantizeReference(data, decoded);
            Bq4.Dequantize(data, decoded);
            if (i % 10 == 9) Thread.Sleep(100);
        }
    }

    private static void Report(string what, double megabytes, double scalar, double simd) =>
        Console.WriteLine($"{what,-11} scalar {megabytes / scalar,8:F1} MB/s   SIMD {megabytes / simd,8:F1} MB/s   SIMD/scalar {scalar / simd,5:F1}x");
}
