namespace BulletNative.Runtime;

/// <summary>
/// Picks the next token from logits: repetition penalty, then greedy (temperature 0) or temperature, top-k and
/// top-p followed by one draw from a seeded SplitMix64 generator, so the same seed gives the same tokens everywhere.
/// </summary>
public sealed class Sampler
{
    private readonly GenerationOptions _options;
    private ulong _state;
    private float[] _work = [];
    private int[] _order = [];
    private readonly HashSet<int> _seen = [];

    /// <summary>The seed in use (the options' seed, or one picked at random).</summary>
    public long Seed { get; }

    /// <summary>A sampler with validated <paramref name="options"/>.</summary>
    public Sampler(GenerationOptions options)
    {
        _options = options.Validate();
        Seed = options.Seed ?? Random.Shared.NextInt64(0, 1L << 53);
        _state = (ulong)Seed;
    }

    /// <summary>The next token id for <paramref name="logits"/>, given the tokens already in the context.</summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> context)
    {
        if (logits.IsEmpty) throw new BulletArgumentException("cannot sample from an empty list of logits");
        if (_work.Length < logits.Length)
        {
            _work = new float[logits.Length];
            _order = new int[logits.Length];
        }
        var work = _work.AsSpan(0, logits.Length);
        logits.CopyTo(work);
        if (_options.RepetitionPenalty != 1)
        {
            var penalty = (float)_options.RepetitionPenalty;
            _seen.Clear();
            foreach (var id in context)
                if ((uint)id < (uint)work.Length && _seen.Add(id))
                    work[id] = work[id] > 0 ? work[id] / penalty : work[id] * penalty;
        }
        if (_options.Temperature == 0 || _options.TopK == 1) return ArgMax(work);

        // Candidates, most likely first (ties: lower id first), cut to top_k.
        var order = _order.AsSpan(0, work.Length);
        var count = Candidates(work, order);
        var max = work[order[0]];
        var probabilities = new double[count];
        double total = 0;
        for (var i = 0; i < count; i++) total += probabilities[i] = Math.Exp((work[order[i]] - max) / _options.Temperature);
        if (_options.TopP < 1)
        {
            double cumulative = 0;
            var keep = count;
            for (var i = 0; i < count; i++)
            {
                cumulative += probabilities[i] / total;
                if (cumulative >= _options.TopP) { keep = i + 1; break; }
            }
            count = keep;
            total = 0;
            for (var i = 0; i < count; i++) total += probabilities[i];
        }
        var u = NextDouble() * total;
        for (var i = 0; i < count; i++)
        {
            u -= probabilities[i];
            if (u < 0) return order[i];
        }
        return order[count - 1];
    }

    /// <summary>Fills order with candidate ids sorted by logit (descending, ties by id) and returns how many to keep.</summary>
    private int Candidates(ReadOnlySpan<float> work, Span<int> order)
    {
        var k = _options.TopK;
        if (k > 0 && k < work.Length)
        {
            // Insertion into a sorted list of k: cheap for the usual k of tens, and avoids sorting the vocabulary.
            var kept = 0;
            for (var id = 0; id < work.Length; id++)
            {
                if (kept == k && !Before(work, id, order[k - 1])) continue;
                var at = kept < k ? kept++ : k - 1;
                while (at > 0 && Before(work, id, order[at - 1])) { order[at] = order[at - 1]; at--; }
                order[at] = id;
            }
            return k;
        }
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (_options.TopP < 1)
        {
            var keys = work.ToArray();
            order.Sort((a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        }
        else
        {
            // No cut: any order is a valid order to draw from, but the largest must come first for the max shift.
            var best = ArgMax(work);
            (order[0], order[best]) = (order[best], order[0]);
        }
        return order.Length;
    }

    private static bool Before(ReadOnlySpan<float> work, int a, int b) => work[a] > work[b] || (work[a] == work[b] && a < b);

    /// <summary>The index of the largest value, the lowest index on ties; NaN never wins.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best] || float.IsNaN(values[best])) best = i;
        return best;
    }

    private double NextDouble()
    {
        // SplitMix64: tiny, fast and identical on every platform.
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
