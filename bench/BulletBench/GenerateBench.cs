using System.Diagnostics;
using System.Text;
using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Runtime;

namespace BulletBench;

/// <summary>
/// Generation speed: the SIMD runtime against the scalar reference forward pass, in one run, for the seeds' medium
/// model (random weights) and the 597-vocab reference fixture, at 1 thread and at all cores; the memory-bandwidth
/// price of the medium model, time to first token for a 256-token prompt, and RSS after loading.
/// </summary>
public static class GenerateBench
{
    /// <summary>Args: [tokens to generate per SIMD measurement] (default 256).</summary>
    public static void Run(string[] args)
    {
        var tokens = args.Length > 0 ? int.Parse(args[0]) : 256;
        var rssBefore = RssMegabytes();
        var medium = BulletModel.Load(MediumModel());
        var rssMedium = RssMegabytes();
        var fixturePath = Path.Combine(RepoRoot(), "..", "shared", "fixtures", "reference-597vocab.bullet");
        var fixture = BulletModel.Load(fixturePath);
        Console.WriteLine($"kernel: {KernelName()}, cores: {Environment.ProcessorCount}; greedy decoding from position 0; best of 3 after a warm-up");
        Console.WriteLine($"RSS: {rssBefore:F0} MB before loading, {rssMedium:F0} MB after loading the medium model " +
                          $"(its file is {medium.File.Data.Length / 1e6:F1} MB)");

        foreach (var (name, model) in new[] { ("(a) medium: vocab 4000, d 256, 8 layers, 8 heads, ctx 512", medium), ("(b) reference-597vocab fixture", fixture) })
        {
            Console.WriteLine(name);
            var count = Math.Min(tokens, model.Dimensions.MaxContext);
            var scalarCount = Math.Min(8, count);
            var scalar = TokensPerSecond(new ReferenceForward(model), scalarCount, repeats: 1);
            var simdShort = TokensPerSecond(new FastForward(model), scalarCount, repeats: 3);
            Console.WriteLine($"  first {scalarCount} tokens: scalar reference {scalar,9:F1} tok/s   SIMD 1 thread {simdShort,9:F1} tok/s   SIMD/scalar {simdShort / scalar,5:F1}x");
            foreach (var threads in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var simd = TokensPerSecond(new FastForward(model, threads), count, repeats: 3);
                var line = $"  {count} tokens, SIMD {threads} thread(s): {simd,9:F1} tok/s";
                if (model == medium)
                    line += $"   weights read {model.WeightBytesPerToken / 1e6:F2} MB/token → {model.WeightBytesPerToken * simd / 1e9:F1} GB/s";
                Console.WriteLine(line);
            }
        }

        var prompt = Enumerable.Range(0, 256).Select(i => (i * 31 + 7) % medium.Dimensions.VocabSize).ToArray();
        foreach (var threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            var pass = new FastForward(medium, threads);
            var logits = new float[medium.Dimensions.VocabSize];
            var seconds = Timing.BestSeconds(() =>
            {
                pass.Reset();
                for (var i = 0; i < prompt.Length - 1; i++) pass.Forward(prompt[i], default);
                pass.Forward(prompt[^1], logits);
            }, repeats: 3);
            Console.WriteLine($"time to first token, 256-token prompt, medium model, {threads} thread(s): {seconds * 1e3:F1} ms");
        }
    }

    private static double TokensPerSecond(IForwardPass pass, int count, int repeats)
    {
        var logits = new float[pass.Model.Dimensions.VocabSize];
        var seconds = Timing.BestSeconds(() =>
        {
            pass.Reset();
            var token = 1;
            for (var i = 0; i < count; i++)
            {
                pass.Forward(token, logits);
                token = ArgMax(logits);
            }
        }, repeats);
        return count / seconds;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>The seeds' medium size with random weights: vocab 4000, d 256, 8 layers, 8 heads, context 512.</summary>
    private static byte[] MediumModel()
    {
        var dims = new ModelDimensions(256, 8, 8, 4000, 512);
        var tokens = new List<byte[]> { "<unk>"u8.ToArray(), " "u8.ToArray() };
        for (var i = 0; tokens.Count < dims.VocabSize; i++) tokens.Add(Encoding.UTF8.GetBytes($"w{i}"));
        var vocabulary = new BulletVocabulary(tokens, null, []);
        return BulletWriter.ToBytes(new BulletModelContent("bench-medium", dims, vocabulary, RandomWeights.Create(dims, seed: 1)));
    }

    private static string KernelName() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2" : "portable";

    private static double RssMegabytes()
    {
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / 1e6;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (build.sh)");
    }
}
