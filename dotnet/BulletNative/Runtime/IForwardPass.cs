namespace BulletNative.Runtime;

/// <summary>
/// One token at a time through the model of docs/format.md ("Forward math"), with a cache of every earlier position's keys and
/// values. Implementations: <see cref="ReferenceForward"/> (the definition on decoded weights) and <see cref="FastForward"/> (SIMD).
/// </summary>
public interface IForwardPass
{
    /// <summary>The loaded model whose weights the pass reads; the pass keeps its own cache.</summary>
    BulletModel Model { get; }
    /// <summary>Tokens already in the cache: the position the next token takes.</summary>
    int Position { get; }

    /// <summary>
    /// Runs <paramref name="token"/> at <see cref="Position"/> and advances it. Fills <paramref name="logits"/> (vocab_size
    /// values) unless it is empty; fills <paramref name="attention"/>, when not empty, with the softmax weights of every
    /// layer and head over positions 0..p, laid out [layer, head, p + 1].
    /// </summary>
    void Forward(int token, Span<float> logits, Span<float> attention = default);

    /// <summary>Empties the cache (position 0).</summary>
    void Reset();
}
