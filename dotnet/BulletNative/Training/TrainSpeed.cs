using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Training;

/// <summary>
/// How long a training step takes on this machine: a cost model (per-step overhead growing with depth, plus
/// floating-point work at a measured rate) whose two constants come from a short calibration — a few steps of two
/// small configs — cached per machine, thread count and library version in a small JSON file
/// (BULLET_NATIVE_CACHE_DIR, else XDG_CACHE_HOME/bullet-native, else ~/.cache/bullet-native). Before a calibration
/// the constants measured when the shape table was made (docs/training.md) stand in.
/// </summary>
public static class TrainSpeed
{
    /// <summary>The environment variable naming the cache folder.</summary>
    public const string CacheDirVariable = "BULLET_NATIVE_CACHE_DIR";

    private const string CacheFile = "train-speed.json";
    private static readonly object s_lock = new();

    /// <summary>The two machine constants: fixed cost per step and layer, and sustained GFLOP/s of a training step.</summary>
    public sealed record Calibration(double OverheadMsPerLayer, double Gflops, bool Measured)
    {
        /// <summary>Stand-ins before this machine is calibrated (2-core Zen 4 server, 1 thread: ~1.1 ms per layer, ~35 GFLOP/s).</summary>
        public static Calibration Default(int threads) => new(1.1, 35 * Math.Pow(Math.Min(threads, Environment.ProcessorCount), 0.8), false);
    }

    /// <summary>Estimated seconds per 1,000 optimizer steps of <paramref name="config"/> with a vocabulary of <paramref name="vocabSize"/> on this machine.</summary>
    public static double SecondsPer1000Steps(TrainConfig config, int vocabSize) =>
        1000 * SecondsPerStep(config, vocabSize, Cached(config.Threads) ?? Calibration.Default(config.Threads));

    /// <summary>Seconds per step of <paramref name="config"/> under <paramref name="calibration"/>.</summary>
    public static double SecondsPerStep(TrainConfig config, int vocabSize, Calibration calibration) =>
        calibration.OverheadMsPerLayer * (1 + config.NumLayers) * config.GradAccum / 1000 + StepFlops(config, vocabSize) / (calibration.Gflops * 1e9);

    /// <summary>
    /// Floating-point work of one optimizer step: forward and backward (3 × 2 FLOPs per multiply-add) through the
    /// block matrices (12·d² per layer), attention scores and sums (2·T·d per layer) and the output head (d·V) for every
    /// token, plus Muon's five Newton–Schulz iterations per hidden matrix.
    /// </summary>
    public static double StepFlops(TrainConfig config, int vocabSize)
    {
        double d = config.HiddenSize, layers = config.NumLayers, t = config.MaxSeqLen;
        var tokens = (double)config.BatchSize * t * config.GradAccum;
        var perToken = layers * (12 * d * d + 2 * t * d) + d * vocabSize;
        var muon = config.Optimizer == "muon" ? 390 * layers * d * d * d : 0; // 4 d×d (30 d³), 3 d×4d (90 d³ each)
        return 6 * tokens * perToken + muon;
    }

    /// <summary>This machine's calibration for <paramref name="threads"/> threads if cached, else null.</summary>
    public static Calibration? Cached(int threads)
    {
        lock (s_lock)
        {
            var entry = ReadCache()[Key(threads)] as JsonObject;
            if (entry is null) return null;
            var read = JsonFields.OfFile(CachePath);
            try
            {
                var calibration = new Calibration(read.Number(entry["overhead_ms_per_layer"], "overhead_ms_per_layer"), read.Number(entry["gflops"], "gflops"), true);
                return calibration.Gflops > 0 && calibration.OverheadMsPerLayer >= 0 ? calibration : null;
            }
            catch (BulletException)
            {
                return null; // a damaged entry is measured again
            }
        }
    }

    /// <summary>The cached calibration for <paramref name="threads"/>, measuring and caching it first when missing (a few seconds).</summary>
    public static Calibration Calibrate(int threads) => Cached(threads) ?? Measure(threads);

    /// <summary>
    /// Times a few steps of a small config (overhead-bound) and a larger one (arithmetic-bound) with
    /// <paramref name="threads"/> threads on this thread, solves the cost model's two constants and caches them.
    /// </summary>
    public static Calibration Measure(int threads)
    {
        var small = Probe(32, 2, 32, 4, threads);
        var large = Probe(192, 4, 128, 16, threads);
        // t = overhead·(1 + layers) + flops / rate, for both probes.
        var (smallUnits, largeUnits) = (1 + small.Config.NumLayers, 1 + large.Config.NumLayers);
        var (smallFlops, largeFlops) = (StepFlops(small.Config, ProbeVocab), StepFlops(large.Config, ProbeVocab));
        var secondsPerFlop = Math.Max(1e-13, (large.Seconds - small.Seconds * largeUnits / smallUnits) / (largeFlops - smallFlops * largeUnits / smallUnits));
        var overhead = Math.Max(0.05e-3, (small.Seconds - smallFlops * secondsPerFlop) / smallUnits);
        var calibration = new Calibration(overhead * 1000, 1e-9 / secondsPerFlop, true);
        lock (s_lock)
        {
            var cache = ReadCache();
            cache[Key(threads)] = new JsonObject
            {
                ["overhead_ms_per_layer"] = Math.Round(calibration.OverheadMsPerLayer, 4),
                ["gflops"] = Math.Round(calibration.Gflops, 2),
                ["measured_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(CachePath)!);
            AtomicFile.WriteAllText(CachePath, cache.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        return calibration;
    }

    /// <summary>The cache file's path.</summary>
    public static string CachePath
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable(CacheDirVariable);
            if (string.IsNullOrEmpty(dir))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
                dir = Path.Combine(root, "bullet-native");
            }
            return Path.Combine(dir, CacheFile);
        }
    }

    private const int ProbeVocab = 96;

    private static (TrainConfig Config, double Seconds) Probe(int hidden, int layers, int context, int batch, int threads)
    {
        var config = new TrainConfig
        {
            Tokenizer = "char", VocabSize = 0, HiddenSize = hidden, NumLayers = layers, NumHeads = hidden / 32,
            MaxSeqLen = context, BatchSize = batch, TotalSteps = 1000, WarmupSteps = 0, Threads = threads,
            EvalEvery = 0, SampleEvery = 0, AttentionEvery = 0, ValFraction = 0,
        };
        var ids = new int[context * 64];
        var random = new SplitMix64(7);
        for (var i = 0; i < ids.Length; i++) ids[i] = (int)random.Next(ProbeVocab);
        var data = new TokenData(ids, [], new ProbeCodec(), context, 0);
        using var trainer = new Trainer(config, data, estimatedSecondsPerStep: 0);
        for (var i = 0; i < 3; i++) trainer.TrainStep(); // warm caches and allocator
        var times = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var watch = Stopwatch.StartNew();
            trainer.TrainStep();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        return (config, times[times.Count / 2]); // the median shrugs off a step another process slowed
    }

    /// <summary>The machine (processor model and logical cores), thread count and library version an entry belongs to.</summary>
    private static string Key(int threads) => $"{CpuModel()} x{Environment.ProcessorCount} / {threads} threads / {LibraryInfo.Version}";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line != null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static JsonObject ReadCache()
    {
        try
        {
            return File.Exists(CachePath) ? JsonNode.Parse(File.ReadAllText(CachePath)) as JsonObject ?? [] : [];
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return []; // a damaged or unreadable cache is measured again
        }
    }

    /// <summary>Random token ids need no real tokenizer.</summary>
    private sealed class ProbeCodec : ITextCodec
    {
        public int VocabSize => ProbeVocab;
        public int[] Encode(string text) => [];
        public string Decode(IReadOnlyList<int> ids) => new('x', ids.Count);
        public string Kind => "char";
        public BulletVocabulary ToVocabulary() => throw new NotSupportedException("the calibration probe is never exported");
    }
}
