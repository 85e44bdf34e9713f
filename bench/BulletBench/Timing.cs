using System.Diagnostics;

namespace BulletBench;

/// <summary>Timing helpers shared by the benchmarks: best-of-N wall time after a warm-up.</summary>
public static class Timing
{
    /// <summary>Runs <paramref name="body"/> once to warm up, then <paramref name="repeats"/> times; returns the best seconds.</summary>
    public static double BestSeconds(Action body, int repeats = 5)
    {
        body();
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            body();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
