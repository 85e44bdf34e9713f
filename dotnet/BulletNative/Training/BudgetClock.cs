using System.Diagnostics;

namespace BulletNative.Training;

/// <summary>
/// A run's training time: it runs only inside <see cref="Measure"/> scopes (a step and the evaluation, samples and
/// checkpoints after it), so a paused or throttled session does not spend its time budget. Scopes nest.
/// </summary>
public sealed class BudgetClock
{
    private readonly Stopwatch _watch = new();
    private int _depth;

    /// <summary>Training seconds before this clock started (a resumed run's earlier time).</summary>
    public double EarlierSeconds { get; set; }

    /// <summary>Training seconds so far, earlier runs included.</summary>
    public double Seconds => EarlierSeconds + _watch.Elapsed.TotalSeconds;

    /// <summary>Training seconds of this run alone.</summary>
    public double SecondsThisRun => _watch.Elapsed.TotalSeconds;

    /// <summary>Runs the clock until the returned scope is disposed.</summary>
    public IDisposable Measure()
    {
        if (_depth++ == 0) _watch.Start();
        return new Scope(this);
    }

    private sealed class Scope(BudgetClock clock) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            if (--clock._depth == 0) clock._watch.Stop();
        }
    }
}
