using BulletNative.Training;

namespace BulletNative.Tests;

public class LrScheduleTests
{
    [Test]
    public void Warmup_stable_decay_holds_the_peak_then_falls_in_a_line_to_the_floor()
    {
        double F(long step, double p) => LrSchedule.Factor("wsd", step, p, warmupSteps: 10, minRatio: 0.1, decayFraction: 0.4);
        Assert.That(F(0, 0.01), Is.EqualTo(0.1).Within(1e-12), "warmup: step 1 of 10");
        Assert.That(F(9, 0.05), Is.EqualTo(1.0));
        Assert.That(F(50, 0.6), Is.EqualTo(1.0), "stable until the last 40 %");
        Assert.That(F(60, 0.8), Is.EqualTo(0.1 + 0.9 * 0.5).Within(1e-12), "half-way down the decay");
        Assert.That(F(100, 1.0), Is.EqualTo(0.1), "the floor at the end");
    }

    [Test]
    public void Cosine_falls_from_the_peak_to_the_floor_over_the_run()
    {
        double F(long step, double p) => LrSchedule.Factor("cosine", step, p, warmupSteps: 0, minRatio: 0.1, decayFraction: 0.4);
        Assert.That(F(0, 0.0), Is.EqualTo(1.0));
        Assert.That(F(5, 0.5), Is.EqualTo(0.55).Within(1e-12));
        Assert.That(F(10, 1.0), Is.EqualTo(0.1));
    }

    [Test]
    public void A_run_shorter_than_its_warmup_still_ends_at_the_floor()
    {
        Assert.That(LrSchedule.Factor("wsd", 3, 1.0, warmupSteps: 100, minRatio: 0.05, decayFraction: 0.3), Is.EqualTo(0.05));
        Assert.That(LrSchedule.Factor("wsd", 3, 0.9, warmupSteps: 100, minRatio: 0.05, decayFraction: 0.3), Is.EqualTo(0.04), "warmup's lower share wins");
    }
}
