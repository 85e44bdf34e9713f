using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Model;
using BulletNative.Training;

namespace BulletBench;

/// <summary>
/// The MKL fix on AMD (native/mkl_intel_cpu.c) on and off: shakespeare-char training steps in child processes
/// (libtorch reads the choice once per process), alternating so machine noise hits both sides, and whether the
/// loss curves agree bit for bit. usage: mkl_dispatch [steps=150] [rounds=2] [threads=2]
/// </summary>
public static class MklDispatchBench
{
    public static void Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child") { Child(int.Parse(args[1]), int.Parse(args[2])); return; }
        var steps = args.Length > 0 ? int.Parse(args[0]) : 150;
        var rounds = args.Length > 1 ? int.Parse(args[1]) : 2;
        var threads = args.Length > 2 ? int.Parse(args[2]) : 2;
        Console.WriteLine($"CPU vendor {MklDispatch.CpuVendor()}; {steps} shakespeare-char steps per run, {threads} threads");
        var rates = new Dictionary<string, List<double>> { ["0"] = [], ["1"] = [] };
        var cpuRates = new Dictionary<string, List<double>> { ["0"] = [], ["1"] = [] };
        var curves = new Dictionary<string, string>();
        for (var round = 0; round < rounds; round++)
            foreach (var setting in new[] { "0", "1" })
            {
                var result = RunChild(setting, steps, threads);
                rates[setting].Add((double)result["tokens_per_sec"]!);
                cpuRates[setting].Add((double)result["tokens_per_cpu_sec"]!);
                curves[setting] = (string)result["loss_bits"]!;
                Console.WriteLine($"  {MklDispatch.Switch}={setting}: fix active {result["forced"]}, {(double)result["tokens_per_sec"]!:N0} tokens/s, " +
                                  $"{(double)result["tokens_per_cpu_sec"]!:N0} tokens per CPU second");
            }
        var off = rates["0"].Max();
        var on = rates["1"].Max();
        Console.WriteLine($"  best tokens/s: generic MKL path {off:N0}, forced Intel path {on:N0}, ratio {on / off:F2}x");
        // CPU time is steadier than wall time on a shared machine (with 1 thread; more threads add spin-waiting).
        var cpuOff = cpuRates["0"].Max();
        var cpuOn = cpuRates["1"].Max();
        Console.WriteLine($"  best tokens per CPU second: generic {cpuOff:N0}, forced Intel {cpuOn:N0}, ratio {cpuOn / cpuOff:F2}x");
        Console.WriteLine($"  loss curves bit-identical: {curves["0"] == curves["1"]}");
    }

    private static JsonObject RunChild(string setting, int steps, int threads)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!, $"mkl_dispatch --child {steps} {threads}") { RedirectStandardOutput = true };
        info.Environment[MklDispatch.Switch] = setting;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"child with {MklDispatch.Switch}={setting} failed: {output}");
        return JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
    }

    private static void Child(int steps, int threads)
    {
        var config = TrainConfig.Preset("shakespeare-char");
        config.TotalSteps = steps;
        config.Threads = threads;
        var text = File.ReadAllText(Path.Combine(TrainShakespeareBench.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt"));
        using var trainer = new Trainer(config, TokenizerCodec.Prepare(config, text));
        var losses = new List<double>();
        var seconds = 0.0;
        var cpu = TimeSpan.Zero;
        for (var i = 0; i < steps; i++)
        {
            if (i == 10) cpu = Process.GetCurrentProcess().TotalProcessorTime; // the first steps warm up allocators and kernels
            var metrics = trainer.TrainStep();
            if (i >= 10) seconds += metrics.Seconds;
            losses.Add(metrics.TrainLoss);
        }
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var bits = string.Join(",", losses.Select(l => BitConverter.DoubleToInt64Bits(l).ToString("x")));
        Console.WriteLine(new JsonObject
        {
            ["forced"] = MklDispatch.Forced,
            ["tokens_per_sec"] = (steps - 10) * trainer.TokensPerStep / seconds,
            ["tokens_per_cpu_sec"] = (steps - 10) * trainer.TokensPerStep / cpuSeconds,
            ["loss_bits"] = bits,
        }.ToJsonString());
    }
}
