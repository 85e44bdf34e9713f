using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>What one optimizer step did.</summary>
public sealed record StepMetrics(long Step, double TrainLoss, double LearningRate, double GradNorm, long Tokens, double Seconds);

/// <summary>
/// The training recipe on one thread, with no threading of its own: random windows, warmup + cosine, gradient
/// accumulation, clipping, AdamW, EMA, evaluation on fixed validation windows, sampling and attention snapshots.
/// Deterministic: the same config, data, seed and thread count give the same losses to the last bit.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Generator _generator;   // weight init and dropout masks
    private readonly SplitMix64 _windows;     // which training windows each step reads
    private readonly FlatParameters _parameters;
    private readonly AdamW _optimizer;
    private readonly Ema? _ema;

    /// <summary>The recipe.</summary>
    public TrainConfig Config { get; }

    /// <summary>The tokenized corpus.</summary>
    public TokenData Data { get; }

    /// <summary>The model being trained.</summary>
    public BulletTransformer Model { get; }

    /// <summary>Optimizer steps completed.</summary>
    public long Step { get; private set; }

    /// <summary>Steps this run will take (total_steps, or epochs converted to steps).</summary>
    public long TotalSteps { get; }

    /// <summary>Training tokens one step reads (batch × context × accumulation).</summary>
    public long TokensPerStep => (long)Config.BatchSize * Config.MaxSeqLen * Config.GradAccum;

    /// <summary>Lowest validation loss so far, and the step it was measured at.</summary>
    public double BestValLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Step of <see cref="BestValLoss"/>.</summary>
    public long BestStep { get; private set; }

    /// <summary>Evaluations since the validation loss last improved (for early stopping).</summary>
    public int EvalsWithoutImprovement { get; private set; }

    /// <summary>Builds the model and optimizer from the seed; sets this thread's torch thread count.</summary>
    public Trainer(TrainConfig config, TokenData data)
    {
        config.Validate();
        TorchNatives.SetThreadsForThisThread(config.Threads);
        Config = config;
        Data = data;
        TotalSteps = config.TotalSteps > 0
            ? config.TotalSteps
            : Math.Max(1, (long)Math.Ceiling(config.Epochs * data.Train.Length / TokensPerStep));
        _generator = new Generator((ulong)config.Seed);
        _windows = new SplitMix64((ulong)config.Seed ^ 0x5EED_DA7A_0000_0001UL);
        Model = new BulletTransformer(config.ToModelConfig(data.Codec.VocabSize), _generator);
        _parameters = new FlatParameters(Model.TrainableWeights);
        _optimizer = new AdamW(_parameters, config.Beta1, config.Beta2, config.AdamEps, config.WeightDecay);
        _ema = config.EmaDecay > 0 ? new Ema(_parameters, config.EmaDecay) : null;
    }

    /// <summary>One optimizer step over grad_accum micro-batches; throws when the loss stops being a number.</summary>
    public StepMetrics TrainStep()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var lr = LrSchedule.At(Step, TotalSteps, Config.WarmupSteps, Config.LearningRate, Config.MinLrRatio);
        Model.FakeQuantize = Config.Qat && Step >= Config.QatStartStep;
        Model.train();
        var loss = 0.0;
        for (var micro = 0; micro < Config.GradAccum; micro++)
        {
            var (inputs, targets) = RandomBatch(Data.Train, _windows);
            var microLoss = CrossEntropy(Model.forward(inputs), targets) / Config.GradAccum;
            microLoss.backward();
            loss += microLoss.item<float>();
        }
        if (!double.IsFinite(loss))
            throw new BulletException(NativeStatus.InvalidArgument,
                $"the training loss became {loss} at step {Step + 1}: the learning rate ({Config.LearningRate}) is probably too high");
        var gradNorm = _optimizer.ClipGradients(Config.GradClip);
        _optimizer.Step(lr);
        _parameters.ZeroGradients();
        _ema?.Update();
        Step++;
        return new StepMetrics(Step, loss, lr, gradNorm, TokensPerStep, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Mean loss over eval_batches fixed validation windows (the same windows every time); null without validation data.</summary>
    public double? Evaluate()
    {
        if (Data.Val.Length == 0) return null;
        var loss = WithEvalWeights(() =>
        {
            var windows = new SplitMix64((ulong)Config.Seed ^ 0xE7A1_0000_0000_0002UL);
            var total = 0.0;
            for (var i = 0; i < Config.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                var (inputs, targets) = RandomBatch(Data.Val, windows);
                total += CrossEntropy(Model.forward(inputs), targets).item<float>();
            }
            return total / Config.EvalBatches;
        });
        if (loss < BestValLoss)
        {
            (BestValLoss, BestStep, EvalsWithoutImprovement) = (loss, Step, 0);
        }
        else EvalsWithoutImprovement++;
        return loss;
    }

    /// <summary>True when early stopping's patience ran out.</summary>
    public bool ShouldStopEarly => Config.EarlyStoppingPatience > 0 && EvalsWithoutImprovement >= Config.EarlyStoppingPatience;

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="length"/> tokens (temperature 0 = greedy), reproducibly per seed.</summary>
    public string Sample(string prompt, int length, double temperature, ulong seed)
    {
        var ids = Data.Codec.Encode(prompt).ToList();
        if (ids.Count == 0) ids.Add(0);
        var promptCount = ids.Count;
        var random = new SplitMix64(seed);
        WithEvalWeights(() =>
        {
            for (var i = 0; i < length; i++)
            {
                using var scope = NewDisposeScope();
                var context = ids.Skip(Math.Max(0, ids.Count - Config.MaxSeqLen)).Select(t => (long)t).ToArray();
                var logits = Model.forward(tensor(context, [1, context.Length]))[0, -1].data<float>().ToArray();
                ids.Add(PickToken(logits, temperature, random));
            }
            return 0;
        });
        return Data.Codec.Decode(ids.Skip(promptCount).ToList());
    }

    /// <summary>The probe's tokens (up to 32) and every layer's and head's attention [layer][head][query][key], rounded to 3 decimals.</summary>
    public JsonObject AttentionSnapshot(string probe)
    {
        var ids = Data.Codec.Encode(probe).Take(Math.Min(32, Config.MaxSeqLen)).ToArray();
        if (ids.Length == 0) ids = [0];
        var maps = WithEvalWeights(() =>
        {
            using var scope = NewDisposeScope();
            return Model.AttentionMaps(tensor(ids.Select(t => (long)t).ToArray())).data<float>().ToArray();
        });
        int layers = Config.NumLayers, heads = Config.NumHeads, n = ids.Length;
        var layerArray = new JsonArray();
        for (var l = 0; l < layers; l++)
        {
            var headArray = new JsonArray();
            for (var h = 0; h < heads; h++)
            {
                var rows = new JsonArray();
                for (var q = 0; q < n; q++)
                {
                    var row = new JsonArray();
                    for (var k = 0; k <= q; k++) row.Add((JsonNode)Math.Round(maps[((l * heads + h) * n + q) * n + k], 3));
                    rows.Add((JsonNode)row);
                }
                headArray.Add((JsonNode)rows);
            }
            layerArray.Add((JsonNode)headArray);
        }
        return new JsonObject
        {
            ["tokens"] = new JsonArray(ids.Select(id => (JsonNode)Data.Codec.Decode([id])).ToArray()),
            ["token_ids"] = new JsonArray(ids.Select(id => (JsonNode)id).ToArray()),
            ["layers"] = layers,
            ["heads"] = heads,
            ["maps"] = layerArray,
        };
    }

    /// <summary>The weights to export or evaluate (the EMA when enabled), by .bullet tensor name, as float arrays.</summary>
    public IReadOnlyList<(string Name, long[] Shape, float[] Data)> ExportWeights() =>
        WithEvalWeights(() => Model.NamedWeights.Select(w => (w.Name, w.Weight.shape, w.Weight.detach().data<float>().ToArray())).ToList());

    /// <summary>Runs <paramref name="body"/> in eval mode (no dropout, no fake quantization) with the EMA weights when enabled.</summary>
    public T WithEvalWeights<T>(Func<T> body)
    {
        var fake = Model.FakeQuantize;
        Model.eval();
        Model.FakeQuantize = false;
        try
        {
            using var noGrad = no_grad();
            return _ema is null ? body() : _ema.WithAveragedWeights(body);
        }
        finally
        {
            Model.FakeQuantize = fake;
            Model.train();
        }
    }

    /// <summary>Writes a resumable checkpoint folder (see <see cref="Checkpoint"/>).</summary>
    public void SaveCheckpoint(string folder)
    {
        using var scope = NewDisposeScope(); // the per-tensor views of the flat buffers
        Checkpoint.Save(folder, Model.NamedWeights.Select(w => (w.Name, (Tensor)w.Weight)),
            _optimizer.State().Concat(_ema?.State() ?? []), CheckpointState(),
            Data.Codec is TokenizerCodec codec ? dir => codec.Tokenizer.Save(Path.Combine(dir, Checkpoint.TokenizerFile)) : null);
    }

    /// <summary>Restores weights, optimizer, EMA, step, random states and early-stopping counters from a checkpoint folder.</summary>
    public JsonObject LoadCheckpoint(string folder)
    {
        var (weights, optimizer, state) = Checkpoint.Load(folder);
        using (no_grad())
            foreach (var (name, weight) in Model.TrainableWeights) Checkpoint.CopyInto(weight, weights, name);
        _optimizer.LoadState(optimizer);
        _ema?.LoadState(optimizer);
        var read = JsonFields.OfFile(Checkpoint.StateFile);
        Step = read.RequiredLong(state, "step");
        _optimizer.StepCount = read.RequiredLong(state, "optimizer_steps");
        RestoreRandom(state, read);
        BestValLoss = read.OptionalNumber(state, "best_val_loss") ?? double.PositiveInfinity;
        BestStep = read.RequiredLong(state, "best_step");
        EvalsWithoutImprovement = read.RequiredInt(state, "evals_without_improvement");
        return state;
    }

    private JsonObject CheckpointState() =>
        new()
        {
            ["step"] = Step,
            ["total_steps"] = TotalSteps,
            ["optimizer_steps"] = _optimizer.StepCount,
            ["window_rng"] = _windows.State.ToString(),
            ["torch_rng"] = Convert.ToBase64String(_generator.get_state().data<byte>().ToArray()),
            ["best_val_loss"] = double.IsFinite(BestValLoss) ? BestValLoss : null,
            ["best_step"] = BestStep,
            ["evals_without_improvement"] = EvalsWithoutImprovement,
            ["config"] = Config.ToJson(),
            ["model"] = Model.Config.ToJson(),
        };

    private void RestoreRandom(JsonObject state, JsonFields read)
    {
        _windows.State = ulong.Parse(read.RequiredString(state, "window_rng"));
        var bytes = Convert.FromBase64String(read.RequiredString(state, "torch_rng"));
        using var rng = tensor(bytes, dtype: ScalarType.Byte);
        _generator.set_state(rng);
    }

    private (Tensor Inputs, Tensor Targets) RandomBatch(int[] tokens, SplitMix64 random)
    {
        int b = Config.BatchSize, t = Config.MaxSeqLen;
        var inputs = new long[b * t];
        var targets = new long[b * t];
        for (var row = 0; row < b; row++)
        {
            var start = (int)random.Next(tokens.Length - t);
            for (var i = 0; i < t; i++)
            {
                inputs[row * t + i] = tokens[start + i];
                targets[row * t + i] = tokens[start + i + 1];
            }
        }
        return (tensor(inputs, [b, t]), tensor(targets, [b, t]));
    }

    private Tensor CrossEntropy(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1));

    private static int PickToken(float[] logits, double temperature, SplitMix64 random)
    {
        if (temperature <= 0) return Array.IndexOf(logits, logits.Max());
        var max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        var threshold = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            threshold -= weights[i];
            if (threshold < 0) return i;
        }
        return weights.Length - 1;
    }

    public void Dispose()
    {
        _ema?.Dispose();
        _optimizer.Dispose();
        _parameters.Dispose();
        Model.Dispose();
        _generator.Dispose();
    }
}
