namespace BulletNative.Training;

/// <summary>Linear warmup to the peak learning rate, then cosine decay to the floor (peak × min_lr_ratio), as nanoGPT does.</summary>
public static class LrSchedule
{
    /// <summary>The learning rate for optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double At(long step, long totalSteps, int warmupSteps, double peak, double minRatio)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        var floor = peak * minRatio;
        var decaySteps = Math.Max(1, totalSteps - warmupSteps);
        var progress = Math.Min(1.0, (double)(step - warmupSteps) / decaySteps);
        return floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (peak - floor);
    }
}
