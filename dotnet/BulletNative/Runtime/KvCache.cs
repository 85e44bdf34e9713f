namespace BulletNative.Runtime;

/// <summary>
/// One sequence's keys (after RoPE) and values for every layer in float32, laid out [head, position, head size] so
/// that one head's attention reads one contiguous run. Room grows by doubling up to max_context, or is reserved up
/// front (<see cref="Reserve"/>) so decoding never allocates.
/// </summary>
public sealed class KvCache
{
    private readonly int _layers, _width, _heads, _maxContext;
    internal float[][] Keys { get; }
    internal float[][] Values { get; }

    /// <summary>Positions filled: the position the next token takes.</summary>
    public int Length { get; internal set; }
    /// <summary>Positions there is room for.</summary>
    public int Capacity { get; private set; }
    /// <summary>Rows of the batch being run that belong to this cache (positions Length, Length + 1, ...).</summary>
    internal int Staged { get; set; }

    /// <summary>An empty cache for <paramref name="model"/> with room for <paramref name="positions"/> (at most max_context).</summary>
    public KvCache(BulletModel model, int positions = 64)
    {
        var dims = model.Dimensions;
        _layers = dims.NumLayers;
        _width = dims.HiddenSize;
        _heads = dims.NumHeads;
        _maxContext = dims.MaxContext;
        Keys = new float[_layers][];
        Values = new float[_layers][];
        Reserve(positions);
    }

    /// <summary>Bytes a cache with room for <paramref name="positions"/> positions of <paramref name="model"/> takes.</summary>
    public static long BytesFor(BulletModel model, int positions) =>
        2L * model.Dimensions.NumLayers * model.Dimensions.HiddenSize * positions * sizeof(float);

    /// <summary>Bytes held now.</summary>
    public long Bytes => 2L * _layers * _width * Capacity * sizeof(float);

    /// <summary>Makes room for <paramref name="positions"/> positions (capped at max_context); keeps what is cached.</summary>
    public void Reserve(int positions)
    {
        positions = Math.Clamp(positions, 1, _maxContext);
        if (positions <= Capacity) return;
        var headSize = _width / _heads;
        for (var l = 0; l < _layers; l++)
        {
            Keys[l] = Relayout(Keys[l], positions, headSize);
            Values[l] = Relayout(Values[l], positions, headSize);
        }
        Capacity = positions;
    }

    /// <summary>A copy of one layer's [head, position, head size] data with room for <paramref name="positions"/> per head.</summary>
    private float[] Relayout(float[]? old, int positions, int headSize)
    {
        var grown = new float[_heads * positions * headSize];
        if (old is null) return grown;
        for (var h = 0; h < _heads; h++)
            old.AsSpan(h * Capacity * headSize, Length * headSize).CopyTo(grown.AsSpan(h * positions * headSize));
        return grown;
    }

    /// <summary>Room for one more position, doubling when full.</summary>
    internal void GrowFor(int position)
    {
        if (position >= Capacity) Reserve(Math.Max(position + 1, Capacity * 2));
    }

    /// <summary>Forgets every position (the room stays).</summary>
    public void Reset() => Length = 0;
}
