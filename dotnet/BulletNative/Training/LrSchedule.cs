namespace BulletNative.Training;

/// <summary>
/// The learning rate as a share of its peak, from the step (for warmup) and the share of the run done at the end of
/// that step (for decay), so one schedule serves a step count, an epoch count and a time budget alike. Warmup is
/// linear over warmup_steps; then either cosine decay to the floor over the whole run (nanoGPT's), or
/// warmup–stable–decay: the peak until the last decay_fraction of the run, then a straight line to the floor.
/// The lower of the warmup and decay shares wins, so a run shorter than its warmup still ends at the floor.
/// </summary>
public static class LrSchedule
{
    /// <summary>The schedule names, as the lr_schedule config key takes them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cosine", "wsd"];

    /// <summary>
    /// The share of the peak for optimizer step <paramref name="step"/> (0-based) ending at <paramref name="progress"/>
    /// (0..1) of the run; 1 at the plateau, <paramref name="minRatio"/> when the run is done.
    /// </summary>
    public static double Factor(string schedule, long step, double progress, int warmupSteps, double minRatio, double decayFraction)
    {
        var warm = step < warmupSteps ? (step + 1.0) / warmupSteps : 1.0;
        var p = Math.Clamp(progress, 0, 1);
        var decay = schedule == "wsd"
            ? (p <= 1 - decayFraction || decayFraction <= 0 ? 1.0 : minRatio + (1 - minRatio) * (1 - p) / decayFraction)
            : minRatio + (1 - minRatio) * 0.5 * (1 + Math.Cos(Math.PI * p));
        return p >= 1 ? minRatio : Math.Min(warm, decay);
    }
}
