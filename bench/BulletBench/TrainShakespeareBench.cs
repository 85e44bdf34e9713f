using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Training;

namespace BulletBench;

/// <summary>
/// The shakespeare-char preset on ../shared/data/tinyshakespeare.txt (first 90 % train, last 10 % val): val loss at
/// steps 500/1000/2000 (float, and BQ4 through a written and reloaded .bullet), tokens/s and wall time, then the same
/// model in plain PyTorch (bench/pytorch_reference.py, Debian's python3-torch) on the same data, and the ratio.
/// usage: train_shakespeare [steps=2000] [threads=2] [pytorch_threads=1] [--no-pytorch] [--qat] (QAT from half-way)
/// </summary>
public static class TrainShakespeareBench
{
    public static void Run(string[] args)
    {
        var numbers = args.Where(a => !a.StartsWith("--")).Select(int.Parse).ToArray();
        var steps = numbers.Length > 0 ? numbers[0] : 2000;
        var threads = numbers.Length > 1 ? numbers[1] : 2;
        var torchThreads = numbers.Length > 2 ? numbers[2] : 1;
        var dataPath = Path.Combine(RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt");

        var config = TrainConfig.Preset("shakespeare-char");
        config.TotalSteps = steps;
        config.Threads = threads;
        config.EvalBatches = 50;
        if (args.Contains("--qat")) (config.Qat, config.QatStartStep) = (true, steps / 2);
        var wall = Stopwatch.StartNew();
        var data = TokenizerCodec.Prepare(config, File.ReadAllText(dataPath));
        using var trainer = new Trainer(config, data);
        Console.WriteLine($"shakespeare-char: {config.ToModelConfig(data.Codec.VocabSize).ParameterCount:N0} parameters, " +
                          $"vocab {data.Codec.VocabSize}, {data.Train.Length:N0} train / {data.Val.Length:N0} val tokens, {steps} steps, {threads} threads" +
                          (config.Qat ? $", QAT from step {config.QatStartStep}" : ""));
        double trainSeconds = 0;
        var checkpoints = new[] { 500, 1000, 2000 }.Where(s => s < steps).Append(steps).Distinct().ToArray();
        JsonObject? final = null;
        foreach (var _ in Enumerable.Range(0, steps))
        {
            var metrics = trainer.TrainStep();
            trainSeconds += metrics.Seconds;
            if (!checkpoints.Contains((int)metrics.Step)) continue;
            var val = trainer.Evaluate()!.Value;
            var file = Path.Combine(Path.GetTempPath(), $"bench-shakespeare-{Environment.ProcessId}.bullet");
            final = ModelExporter.ExportBullet(trainer, file, new ExportOptions("shakespeare-char", VerifyWindows: 2000));
            File.Delete(file);
            Console.WriteLine($"  step {metrics.Step,5}: val loss {val:F4} (50 random batches); full val split: float {final["float_val_loss"]}, " +
                              $"BQ4 file {final["bq4_val_loss"]}, ppl ratio {final["perplexity_ratio"]}, top-1 agreement {final["top1_agreement"]}");
        }
        var ours = steps * trainer.TokensPerStep / trainSeconds;
        Console.WriteLine($"  TorchSharp: {ours:N0} training tokens/s, wall time {wall.Elapsed.TotalSeconds:F1} s (training steps {trainSeconds:F1} s)");
        if (args.Contains("--no-pytorch")) return;

        var peer = RunPeer(dataPath, $"--steps {steps} --threads {torchThreads}");
        if (peer is null) return;
        var theirs = peer["tokens_per_sec"]!.GetValue<double>();
        Console.WriteLine($"  PyTorch {peer["torch"]} ({torchThreads} thread): {theirs:N0} tokens/s, wall {peer["wall_sec"]} s, val loss {peer["val_loss"]!.ToJsonString()}");
        Console.WriteLine($"  ratio TorchSharp / PyTorch tokens/s: {ours / theirs:F2}x");
    }

    /// <summary>Runs bench/pytorch_reference.py on <paramref name="dataPath"/> with <paramref name="arguments"/> (installing Debian's torch once); null when it cannot run.</summary>
    internal static JsonObject? RunPeer(string dataPath, string arguments)
    {
        if (!HasTorch() && !InstallTorch())
        {
            Console.WriteLine("  PyTorch peer skipped: python3-torch is not installed and could not be installed");
            return null;
        }
        var script = Path.Combine(RepoRoot(), "bench", "pytorch_reference.py");
        var output = RunProcess("/usr/bin/python3", $"{script} --data {dataPath} {arguments}");
        return output is null ? null : JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
    }

    // Without OpenBLAS, Debian's torch multiplies matrices with the reference BLAS (libblas3): 20x slower
    // (a 768x128x512 matmul took 32 ms instead of ~1.5 ms here), which would flatter the ratio.
    private static bool HasTorch() =>
        RunProcess("/usr/bin/python3", "-c \"import torch\"") is not null && RunProcess("/usr/bin/dpkg", "-s libopenblas0-pthread") is not null;

    private static bool InstallTorch()
    {
        Console.WriteLine("  installing Debian's python3-torch and OpenBLAS for the PyTorch peer (a few minutes, once)");
        var sudo = Environment.UserName == "root" ? "" : "sudo ";
        return RunProcess("/bin/sh", $"-c \"{sudo}apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null\"") is not null && HasTorch();
    }

    private static string? RunProcess(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode == 0) return stdout.Result;
        Console.Error.WriteLine(stderr.Result);
        return null;
    }

    /// <summary>The repository root (the folder holding build.sh) above the running benchmark.</summary>
    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
