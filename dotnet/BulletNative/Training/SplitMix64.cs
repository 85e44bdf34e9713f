namespace BulletNative.Training;

/// <summary>
/// A tiny random generator whose whole state is one number, so a checkpoint can save it and a resumed run
/// draws the same windows; System.Random's sequence is not promised across .NET versions.
/// </summary>
public sealed class SplitMix64(ulong state)
{
    /// <summary>The whole state: saving and restoring it continues the same sequence.</summary>
    public ulong State { get; set; } = state;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, bound).</summary>
    public long Next(long bound) => (long)(NextUInt64() % (ulong)bound);

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
