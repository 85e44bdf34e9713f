using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>
/// What is due after each optimizer step, in order: evaluation, metrics, a warning when the run starts to overfit, a
/// sample, an attention snapshot, checkpoints (every N steps with the last K kept, and the best by validation loss),
/// then early stopping or completion.
/// </summary>
internal sealed class StepSchedule(TrainConfig config, string? outputDir, Action<string, JsonObject> emit)
{
    private readonly OverfitWatch _overfit = new();

    /// <summary>The last metrics event's fields.</summary>
    public JsonObject? LastMetrics { get; private set; }

    /// <summary>The step of the newest checkpoint this session saved (-1 before any).</summary>
    public long LastCheckpointStep { get; private set; } = -1;

    /// <summary>Emits what is due after <paramref name="result"/>; returns the state training ends in, or null to go on.</summary>
    public SessionState? AfterStep(Trainer trainer, StepMetrics result, TrainingClock clock)
    {
        var step = result.Step;
        var last = trainer.IsComplete;
        var val = IsDue(config.EvalEvery, step, last) ? trainer.EvaluateText() : null;
        var valLoss = val?.Loss;
        LastMetrics = SessionEvents.Metrics(trainer, result, val, clock);
        emit("metrics", LastMetrics.DeepClone().AsObject());
        _overfit.Trained(result.TrainLoss);
        if (valLoss is { } loss && _overfit.Evaluated(step, loss) is { } sign) emit("overfitting", SessionEvents.Overfitting(sign));
        if (IsDue(config.SampleEvery, step, last) && config.SampleLength > 0)
            emit("sample", SessionEvents.Sample(step, config.SamplePrompt,
                trainer.Sample(config.SamplePrompt, config.SampleLength, config.SampleTemperature, (ulong)(config.Seed + step))));
        if (IsDue(config.AttentionEvery, step, last))
            emit("attention", Attention(trainer, config.AttentionProbe));
        SaveScheduledCheckpoints(trainer, step, valLoss);

        if (valLoss != null && trainer.ShouldStopEarly)
        {
            emit("early_stopped", SessionEvents.EarlyStopped(trainer, config.EarlyStoppingPatience));
            return SessionState.EarlyStopped;
        }
        return last ? SessionState.Completed : null;
    }

    /// <summary>An attention snapshot of <paramref name="probe"/> at the trainer's step.</summary>
    public static JsonObject Attention(Trainer trainer, string probe)
    {
        var snapshot = trainer.AttentionSnapshot(probe);
        snapshot["step"] = trainer.Step;
        return snapshot;
    }

    /// <summary>Saves a checkpoint to <paramref name="folder"/> (default: the output folder's checkpoints/step-N) and emits it.</summary>
    public string SaveCheckpoint(Trainer trainer, string? folder = null)
    {
        var path = folder ?? StepFolder(trainer.Step);
        trainer.SaveCheckpoint(path);
        LastCheckpointStep = trainer.Step;
        emit("checkpoint", SessionEvents.Checkpoint(trainer.Step, path, best: false));
        return path;
    }

    private static bool IsDue(int every, long step, bool last) => every > 0 && (step % every == 0 || last);

    private void SaveScheduledCheckpoints(Trainer trainer, long step, double? valLoss)
    {
        if (outputDir is null) return;
        if (config.CheckpointEvery > 0 && step % config.CheckpointEvery == 0)
        {
            SaveCheckpoint(trainer);
            PruneCheckpoints();
        }
        if (config.KeepBest && valLoss != null && trainer.BestStep == step)
        {
            var path = Path.Combine(outputDir, "checkpoints", "best");
            trainer.SaveCheckpoint(path);
            emit("checkpoint", SessionEvents.Checkpoint(step, path, best: true, valLoss));
        }
    }

    private string StepFolder(long step) =>
        Path.Combine(outputDir ?? throw new BulletArgumentException("the session has no output folder; give a checkpoint path"),
            "checkpoints", $"step-{step:D7}");

    private void PruneCheckpoints()
    {
        var folders = Directory.GetDirectories(Path.Combine(outputDir!, "checkpoints"), "step-*").Order(StringComparer.Ordinal).ToList();
        foreach (var old in folders.Take(Math.Max(0, folders.Count - config.KeepLast))) Directory.Delete(old, recursive: true);
    }
}
