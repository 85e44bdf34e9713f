namespace BulletNative.Training;

/// <summary>The sign of overfitting at an evaluation: validation loss rising while training loss falls.</summary>
/// <param name="Step">the evaluation's step.</param>
/// <param name="ValLoss">its validation loss.</param>
/// <param name="BestValLoss">the lowest validation loss so far.</param>
/// <param name="BestStep">the step of that lowest validation loss.</param>
/// <param name="Evaluations">how many evaluations validation loss has been rising over.</param>
/// <param name="TrainLossBefore">the mean training loss before the first of those evaluations.</param>
/// <param name="TrainLossNow">the mean training loss before the last of them.</param>
public sealed record OverfitSign(long Step, double ValLoss, double BestValLoss, long BestStep, int Evaluations,
    double TrainLossBefore, double TrainLossNow);

/// <summary>
/// Watches evaluations for overfitting: at an evaluation where validation loss is above its best for the last
/// <see cref="Evaluations"/> evaluations, higher than it was that many evaluations ago and not lower than at the one
/// before (still rising), while the mean training loss (over the steps before each evaluation) is lower than it was
/// then. Says so once per episode: a new best validation loss ends the episode.
/// </summary>
public sealed class OverfitWatch(int evaluations = OverfitWatch.DefaultEvaluations)
{
    /// <summary>Rising over this many evaluations (four evaluations in a row, each compared with the best) counts.</summary>
    public const int DefaultEvaluations = 3;

    private readonly List<(double Val, double Train)> _history = [];
    private double _best = double.PositiveInfinity;
    private long _bestStep;
    private double _trainSum;
    private int _trainCount;
    private bool _warned;

    /// <summary>How many evaluations validation loss must have been rising over.</summary>
    public int Evaluations { get; } = evaluations >= 1 ? evaluations
        : throw new BulletArgumentException($"evaluations {evaluations} must be at least 1");

    /// <summary>Takes a training step's loss into the mean of the interval before the next evaluation.</summary>
    public void Trained(double trainLoss)
    {
        if (!double.IsFinite(trainLoss)) return;
        _trainSum += trainLoss;
        _trainCount++;
    }

    /// <summary>Takes an evaluation; returns the sign when this evaluation starts an episode of overfitting, else null.</summary>
    public OverfitSign? Evaluated(long step, double valLoss)
    {
        var train = _trainCount > 0 ? _trainSum / _trainCount : double.NaN;
        (_trainSum, _trainCount) = (0, 0);
        _history.Add((valLoss, train));
        if (valLoss < _best)
        {
            (_best, _bestStep, _warned) = (valLoss, step, false);
            return null;
        }
        var n = _history.Count - 1;
        if (_warned || n < Evaluations) return null;
        var (valThen, trainThen) = _history[n - Evaluations];
        var aboveBest = Enumerable.Range(n - Evaluations + 1, Evaluations).All(i => _history[i].Val > _best);
        var stillRising = valLoss >= _history[n - 1].Val;
        if (!aboveBest || !stillRising || !(valLoss > valThen) || !(train < trainThen)) return null;
        _warned = true;
        return new OverfitSign(step, valLoss, _best, _bestStep, Evaluations, trainThen, train);
    }
}
