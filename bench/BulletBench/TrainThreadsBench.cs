using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Model;
using BulletNative.Training;

namespace BulletBench;

/// <summary>
/// The process-level choices that decide training speed, each against the product's defaults (MKL's fast path on
/// AMD, passive OpenMP waiting): MKL's generic path (BULLET_MKL_FORCE_INTEL=0) and spinning OpenMP waiters
/// (OMP_WAIT_POLICY=ACTIVE). shakespeare-char steps run in child processes (libtorch reads both once per process),
/// alternating so machine noise hits every side, on a quiet machine and beside a busy process that keeps one core
/// (as a second session would). usage: train_threads [steps=100] [rounds=2] [threads=2]
/// </summary>
public static class TrainThreadsBench
{
    private static readonly (string Name, string Variable, string Value)[] Settings =
    [
        ("defaults (MKL fast path, passive OpenMP)", "", ""),
        ("MKL generic path", MklDispatch.Switch, "0"),
        ("spinning OpenMP waiters", "OMP_WAIT_POLICY", "ACTIVE"),
    ];

    public static void Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child") { Child(int.Parse(args[1]), int.Parse(args[2])); return; }
        var steps = args.Length > 0 ? int.Parse(args[0]) : 100;
        var rounds = args.Length > 1 ? int.Parse(args[1]) : 2;
        var threads = args.Length > 2 ? int.Parse(args[2]) : 2;
        Console.WriteLine($"CPU vendor {MklDispatch.CpuVendor()}; {steps} shakespeare-char steps per run, {threads} threads, best of {rounds}");
        foreach (var busy in new[] { false, true })
        {
            using var hog = busy ? Process.Start(new ProcessStartInfo("/bin/sh", "-c \"while :; do :; done\"")) : null;
            var best = new double[Settings.Length];
            try
            {
                for (var round = 0; round < rounds; round++)
                    for (var i = 0; i < Settings.Length; i++)
                        best[i] = Math.Max(best[i], RunChild(Settings[i], steps, threads));
            }
            finally
            {
                hog?.Kill();
            }
            Console.WriteLine(busy ? "  beside a busy process:" : "  quiet:");
            for (var i = 0; i < Settings.Length; i++)
                Console.WriteLine($"    {Settings[i].Name,-42} {best[i],8:N0} tokens/s  {best[i] / best[0]:F2}x");
        }
    }

    private static double RunChild((string Name, string Variable, string Value) setting, int steps, int threads)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!, $"train_threads --child {steps} {threads}") { RedirectStandardOutput = true };
        info.Environment.Remove(MklDispatch.Switch);
        info.Environment.Remove("OMP_WAIT_POLICY");
        if (setting.Variable != "") info.Environment[setting.Variable] = setting.Value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"child '{setting.Name}' failed: {output}");
        return (double)JsonNode.Parse(output.Trim().Split('\n')[^1])!["tokens_per_sec"]!;
    }

    private static void Child(int steps, int threads)
    {
        var config = TrainConfig.Preset("shakespeare-char");
        config.TotalSteps = steps;
        config.Threads = threads;
        var text = File.ReadAllText(Path.Combine(TrainShakespeareBench.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt"));
        using var trainer = new Trainer(config, TokenizerCodec.Prepare(config, text));
        var seconds = 0.0;
        for (var i = 0; i < steps; i++)
        {
            var metrics = trainer.TrainStep();
            if (i >= 10) seconds += metrics.Seconds; // the first steps warm up allocators and kernels
        }
        Console.WriteLine(new JsonObject { ["tokens_per_sec"] = (steps - 10) * trainer.TokensPerStep / seconds }.ToJsonString());
    }
}
