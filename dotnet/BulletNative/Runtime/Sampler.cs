using BulletNative.Training;

namespace BulletNative.Runtime;

/// <summary>One candidate of a token choice: its model probability and the probability the sampler gave it.</summary>
/// <param name="Id">the token id.</param>
/// <param name="Probability">softmax of the raw logits (temperature 1, nothing cut).</param>
/// <param name="SampledProbability">the probability of being drawn: after the repetition penalty, temperature, top-k and
/// top-p (1 for the greedy pick, 0 for a token that was cut).</param>
public readonly record struct TokenCandidate(int Id, double Probability, double SampledProbability);

/// <summary>Why a token was chosen: the chosen one and the most likely candidates by model probability, most likely first.</summary>
public sealed record TokenChoice(TokenCandidate Chosen, TokenCandidate[] Top);

/// <summary>
/// Picks the next token from logits: repetition penalty, then greedy (temperature 0) or temperature, top-k and
/// top-p followed by one draw from a seeded SplitMix64 generator, so the same seed gives the same tokens everywhere.
/// Reuses its buffers: a draw allocates nothing unless it is asked to explain itself.
/// </summary>
public sealed class Sampler
{
    private readonly GenerationOptions _options;
    private readonly SplitMix64 _random;
    private float[] _work = [];
    private int[] _order = [];
    private double[] _probabilities = [];
    private ulong[] _keys = [];
    private readonly HashSet<int> _seen = [];

    /// <summary>The seed in use (the options' seed, or one picked at random).</summary>
    public long Seed { get; }

    /// <summary>A sampler with validated <paramref name="options"/>, seeded by their seed (or a random one).</summary>
    public Sampler(GenerationOptions options)
    {
        _options = options.Validate();
        Seed = options.Seed ?? Random.Shared.NextInt64(0, 1L << 53);
        _random = new SplitMix64((ulong)Seed);
    }

    /// <summary>A sampler drawing from <paramref name="random"/> (whose state the caller owns).</summary>
    public Sampler(GenerationOptions options, SplitMix64 random)
    {
        _options = options.Validate();
        _random = random;
        Seed = (long)random.State;
    }

    /// <summary>The next token id for <paramref name="logits"/>, given the tokens already in the context.</summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> context) => Next(logits, context, 0, out _);

    /// <summary>
    /// The next token id; with <paramref name="explain"/> &gt; 0 also the <paramref name="explain"/> most likely
    /// candidates and the chosen token with their probabilities.
    /// </summary>
    public int Next(ReadOnlySpan<float> logits, ReadOnlySpan<int> context, int explain, out TokenChoice? choice)
    {
        if (logits.IsEmpty) throw new BulletArgumentException("cannot sample from an empty list of logits");
        if (_work.Length < logits.Length)
        {
            _work = new float[logits.Length];
            _order = new int[logits.Length];
            _probabilities = new double[logits.Length];
            _keys = new ulong[logits.Length];
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
        int token;
        var count = 0;
        double total = 0;
        if (Greedy) token = ArgMax(work);
        else
        {
            // Candidates, most likely first (ties: lower id first), cut to top_k.
            var order = _order.AsSpan(0, work.Length);
            count = Candidates(work, order);
            var max = work[order[0]];
            var probabilities = _probabilities.AsSpan(0, count);
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
            token = Draw(order[..count], probabilities[..count], total);
        }
        choice = explain > 0 ? Explain(logits, work, token, count, total, explain) : null;
        return token;
    }

    private bool Greedy => _options.Temperature == 0 || _options.TopK == 1;

    private int Draw(ReadOnlySpan<int> order, ReadOnlySpan<double> probabilities, double total)
    {
        var u = _random.NextDouble() * total;
        for (var i = 0; i < order.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return order[i];
        }
        return order[^1];
    }

    /// <summary>
    /// The model's softmax over the raw logits for the <paramref name="explain"/> likeliest tokens and the chosen one,
    /// with the probability the draw gave each (<paramref name="count"/> kept candidates in _order, summing to <paramref name="total"/>).
    /// </summary>
    private TokenChoice Explain(ReadOnlySpan<float> logits, ReadOnlySpan<float> work, int chosen, int count, double total, int explain)
    {
        double max = logits[ArgMax(logits)], sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        var top = new int[Math.Min(explain, logits.Length)];
        var kept = TopByLogit(logits, top);
        var candidates = new TokenCandidate[kept];
        for (var i = 0; i < kept; i++)
            candidates[i] = new TokenCandidate(top[i], Math.Exp(logits[top[i]] - max) / sum, Sampled(work, top[i], chosen, count, total));
        return new TokenChoice(new TokenCandidate(chosen, Math.Exp(logits[chosen] - max) / sum, Sampled(work, chosen, chosen, count, total)), candidates);
    }

    /// <summary>The probability the last draw gave <paramref name="id"/>.</summary>
    private double Sampled(ReadOnlySpan<float> work, int id, int chosen, int count, double total)
    {
        if (Greedy) return id == chosen ? 1 : 0;
        // Without a cut every token is kept; with one, _order is sorted and the kept ones come first.
        var noCut = (_options.TopK == 0 || _options.TopK >= work.Length) && _options.TopP >= 1;
        var last = _order[count - 1];
        if (!noCut && id != last && !Before(work, id, last)) return 0;
        return Math.Exp((work[id] - work[_order[0]]) / _options.Temperature) / total;
    }

    /// <summary>Fills <paramref name="top"/> with the ids of the largest values (descending, ties by id); returns how many.</summary>
    private static int TopByLogit(ReadOnlySpan<float> values, Span<int> top)
    {
        // Insertion into a sorted list of k: cheap for the usual k of tens, and avoids sorting the vocabulary.
        var k = top.Length;
        var kept = 0;
        for (var id = 0; id < values.Length; id++)
        {
            if (kept == k && !Before(values, id, top[k - 1])) continue;
            var at = kept < k ? kept++ : k - 1;
            while (at > 0 && Before(values, id, top[at - 1])) { top[at] = top[at - 1]; at--; }
            top[at] = id;
        }
        return kept;
    }

    /// <summary>Fills order with candidate ids sorted by logit (descending, ties by id) and returns how many to keep.</summary>
    private int Candidates(ReadOnlySpan<float> work, Span<int> order)
    {
        var k = _options.TopK;
        if (k > 0 && k < work.Length) return TopByLogit(work, order[..k]);
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (_options.TopP < 1)
        {
            // Sorted by one 64-bit key per token: the logit's bits made order-preserving and inverted (descending), then the id.
            var keys = _keys.AsSpan(0, work.Length);
            for (var i = 0; i < keys.Length; i++) keys[i] = (ulong)~OrderedBits(work[i]) << 32 | (uint)i;
            keys.Sort();
            for (var i = 0; i < keys.Length; i++) order[i] = (int)(uint)keys[i];
        }
        else
        {
            // No cut: any order is a valid order to draw from, but the largest must come first for the max shift.
            var best = ArgMax(work);
            (order[0], order[best]) = (order[best], order[0]);
        }
        return order.Length;
    }

    /// <summary>A float's bits as an unsigned number in the same order as the floats.</summary>
    private static uint OrderedBits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        return (bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000;
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
}
