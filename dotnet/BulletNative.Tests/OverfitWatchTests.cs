using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>The overfitting sign on hand-made evaluation sequences: when it fires, that it fires once, and when it does not.</summary>
public class OverfitWatchTests
{
    /// <summary>Feeds evaluations (validation loss, training loss of the steps before it) every 10 steps; returns the signs.</summary>
    private static List<OverfitSign> Run(OverfitWatch watch, params (double Val, double Train)[] evaluations)
    {
        var signs = new List<OverfitSign>();
        for (var i = 0; i < evaluations.Length; i++)
        {
            // Two steps per interval whose mean is the given training loss.
            watch.Trained(evaluations[i].Train + 0.1);
            watch.Trained(evaluations[i].Train - 0.1);
            if (watch.Evaluated((i + 1) * 10, evaluations[i].Val) is { } sign) signs.Add(sign);
        }
        return signs;
    }

    [Test]
    public void ValidationRisingWhileTrainingFallsIsSaidOnceWithTheBest()
    {
        var signs = Run(new OverfitWatch(), (5.0, 5.2), (4.0, 4.1), (4.2, 3.5), (4.4, 3.0), (4.6, 2.5), (4.8, 2.0), (5.0, 1.5));
        Assert.That(signs, Has.Count.EqualTo(1));
        var sign = signs[0];
        // At step 50 the last 3 evaluations (4.2, 4.4, 4.6) are above the best (4.0 at step 20), 4.6 > 4.0, and the
        // training loss fell from 4.1 to 2.5.
        Assert.That((sign.Step, sign.ValLoss, sign.BestValLoss, sign.BestStep, sign.Evaluations), Is.EqualTo((50L, 4.6, 4.0, 20L, 3)));
        Assert.That(sign.TrainLossBefore, Is.EqualTo(4.1).Within(1e-12));
        Assert.That(sign.TrainLossNow, Is.EqualTo(2.5).Within(1e-12));
    }

    [Test]
    public void ANewBestEndsTheEpisodeAndALaterOneIsSaidAgain()
    {
        var signs = Run(new OverfitWatch(2), (4.0, 4.0), (4.3, 3.5), (4.5, 3.0), (3.9, 2.9), (4.1, 2.5), (4.4, 2.0));
        Assert.That(signs.Select(s => s.Step), Is.EqualTo(new[] { 30L, 60L }));
    }

    [Test]
    public void NoSignWhenTrainingLossRisesTooOrValidationOnlyWobbles()
    {
        // Both rising: the run is diverging, not memorizing.
        Assert.That(Run(new OverfitWatch(), (4.0, 4.0), (4.2, 4.2), (4.4, 4.4), (4.6, 4.6)), Is.Empty);
        // Validation above its best but coming down again (4.5, 4.3, 4.2), then below where it was three evaluations ago.
        Assert.That(Run(new OverfitWatch(), (4.0, 4.0), (4.5, 3.5), (4.3, 3.0), (4.2, 2.5), (4.4, 2.0)), Is.Empty);
        // Too few evaluations to say.
        Assert.That(Run(new OverfitWatch(), (4.0, 4.0), (4.1, 3.0), (4.2, 2.0)), Is.Empty);
        Assert.That(() => new OverfitWatch(0), Throws.TypeOf<BulletArgumentException>());
    }
}
