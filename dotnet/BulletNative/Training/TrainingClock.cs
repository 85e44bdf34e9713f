using System.Diagnostics;

namespace BulletNative.Training;

/// <summary>Time spent in training steps by this session (pauses and waiting do not count), and the steps it took.</summary>
public sealed class TrainingClock
{
    private readonly Stopwatch _watch = new();

    /// <summary>Seconds spent in steps.</summary>
    public double Seconds => _watch.Elapsed.TotalSeconds;

    /// <summary>Steps timed.</summary>
    public long Steps { get; private set; }

    /// <summary>Runs one step under the clock.</summary>
    public T Time<T>(Func<T> step)
    {
        _watch.Start();
        try
        {
            return step();
        }
        finally
        {
            _watch.Stop();
            Steps++;
        }
    }
}
