using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BulletNative.Builder;
using BulletNative.Format;

namespace BulletBench;

/// <summary>
/// llama.cpp's decoding speed on the same weights, exported as Q4_0 GGUF and run through node-llama-cpp
/// (tools/llama, installed by ./build.sh test) on one thread. node-llama-cpp adds JavaScript overhead per token,
/// so this figure is a lower bound on llama.cpp's native speed.
/// </summary>
public static class LlamaCppColumn
{
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
                var start = new ProcessStartInfo("node") { WorkingDirectory = tools, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { "greedy.mjs", gguf, "[1]", tokens.ToString(CultureInfo.InvariantCulture), "1" }) start.ArgumentList.Add(a);
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEnd();
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0) throw new InvalidOperationException($"node-llama-cpp failed: {error}");
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
