using System.Diagnostics;
using BulletNative.Model;
using BulletNative.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace BulletBench;

/// <summary>
/// Where one shakespeare-char training step's time goes: forward + loss, backward, clipping, AdamW, in ms per step
/// (random tokens; vocab 65). Shows what is worth optimizing. usage: train_step_profile [steps=60] [threads=2]
/// </summary>
public static class TrainStepProfileBench
{
    public static void Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0]) : 60;
        var threads = args.Length > 1 ? int.Parse(args[1]) : 2;
        var config = TrainConfig.Preset("shakespeare-char");
        TorchNatives.SetThreadsForThisThread(threads);
        using var generator = new Generator(1);
        using var model = new BulletTransformer(config.ToModelConfig(65), generator);
        using var parameters = new FlatParameters(model.TrainableWeights);
        using var optimizer = new AdamW(parameters, config.Beta1, config.Beta2, config.AdamEps, config.WeightDecay);
        var phases = new[] { "forward + loss", "backward", "clip", "AdamW + zero grad" };
        var totals = new double[phases.Length];
        var clock = new Stopwatch();
        for (var step = 0; step < steps + 10; step++)
        {
            using var scope = NewDisposeScope();
            var inputs = randint(0, 65, [config.BatchSize, config.MaxSeqLen], generator: generator);
            var targets = randint(0, 65, [config.BatchSize, config.MaxSeqLen], generator: generator);
            var times = new double[phases.Length];
            clock.Restart();
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.view(-1, 65), targets.view(-1));
            _ = loss.item<float>();
            times[0] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            loss.backward();
            times[1] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            parameters.ClipGradients(config.GradClip);
            times[2] = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            optimizer.Step(1e-3);
            parameters.ZeroGradients();
            times[3] = clock.Elapsed.TotalMilliseconds;
            if (step >= 10) for (var i = 0; i < phases.Length; i++) totals[i] += times[i]; // the first steps warm up
        }
        var perStep = totals.Sum() / steps;
        Console.WriteLine($"shakespeare-char step, {threads} thread(s), MKL Intel path forced: {MklDispatch.Forced}; " +
                          $"{perStep:F1} ms per step = {config.BatchSize * config.MaxSeqLen / perStep * 1000:N0} tokens/s");
        for (var i = 0; i < phases.Length; i++)
            Console.WriteLine($"  {phases[i],-18} {totals[i] / steps,6:F2} ms  {100 * totals[i] / totals.Sum(),5:F1} %");
    }
}
