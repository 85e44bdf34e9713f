using System.Diagnostics;
using BulletNative.Training;

namespace BulletBench;

/// <summary>
/// The tiny preset through a real session on the first 200 KB of tinyshakespeare: prints every sample as it comes
/// (readable words are the aim within 60 s), steps/s and tokens/s. usage: train_tiny [threads=1]
/// </summary>
public static class TrainTinyBench
{
    public static void Run(string[] args)
    {
        var threads = args.Length > 0 ? int.Parse(args[0]) : 1;
        var text = File.ReadAllText(Path.Combine(TrainShakespeareBench.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt"))[..200_000];
        var config = TrainConfig.Preset("tiny");
        config.Threads = threads;
        config.SamplePrompt = "ROMEO:";
        var wall = Stopwatch.StartNew();
        using var session = new TrainingSession(config, () => TokenizerCodec.Prepare(config, text));
        session.Start();
        long seq = 0;
        while (true)
        {
            foreach (var e in session.Events.Since(seq, 1000).Select(e => e!.AsObject()))
            {
                seq = (long)e["seq"]!;
                switch ((string?)e["type"])
                {
                    case "started":
                        Console.WriteLine($"tiny: {(long)e["parameters"]!:N0} parameters, vocab {e["vocab_size"]}, {e["total_steps"]} steps, {threads} thread(s); " +
                                          $"tokenizer + setup {wall.Elapsed.TotalSeconds:F1} s");
                        break;
                    case "metrics" when e["val_loss"] is not null:
                        Console.WriteLine($"  {wall.Elapsed.TotalSeconds,5:F1} s  step {e["step"]}: train {(double)e["train_loss"]!:F3}, val {(double)e["val_loss"]!:F3}, {(double)e["tokens_per_sec"]!:N0} tok/s");
                        break;
                    case "sample":
                        Console.WriteLine($"  {wall.Elapsed.TotalSeconds,5:F1} s  sample @{e["step"]}: ROMEO:{((string)e["text"]!).Replace("\n", " / ")}");
                        break;
                    case "completed":
                        var m = e["metrics"]!;
                        var seconds = (double)m["elapsed_sec"]!;
                        Console.WriteLine($"  done in {wall.Elapsed.TotalSeconds:F1} s wall: {(long)m["step"]! / seconds:F1} steps/s, {(double)m["tokens_per_sec"]!:N0} tokens/s");
                        return;
                    case "error":
                        Console.WriteLine($"  error: {e["message"]}");
                        return;
                }
            }
        }
    }
}
