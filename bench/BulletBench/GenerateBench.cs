using System.Diagnostics;
using System.Text;
using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Runtime;
using BulletNative.Runtime.Kernels;

namespace BulletBench;

/// <summary>
/// Generation speed: the SIMD runtime against the scalar reference forward pass, in one run, for the medium
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
        var (mediumBytes, mediumSource) = MediumModel();
        var medium = BulletModel.Load(mediumBytes);
        var rssMedium = RssMegabytes();
        var fixturePath = Path.Combine(RepoRoot(), "..", "shared", "fixtures", "reference-597vocab.bullet");
        var fixture = BulletModel.Load(fixturePath);
        var kernels = Enum.GetValues<Q4Q8Kernel>().Where(k => k != Q4Q8Kernel.Scalar && k <= Q4Q8.Best && Q4Q8.RunsNatively(k)).Reverse().ToArray();
        var cores = Environment.ProcessorCount;
        Console.WriteLine($"cores: {cores}; greedy decoding from position 0; best of 5 runs after a warm-up (other load on the machine lowers every figure)");
        Console.WriteLine($"RSS: {rssBefore:F0} MB before loading, {rssMedium:F0} MB after loading the medium model (file {medium.File.Data.Length / 1e6:F1} MB, held in memory once)");

        foreach (var kernel in kernels)
        {
            var packed = medium.Packed(Q4Q8.GroupRows(kernel)).Layers[0].GateUp;
            var input = new Q8Rows(packed.Cols, 1);
            input.Quantize(0, Enumerable.Range(0, packed.Cols).Select(i => MathF.Sin(i)).ToArray());
            var output = new float[packed.Rows];
            var seconds = Timing.BestSeconds(() => { for (var i = 0; i < 20; i++) Multiply(packed, input, output, kernel); }, repeats: 200) / 20;
            var blocks = (double)packed.Rows * packed.Blocks;
            Console.WriteLine($"kernel {kernel}: one [{packed.Rows}, {packed.Cols}] packed 4-bit matrix × int8 vector {seconds * 1e6:F1} µs, {seconds * 1e9 / blocks:F2} ns per 32-value block");
        }

        double ours1 = 0;
        foreach (var (name, model) in new[] { ("(a) medium: vocab 4000, d 256, 8 layers, 8 heads, ctx 512, random weights", medium), ("(b) reference-597vocab fixture", fixture) })
        {
            Console.WriteLine(name);
            var count = Math.Min(tokens, model.Dimensions.MaxContext);
            var shortCount = Math.Min(8, count);
            TokensPerSecond(new ReferenceForward(model), 2, repeats: 1);
            var scalar = TokensPerSecond(new ReferenceForward(model), shortCount, repeats: 2);
            var simdShort = TokensPerSecond(new FastForward(model, 1, kernels[0]), shortCount, repeats: 20);
            Console.WriteLine($"  first {shortCount} tokens: scalar reference {scalar,8:F1} tok/s   SIMD ({kernels[0]}, 1 thread) {simdShort,8:F1} tok/s   SIMD/scalar {simdShort / scalar,6:F1}x");
            foreach (var kernel in kernels)
                foreach (var threads in new[] { 1, cores }.Distinct())
                {
                    var simd = TokensPerSecond(new FastForward(model, threads, kernel), count, repeats: 5);
                    var line = $"  {count} tokens, SIMD {kernel,-6} {threads} thread(s): {simd,8:F1} tok/s";
                    if (model == medium)
                    {
                        var bytes = model.Packed(Q4Q8.GroupRows(kernel)).BytesPerToken;
                        line += $"   packed weights {bytes / 1e6:F2} MB/token → {bytes * simd / 1e9:F1} GB/s";
                    }
                    Console.WriteLine(line);
                    if (model == medium && kernel == kernels[0] && threads == 1) ours1 = simd;
                }
            if (model == medium && LlamaCppColumn.TokensPerSecond(RepoRoot(), mediumSource, count) is { } llama)
                Console.WriteLine($"  {count} tokens, llama.cpp via node-llama-cpp 3.21.1, Q4_0 GGUF of the same float weights, 1 thread: {llama,8:F1} tok/s   BQ4 SIMD 1 thread / llama.cpp {ours1 / llama,5:F2}x");
            if (model == medium && LlamaCppColumn.NativeTokensPerSecond(RepoRoot(), mediumSource, count) is { } native)
                Console.WriteLine($"  {count} tokens, llama.cpp native llama-bench, Q4_0 GGUF of the same float weights, 1 thread: {native,8:F1} tok/s   BQ4 SIMD 1 thread / llama-bench {ours1 / native,5:F2}x");
        }

        var prompt = Enumerable.Range(0, 256).Select(i => (i * 31 + 7) % medium.Dimensions.VocabSize).ToArray();
        foreach (var threads in new[] { 1, cores }.Distinct())
        {
            var options = new GenerationOptions { Temperature = 0, MaxTokens = 1, Threads = threads };
            var best = double.MaxValue;
            for (var i = 0; i < 4; i++)
            {
                var generator = new Generator(medium, prompt, options);
                generator.Next();
                if (i > 0) best = Math.Min(best, generator.Sequence.TimeToFirstTokenSeconds);
            }
            Console.WriteLine($"time to first token, 256-token prompt, medium model, {threads} thread(s): {best * 1e3:F1} ms ({256 / best:F0} prompt tok/s)");
        }
    }

    private static unsafe void Multiply(PackedQ4 packed, Q8Rows input, float[] output, Q4Q8Kernel kernel)
    {
        fixed (float* y = output) Q4Q8.Multiply(packed, input, 1, y, packed.Rows, accumulate: false, threads: 1, kernel);
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
                token = Sampler.ArgMax(logits);
            }
        }, repeats);
        return count / seconds;
    }

    /// <summary>The medium size with random weights: vocab 4000, d 256, 8 layers, 8 heads, context 512 (.bullet bytes, and the floats for GGUF).</summary>
    private static (byte[] Bullet, GgufSource Floats) MediumModel()
    {
        var dims = new ModelDimensions(256, 8, 8, 4000, 512);
        var tokens = new List<byte[]> { "<unk>"u8.ToArray(), " "u8.ToArray() };
        for (var i = 0; tokens.Count < dims.VocabSize; i++) tokens.Add(Encoding.UTF8.GetBytes($"w{i}"));
        var vocabulary = new BulletVocabulary(tokens, null, []);
        var weights = RandomWeights.Create(dims, seed: 1);
        var floats = new GgufSource("float", "exact", "bench-medium", dims, vocabulary, weights.ToDictionary(w => w.Name, w => w.Values.ToArray()));
        return (BulletWriter.ToBytes(new BulletModelContent("bench-medium", dims, vocabulary, weights)), floats);
    }

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
