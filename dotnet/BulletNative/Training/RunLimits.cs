namespace BulletNative.Training;

/// <summary>
/// When a run ends: after total_steps, after epochs (counted in steps), or when its training time reaches
/// time_budget_s — whichever comes first. Progress toward the nearest end drives the learning-rate decay; with a
/// time budget it is the share of the budget spent, refined every step from the measured seconds per step.
/// </summary>
public sealed class RunLimits
{
    /// <summary>The step count that ends the run (total_steps, or epochs as steps; the lower of both), if any.</summary>
    public long? StepLimit { get; }

    /// <summary>The training seconds that end the run, if any.</summary>
    public double? BudgetSeconds { get; }

    /// <summary>Reads the limits of <paramref name="config"/> for a training part of <paramref name="trainTokens"/> tokens.</summary>
    public RunLimits(TrainConfig config, long trainTokens, long tokensPerStep)
    {
        long? fromEpochs = config.Epochs > 0 ? Math.Max(1, (long)Math.Ceiling(config.Epochs * trainTokens / tokensPerStep)) : null;
        long? fromSteps = config.TotalSteps > 0 ? config.TotalSteps : null;
        StepLimit = fromSteps is { } s && fromEpochs is { } e ? Math.Min(s, e) : fromSteps ?? fromEpochs;
        BudgetSeconds = config.TimeBudgetSeconds > 0 ? config.TimeBudgetSeconds : null;
    }

    /// <summary>
    /// True when the step after <paramref name="step"/> completed steps should be the last: the step limit is one
    /// step away, or stopping after it lands closer to the budget than taking one more would
    /// (<paramref name="secondsPerStep"/> is the measured cost of a step with what follows it).
    /// </summary>
    public bool IsFinalStep(long step, double trainingSeconds, double secondsPerStep) =>
        step + 1 >= StepLimit || BudgetSeconds - trainingSeconds < 1.5 * secondsPerStep;

    /// <summary>The share of the run done at the end of the next step (0..1), by the nearest limit.</summary>
    public double ProgressAfterNextStep(long step, double trainingSeconds, double secondsPerStep)
    {
        var byTime = BudgetSeconds is { } budget ? (trainingSeconds + secondsPerStep) / budget : 0;
        var bySteps = StepLimit is { } limit ? (step + 1.0) / limit : 0;
        return Math.Clamp(Math.Max(byTime, bySteps), 0, 1);
    }

    /// <summary>The steps the run will take in all: the step limit, or as many as the rest of the budget allows at the measured pace.</summary>
    public long EstimatedTotalSteps(long step, double trainingSeconds, double secondsPerStep)
    {
        var total = StepLimit ?? long.MaxValue;
        if (BudgetSeconds is { } budget && secondsPerStep > 0)
            total = Math.Min(total, step + (long)Math.Max(0, Math.Round((budget - trainingSeconds) / secondsPerStep)));
        return total == long.MaxValue ? step : Math.Max(step, total);
    }

    /// <summary>Training seconds left until the nearest limit at the measured pace.</summary>
    public double SecondsLeft(long step, double trainingSeconds, double secondsPerStep)
    {
        var left = double.PositiveInfinity;
        if (StepLimit is { } limit) left = Math.Max(0, limit - step) * secondsPerStep;
        if (BudgetSeconds is { } budget) left = Math.Min(left, Math.Max(0, budget - trainingSeconds));
        return double.IsFinite(left) ? left : 0;
    }
}
