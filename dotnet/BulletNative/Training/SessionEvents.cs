using System.Text.Json.Nodes;
using BulletNative.Model;

namespace BulletNative.Training;

/// <summary>The payloads of a session's events (the fields after seq, type, time and state), built in one place.</summary>
internal static class SessionEvents
{
    /// <summary>"started": the recipe, the model, the data and what decides speed, once the session is prepared.</summary>
    public static JsonObject Started(TrainConfig config, Trainer trainer, string? resumedFrom, int threads, IReadOnlyList<string> notes) => new()
    {
        ["config"] = config.ToJson(),
        ["model"] = trainer.Model.Config.ToJson(),
        ["parameters"] = trainer.Model.Config.ParameterCount,
        ["train_tokens"] = trainer.Data.Train.Length,
        ["val_tokens"] = trainer.Data.Val.Length,
        ["vocab_size"] = trainer.Data.Codec.VocabSize,
        ["total_steps"] = trainer.TotalSteps,
        ["time_budget_s"] = trainer.Limits.BudgetSeconds,
        ["step"] = trainer.Step,
        ["resumed_from"] = resumedFrom,
        ["notes"] = new JsonArray(notes.Select(n => (JsonNode)n).ToArray()),
        ["compute"] = Compute(threads),
    };

    /// <summary>What decides speed, so a slow run can be explained from its events.</summary>
    public static JsonObject Compute(int threads) => new()
    {
        ["threads"] = threads,
        ["mkl_intel_path"] = MklDispatch.Forced,
        ["omp_wait_policy"] = TorchNatives.OpenMpWaitPolicy,
    };

    /// <summary>
    /// "metrics": the step's losses (also in bits per character and, for validation, per byte), learning rate, speed,
    /// training time (what a time budget counts: steps and the work after them) and time left.
    /// </summary>
    public static JsonObject Metrics(Trainer trainer, StepMetrics result, TextLoss? val, TrainingClock clock) => new()
    {
        ["step"] = result.Step,
        ["total_steps"] = trainer.TotalSteps,
        ["epoch"] = Math.Round((double)result.Step * result.Tokens / trainer.Data.Train.Length, 4),
        ["train_loss"] = result.TrainLoss,
        ["val_loss"] = val?.Loss,
        ["perplexity"] = Math.Exp(val?.Loss ?? result.TrainLoss),
        ["train_bpc"] = Math.Round(result.TrainBpc, 5),
        ["val_bpc"] = val is { } v ? Math.Round(v.BitsPerChar, 5) : null,
        ["val_bpb"] = val is { } b ? Math.Round(b.BitsPerByte, 5) : null,
        ["lr"] = result.LearningRate,
        ["grad_norm"] = result.GradNorm,
        ["tokens_per_sec"] = Math.Round(clock.Steps * result.Tokens / Math.Max(clock.Seconds, 1e-9), 1),
        ["elapsed_sec"] = Math.Round(clock.Seconds, 3),
        ["training_sec"] = Math.Round(trainer.Clock.Seconds, 3),
        ["eta_sec"] = Math.Round(trainer.SecondsLeft, 1),
    };

    /// <summary>"sample": a continuation of the configured prompt.</summary>
    public static JsonObject Sample(long step, string prompt, string text) => new() { ["step"] = step, ["prompt"] = prompt, ["text"] = text };

    /// <summary>"checkpoint": where a checkpoint was saved, and whether it is the best so far.</summary>
    public static JsonObject Checkpoint(long step, string path, bool best, double? valLoss = null)
    {
        var fields = new JsonObject { ["step"] = step, ["path"] = path, ["best"] = best };
        if (valLoss != null) fields["val_loss"] = valLoss;
        return fields;
    }

    /// <summary>"overfitting": validation loss has been rising over several evaluations while training loss fell.</summary>
    public static JsonObject Overfitting(OverfitSign sign) => new()
    {
        ["step"] = sign.Step,
        ["val_loss"] = sign.ValLoss,
        ["best_val_loss"] = sign.BestValLoss,
        ["best_step"] = sign.BestStep,
        ["evaluations"] = sign.Evaluations,
        ["train_loss_before"] = Math.Round(sign.TrainLossBefore, 5),
        ["train_loss_now"] = Math.Round(sign.TrainLossNow, 5),
    };

    /// <summary>"early_stopped": the best validation loss and when it was reached.</summary>
    public static JsonObject EarlyStopped(Trainer trainer, int patience) => new()
    {
        ["step"] = trainer.Step, ["best_val_loss"] = trainer.BestValLoss, ["best_step"] = trainer.BestStep, ["patience"] = patience,
    };

    /// <summary>"completed": why training ended, the last metrics and the best validation loss.</summary>
    public static JsonObject Completed(Trainer trainer, SessionState reason, JsonObject? lastMetrics, string? outputDir) => new()
    {
        ["step"] = trainer.Step,
        ["reason"] = reason.Name(),
        ["metrics"] = lastMetrics?.DeepClone(),
        ["best_val_loss"] = double.IsFinite(trainer.BestValLoss) ? trainer.BestValLoss : null,
        ["best_val_bpc"] = double.IsFinite(trainer.BestValBpc) ? Math.Round(trainer.BestValBpc, 5) : null,
        ["best_step"] = trainer.BestStep,
        ["training_sec"] = Math.Round(trainer.Clock.Seconds, 3),
        ["output_dir"] = outputDir,
    };

    /// <summary>"error": the step and a message a person understands (the exception type only for unexpected ones).</summary>
    public static JsonObject Error(long step, Exception e) => new()
    {
        ["step"] = step,
        ["message"] = e is BulletException ? e.Message : $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>A step-only payload ("paused", "resumed", "running").</summary>
    public static JsonObject AtStep(long step) => new() { ["step"] = step };
}
