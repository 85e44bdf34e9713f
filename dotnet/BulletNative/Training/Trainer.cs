using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>What one optimizer step did (<see cref="TrainBpc"/>: the step's loss in bits per character of its targets).</summary>
public sealed record StepMetrics(long Step, double TrainLoss, double LearningRate, double GradNorm, long Tokens, double Seconds, double TrainBpc);

/// <summary>
/// The training recipe on one thread, with no threading of its own: random windows, warmup + decay over the run's
/// steps, epochs or time budget, gradient accumulation, clipping, AdamW (or Muon for the hidden matrices), EMA,
/// evaluation on fixed validation windows, sampling and attention snapshots. Deterministic for step and epoch
/// limits: the same config, data, seed and thread count give the same losses to the last bit (a time budget makes
/// the schedule follow the clock).
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Generator _generator;   // weight init and dropout masks
    private readonly SplitMix64 _windows;     // which training windows each step reads
    private readonly FlatParameters _parameters;
    private readonly AdamW _optimizer;
    private readonly Muon? _muon;
    private readonly Ema? _ema;
    private readonly double _estimatedSecondsPerStep;
    private long _stepsThisRun;
    private bool _finalStepTaken;
    private double _progress;

    /// <summary>The recipe.</summary>
    public TrainConfig Config { get; }

    /// <summary>The tokenized corpus.</summary>
    public TokenData Data { get; }

    /// <summary>The model being trained.</summary>
    public BulletTransformer Model { get; }

    /// <summary>Optimizer steps completed.</summary>
    public long Step { get; private set; }

    /// <summary>When the run ends: steps, epochs or a time budget, whichever comes first.</summary>
    public RunLimits Limits { get; }

    /// <summary>Training time (steps and what the caller measures with them), which a time budget counts.</summary>
    public BudgetClock Clock { get; } = new();

    /// <summary>Seconds per step so far in this run (the estimate given at construction before the first step).</summary>
    public double SecondsPerStep => _stepsThisRun > 0 ? Clock.SecondsThisRun / _stepsThisRun : _estimatedSecondsPerStep;

    /// <summary>Steps the run will take in all: the step limit, or what the rest of the time budget allows at the measured pace.</summary>
    public long TotalSteps => IsComplete ? Step : Limits.EstimatedTotalSteps(Step, Clock.Seconds, SecondsPerStep);

    /// <summary>Training seconds left at the measured pace.</summary>
    public double SecondsLeft => Limits.SecondsLeft(Step, Clock.Seconds, SecondsPerStep);

    /// <summary>
    /// True once the run has taken its last step: the step limit reached, or the step chosen as last for the budget
    /// (chosen before it runs, so it runs at the floor; a step that overshoots the budget makes the next one last).
    /// </summary>
    public bool IsComplete => _finalStepTaken || Step >= Limits.StepLimit;

    /// <summary>Training tokens one step reads (batch × context × accumulation).</summary>
    public long TokensPerStep => (long)Config.BatchSize * Config.MaxSeqLen * Config.GradAccum;

    /// <summary>Lowest validation loss so far, and the step it was measured at.</summary>
    public double BestValLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Bits per character of the evaluation that gave <see cref="BestValLoss"/>.</summary>
    public double BestValBpc { get; private set; } = double.PositiveInfinity;

    /// <summary>Step of <see cref="BestValLoss"/>.</summary>
    public long BestStep { get; private set; }

    /// <summary>Evaluations since the validation loss last improved (for early stopping).</summary>
    public int EvalsWithoutImprovement { get; private set; }

    /// <summary>
    /// Builds the model and optimizers from the seed; sets this thread's torch thread count. With a time budget,
    /// <paramref name="estimatedSecondsPerStep"/> (default: this machine's estimate) sizes the first step's schedule.
    /// </summary>
    public Trainer(TrainConfig config, TokenData data, double? estimatedSecondsPerStep = null)
    {
        config.Validate();
        TorchNatives.SetThreadsForThisThread(config.Threads);
        Config = config;
        Data = data;
        Limits = new RunLimits(config, data.Train.Length, TokensPerStep);
        _estimatedSecondsPerStep = estimatedSecondsPerStep
            ?? (Limits.BudgetSeconds is null ? 0 : TrainSpeed.SecondsPer1000Steps(config, data.Codec.VocabSize) / 1000);
        _generator = new Generator((ulong)config.Seed);
        _windows = new SplitMix64((ulong)config.Seed ^ 0x5EED_DA7A_0000_0001UL);
        Model = new BulletTransformer(config.ToModelConfig(data.Codec.VocabSize), _generator);
        _parameters = new FlatParameters(OptimizerLayout.Order(Model.TrainableWeights, config.Optimizer));
        var muon = config.Optimizer == "muon";
        var adamPart = muon ? _parameters.Segment(s => !OptimizerLayout.IsHiddenMatrix(s.Name, s.Shape)) : _parameters.All;
        _optimizer = new AdamW(adamPart, config.Beta1, config.Beta2, config.AdamEps, config.WeightDecay);
        if (muon) _muon = new Muon(_parameters.Segment(s => OptimizerLayout.IsHiddenMatrix(s.Name, s.Shape)), config.MuonMomentum, config.WeightDecay);
        _ema = config.EmaDecay > 0 ? new Ema(_parameters, config.EmaDecay) : null;
    }

    /// <summary>
    /// One optimizer step over grad_accum micro-batches, at the learning rate the schedule gives for the share of the
    /// run done when it ends (the floor on the last step); throws when the loss stops being a number.
    /// </summary>
    public StepMetrics TrainStep()
    {
        var watch = Stopwatch.StartNew();
        using var measuring = Clock.Measure();
        using var scope = NewDisposeScope();
        var final = Limits.IsFinalStep(Step, Clock.Seconds, SecondsPerStep);
        // Never backwards: a fast step after slow ones must not raise the rate again.
        var progress = _progress = final ? 1.0 : Math.Max(_progress, Limits.ProgressAfterNextStep(Step, Clock.Seconds, SecondsPerStep));
        var factor = LrSchedule.Factor(Config.Schedule, Step, progress, Config.WarmupSteps, Config.MinLrRatio, Config.DecayFraction);
        Model.FakeQuantize = Config.Qat && Step >= Config.QatStartStep;
        Model.train();
        var loss = default(TextLoss);
        for (var micro = 0; micro < Config.GradAccum; micro++)
        {
            var (inputs, targets, targetIds) = RandomBatch(Data.Train, _windows);
            var microLoss = CrossEntropy(Model.forward(inputs), targets);
            (microLoss / Config.GradAccum).backward();
            loss += TextLoss.Of(microLoss.item<float>(), targetIds, Data.Lengths);
        }
        if (!double.IsFinite(loss.Nats))
            throw new BulletException(NativeStatus.InvalidArgument,
                $"the training loss became {loss.Loss} at step {Step + 1}: the learning rate ({Config.LearningRate}) is probably too high");
        var gradNorm = _parameters.ClipGradients(Config.GradClip);
        var lr = Config.LearningRate * factor;
        _optimizer.Step(lr);
        _muon?.Step(Config.MuonLr * factor);
        _parameters.ZeroGradients();
        _ema?.Update();
        Step++;
        _stepsThisRun++;
        _finalStepTaken |= final;
        return new StepMetrics(Step, loss.Loss, lr, gradNorm, TokensPerStep, watch.Elapsed.TotalSeconds, loss.BitsPerChar);
    }

    /// <summary>Mean loss over eval_batches fixed validation windows (the same windows every time); null without validation data.</summary>
    public double? Evaluate() => EvaluateText()?.Loss;

    /// <summary>
    /// The validation loss over eval_batches fixed windows (the same windows every time) with the characters and bytes
    /// of their targets, for bits per character; null without validation data. Updates the best loss and patience.
    /// </summary>
    public TextLoss? EvaluateText()
    {
        if (Data.Val.Length == 0) return null;
        using var measuring = Clock.Measure();
        var result = WithEvalWeights(() =>
        {
            var windows = new SplitMix64((ulong)Config.Seed ^ 0xE7A1_0000_0000_0002UL);
            var total = default(TextLoss);
            for (var i = 0; i < Config.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                var (inputs, targets, targetIds) = RandomBatch(Data.Val, windows);
                total += TextLoss.Of(CrossEntropy(Model.forward(inputs), targets).item<float>(), targetIds, Data.Lengths);
            }
            return total;
        });
        if (result.Loss < BestValLoss)
        {
            (BestValLoss, BestValBpc, BestStep, EvalsWithoutImprovement) = (result.Loss, result.BitsPerChar, Step, 0);
        }
        else EvalsWithoutImprovement++;
        return result;
    }

    /// <summary>True when early stopping's patience ran out.</summary>
    public bool ShouldStopEarly => Config.EarlyStoppingPatience > 0 && EvalsWithoutImprovement >= Config.EarlyStoppingPatience;

    /// <summary>Continues <paramref name="prompt"/> by <paramref name="length"/> tokens (temperature 0 = greedy), reproducibly per seed.</summary>
    public string Sample(string prompt, int length, double temperature, ulong seed)
    {
        var ids = Data.Codec.Encode(prompt).ToList();
        if (ids.Count == 0) ids.Add(0);
        var promptCount = ids.Count;
        var sampler = new Runtime.Sampler(new Runtime.GenerationOptions { Temperature = Math.Max(0, temperature), TopK = 0, TopP = 1 }, new SplitMix64(seed));
        WithEvalWeights(() =>
        {
            for (var i = 0; i < length; i++)
            {
                using var scope = NewDisposeScope();
                var context = ids.Skip(Math.Max(0, ids.Count - Config.MaxSeqLen)).Select(t => (long)t).ToArray();
                var logits = Model.forward(tensor(context, [1, context.Length]))[0, -1].data<float>().ToArray();
                ids.Add(sampler.Next(logits, []));
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
            _optimizer.State().Concat(_muon?.State() ?? []).Concat(_ema?.State() ?? []), CheckpointState(),
            Data.Codec is TokenizerCodec codec ? dir => codec.Tokenizer.Save(Path.Combine(dir, Checkpoint.TokenizerFile)) : null);
    }

    /// <summary>Restores weights, optimizer, EMA, step, random states and early-stopping counters from a checkpoint folder.</summary>
    public JsonObject LoadCheckpoint(string folder)
    {
        var (weights, optimizer, state) = Checkpoint.Load(folder);
        using (no_grad())
            foreach (var (name, weight) in Model.TrainableWeights) Checkpoint.CopyInto(weight, weights, name);
        _optimizer.LoadState(optimizer);
        _muon?.LoadState(optimizer);
        _ema?.LoadState(optimizer);
        var read = JsonFields.OfFile(Checkpoint.StateFile);
        Step = read.RequiredLong(state, "step");
        _optimizer.StepCount = read.RequiredLong(state, "optimizer_steps");
        Clock.EarlierSeconds = read.OptionalNumber(state, "training_seconds") ?? 0;
        RestoreRandom(state, read);
        BestValLoss = read.OptionalNumber(state, "best_val_loss") ?? double.PositiveInfinity;
        BestValBpc = read.OptionalNumber(state, "best_val_bpc") ?? double.PositiveInfinity;
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
            ["training_seconds"] = Clock.Seconds,
            ["window_rng"] = _windows.State.ToString(),
            ["torch_rng"] = Convert.ToBase64String(_generator.get_state().data<byte>().ToArray()),
            ["best_val_loss"] = double.IsFinite(BestValLoss) ? BestValLoss : null,
            ["best_val_bpc"] = double.IsFinite(BestValBpc) ? BestValBpc : null,
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

    private (Tensor Inputs, Tensor Targets, long[] TargetIds) RandomBatch(int[] tokens, SplitMix64 random)
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
        return (tensor(inputs, [b, t]), tensor(targets, [b, t]), targets);
    }

    private Tensor CrossEntropy(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1));

    /// <summary>Frees the model, the optimizers' state, the EMA, the flat parameter buffers and the random generator.</summary>
    public void Dispose()
    {
        _ema?.Dispose();
        _muon?.Dispose();
        _optimizer.Dispose();
        _parameters.Dispose();
        Model.Dispose();
        _generator.Dispose();
    }
}
