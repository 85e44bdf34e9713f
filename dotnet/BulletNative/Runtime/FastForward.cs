using BulletNative.Runtime.Kernels;

namespace BulletNative.Runtime;

/// <summary>
/// One sequence, one token at a time, through <see cref="BatchForward"/> (a batch of one row): the SIMD pass behind
/// perplexity, attention maps and the per-token API. Computes what <see cref="ReferenceForward"/> computes within the
/// tolerance of int8 activations (docs/runtime.md). Allocates nothing per token once the cache has grown.
/// </summary>
public sealed class FastForward : IForwardPass
{
    private readonly BatchForward _engine;
    private readonly KvCache _cache;
    private readonly ForwardRow[] _row = new ForwardRow[1];

    /// <inheritdoc/>
    public BulletModel Model => _engine.Model;
    /// <inheritdoc/>
    public int Position => _cache.Length;

    /// <summary>A pass over <paramref name="model"/>; products with enough rows are split over <paramref name="threads"/> threads.</summary>
    public FastForward(BulletModel model, int threads = 1) : this(model, threads, Q4Q8.Best) { }

    /// <summary>A pass with a chosen kernel (tests and benchmarks compare the kernels).</summary>
    public FastForward(BulletModel model, int threads, Q4Q8Kernel kernel)
    {
        _engine = new BatchForward(model, threads, kernel);
        _cache = new KvCache(model);
    }

    /// <inheritdoc/>
    public void Reset() => _cache.Reset();

    /// <inheritdoc/>
    public void Forward(int token, Span<float> logits, Span<float> attention = default)
    {
        ForwardMath.CheckStep(Model, token, Position, logits, attention);
        _row[0] = new ForwardRow(_cache, token, !logits.IsEmpty);
        _engine.Run(_row, logits, attention);
    }
}
