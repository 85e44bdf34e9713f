using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BulletNative.Builder;
using BulletNative.Format;

namespace BulletBench;

/// <summary>
/// llama.cpp's decoding speed on the same weights, exported as Q4_0 GGUF and run through node-llama-cpp
/// (tools/llama, installed by ./build.sh test) on one thread. node-llama-cpp adds JavaScript overhead per token,
/// so this figure is a lower bound on llama.cpp's native speed; llama-bench gives the native one.
/// </summary>
public static class LlamaCppColumn
{
    /// <summary>
    /// llama.cpp's native tokens/s from its own llama-bench (built once from node-llama-cpp's bundled source by
    /// tools/llama/build-llama-bench.sh): mean of 3 runs generating <paramref name="tokens"/> tokens on 1 thread.
    /// </summary>
    public static double? NativeTokensPerSecond(string repoRoot, GgufSource source, int tokens)
    {
        var script = Path.Combine(repoRoot, "tools", "llama", "build-llama-bench.sh");
        var (code, binary, error) = RunProcess(script, [], repoRoot);
        if (code != 0)
        {
            Console.WriteLine($"  llama-bench column skipped: {error.Trim()}");
            return null;
        }
        var gguf = Path.Combine(Path.GetTempPath(), $"bullet-bench-native-{Environment.ProcessId}.gguf");
        try
        {
            GgufExporter.Export(source, gguf, new JsonObject { ["type"] = "q4_0" });
            var (benchCode, output, benchError) = RunProcess(binary.Trim(),
                ["-m", gguf, "-t", "1", "-p", "0", "-n", tokens.ToString(CultureInfo.InvariantCulture), "-r", "3", "-o", "json"], repoRoot);
            if (benchCode != 0) throw new InvalidOperationException($"llama-bench failed: {benchError}");
            return JsonNode.Parse(output)!.AsArray()[0]!["avg_ts"]!.GetValue<double>();
        }
        finally
        {
            File.Delete(gguf);
        }
    }

    private static (int Code, string Output, string Error) RunProcess(string file, string[] args, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    /// <summary>Best tokens/s of 3 runs generating <paramref name="tokens"/> greedy tokens, or null (with the reason printed) when node-llama-cpp is missing.</summary>
    public static double? TokensPerSecond(string repoRoot, GgufSource source, int tokens)
    {
        var tools = Path.Combine(repoRoot, "tools", "llama");
        if (!Directory.Exists(Path.Combine(tools, "node_modules", "node-llama-cpp")))
        {
            Console.WriteLine("  llama.cpp column skipped: run ./build.sh test once to install node-llama-cpp into tools/llama");
            return null;
        }
        var gguf = Path.Combine(Path.GetTempPath(), $"bullet-bench-{Environment.ProcessId}.gguf");
        try
        {
            GgufExporter.Export(source, gguf, new JsonObject { ["type"] = "q4_0" });
            double best = 0;
            for (var run = 0; run < 3; run++)
            {
                var (code, output, error) = RunProcess("node", ["greedy.mjs", gguf, "[1]", tokens.ToString(CultureInfo.InvariantCulture), "1"], tools);
                if (code != 0) throw new InvalidOperationException($"node-llama-cpp failed: {error}");
                var line = output.Trim().Split('\n')[^1];
                best = Math.Max(best, JsonNode.Parse(line)!["tokens_per_second"]!.GetValue<double>());
            }
            return best;
        }
        finally
        {
            File.Delete(gguf);
        }
    }
}
