using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BulletNative.Model;
using BulletNative.Training;

namespace BulletBench;

/// <summary>
/// The best model a time budget allows, against the same model in PyTorch with nanoGPT's recipe given the same
/// training seconds: for each text, a session with only a time budget (so the trainer chooses shape and recipe for
/// the text and this machine), exported and verified on the last 10 % of the text, then the PyTorch peer
/// (bench/pytorch_reference.py --time-budget) scored the same way. Prints validation nats per character (float and
/// the BQ4 file), the chosen shape, the steps, and the margin to the peer. Each --variant adds a run of ours with some
/// keys changed (an ablation at equal training time, in the same run). With --lockstep, ours and the variants train
/// side by side in one thread, one step each in turn, each on its own training clock, so a busy machine slows them
/// alike: the fair way to compare variants on a shared machine (without the session's periodic evaluations).
/// usage: speedrun [--time-budget 120] [--threads 2] [--peer-threads 1] [--texts shakespeare,austen]
///                 [--set key=value ...] [--variant "name key=value ..." ...] [--lockstep] [--no-pytorch]
/// </summary>
public static class SpeedrunBench
{
    public static void Run(string[] args)
    {
        var budget = 120.0;
        int threads = 2, peerThreads = 1;
        var texts = new List<string> { "shakespeare", "austen" };
        var sets = new JsonObject();
        var variants = new List<(string Name, JsonObject Keys)>();
        var peer = true;
        var lockstep = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--time-budget": budget = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--peer-threads": peerThreads = int.Parse(args[++i]); break;
                case "--texts": texts = args[++i].Split(',').ToList(); break;
                case "--set": Assign(sets, args[++i]); break;
                case "--variant":
                    var parts = args[++i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    var keys = new JsonObject();
                    foreach (var pair in parts[1..]) Assign(keys, pair);
                    variants.Add((parts[0], keys));
                    break;
                case "--no-pytorch": peer = false; break;
                case "--lockstep": lockstep = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        Console.WriteLine($"speedrun: {budget:F0} s of training per run, ours with {threads} threads, PyTorch with {peerThreads}; " +
                          $"{Environment.ProcessorCount} cores, load average {LoadAverage()} at the start");
        TrainSpeed.Calibrate(threads);
        foreach (var name in texts)
        {
            var text = BenchTexts.Load(name);
            Console.WriteLine($"\n{name}: {text.Length:N0} characters; validation = the last 10 % ({text.Length - TokenizerCodec.ValidationStart(text, 0.1):N0})");
            Console.WriteLine($"  {"run",-22} {"float",7} {"BQ4",7}  {"steps",6} {"train s",7} {"wall s",6}  shape");
            double? ours = null;
            var runs = variants.Prepend(("ours", new JsonObject())).Select(v =>
            {
                var config = new JsonObject { ["time_budget_s"] = budget, ["threads"] = threads };
                foreach (var (k, value) in sets) config[k] = value?.DeepClone();
                foreach (var (k, value) in v.Item2) config[k] = value?.DeepClone();
                return (Name: v.Item1, Config: config);
            }).ToList();
            var results = lockstep ? RunInLockstep(runs.Select(r => r.Config).ToList(), text) : runs.Select(r => RunOurs(r.Config, text)).ToList();
            foreach (var ((variant, _), result) in runs.Zip(results))
            {
                ours ??= result.Bq4;
                Console.WriteLine($"  {variant,-22} {result.Float,7:F4} {result.Bq4,7:F4}  {result.Steps,6} {result.TrainSeconds,7:F1} {result.WallSeconds,6:F1}  {result.Shape}" +
                                  (variant == "ours" ? "" : $"  ({result.Bq4 - ours:+0.0000;-0.0000} vs ours)"));
                if (variant == "ours") foreach (var note in result.Notes) Console.WriteLine($"      note: {note}");
            }
            if (!peer) continue;
            var path = Path.Combine(Path.GetTempPath(), $"speedrun-{name}-{Environment.ProcessId}.txt");
            File.WriteAllText(path, text);
            var theirs = TrainShakespeareBench.RunPeer(path, $"--time-budget {budget.ToString(CultureInfo.InvariantCulture)} --threads {peerThreads}");
            File.Delete(path);
            if (theirs is null) continue;
            var peerLoss = theirs["val_nats_per_char"]!.GetValue<double>();
            Console.WriteLine($"  {"PyTorch " + theirs["torch"],-22} {peerLoss,7:F4} {"",7}  {theirs["steps"],6} {theirs["train_sec"]!.GetValue<double>(),7:F1} {theirs["wall_sec"]!.GetValue<double>(),6:F1}  " +
                              "d128 × 4 layers, 4 heads, context 64, batch 12, char (nanoGPT's CPU recipe)");
            Console.WriteLine($"  margin: PyTorch float − ours BQ4 = {peerLoss - ours:+0.0000;-0.0000} nats per character");
        }
        Console.WriteLine($"\nload average {LoadAverage()} at the end");
    }

    private sealed record OurRun(double Float, double Bq4, long Steps, double TrainSeconds, double WallSeconds, string Shape, IReadOnlyList<string> Notes);

    private static OurRun RunOurs(JsonObject config, string text)
    {
        var wall = Stopwatch.StartNew();
        using var session = TrainingSessionFactory.Create(config, new JsonObject { ["text"] = text });
        session.Start();
        JsonObject? last = null;
        long seq = 0;
        while (last is null)
        {
            foreach (var node in session.Events.Since(seq, 1000))
            {
                var e = node!.AsObject();
                seq = (long)e["seq"]!;
                if ((string?)e["type"] is "completed" or "error") last = e;
            }
        }
        if ((string?)last["type"] == "error") throw new InvalidOperationException((string?)last["message"]);
        var started = session.Events.Last("started")!;
        var file = Path.Combine(Path.GetTempPath(), $"speedrun-{Environment.ProcessId}.bullet");
        var verified = session.Export(new JsonObject { ["path"] = file, ["verify_windows"] = 1_000_000 });
        File.Delete(file);
        var shape = Shape(started["config"]!);
        return new OurRun((double)verified["float_bpc"]! * Math.Log(2), (double)verified["bq4_bpc"]! * Math.Log(2), (long)last["step"]!,
            (double)last["training_sec"]!, wall.Elapsed.TotalSeconds, shape, started["notes"]!.AsArray().Select(n => (string)n!).ToList());
    }

    /// <summary>Trains every config one step at a time in turn until each has spent its budget on its own clock.</summary>
    private static List<OurRun> RunInLockstep(List<JsonObject> configs, string text)
    {
        var wall = Stopwatch.StartNew();
        var runs = configs.Select(c => TrainPlan.FromJson(c).ForText(text)).ToList();
        var trainers = runs.Select(r => new Trainer(r.Config, r.Data)).ToList();
        try
        {
            while (trainers.Any(t => !t.IsComplete))
                foreach (var trainer in trainers.Where(t => !t.IsComplete))
                {
                    TorchNatives.SetThreadsForThisThread(trainer.Config.Threads);
                    trainer.TrainStep();
                }
            return runs.Zip(trainers, (run, trainer) =>
            {
                var file = Path.Combine(Path.GetTempPath(), $"speedrun-{Environment.ProcessId}.bullet");
                var verified = ModelExporter.ExportBullet(trainer, file, new ExportOptions("speedrun", VerifyWindows: 1_000_000));
                File.Delete(file);
                return new OurRun((double)verified["float_bpc"]! * Math.Log(2), (double)verified["bq4_bpc"]! * Math.Log(2), trainer.Step,
                    trainer.Clock.Seconds, wall.Elapsed.TotalSeconds, Shape(run.Config.ToJson()), run.Notes);
            }).ToList();
        }
        finally
        {
            foreach (var trainer in trainers) trainer.Dispose();
        }
    }

    private static string Shape(JsonNode c) =>
        $"d{c["hidden_size"]} × {c["num_layers"]} layers, {c["num_heads"]} heads, context {c["max_seq_len"]}, batch {c["batch_size"]}, " +
        ((string?)c["tokenizer"] == "char" ? "char" : $"BPE {c["vocab_size"]}") + $", {c["optimizer"]}";

    private static void Assign(JsonObject target, string pair)
    {
        var eq = pair.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"expected key=value, got {pair}");
        var value = pair[(eq + 1)..];
        try { target[pair[..eq]] = JsonNode.Parse(value); }
        catch (System.Text.Json.JsonException) { target[pair[..eq]] = value; } // a bare word is a string
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}
