using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// A .bullet model through the definition, <see cref="FloatForward"/>, on its BQ4 weights decoded value by value
/// (the first vocab_size rows of the embedding and of the head the runtime uses). Slow by design: the SIMD pass
/// (<see cref="FastForward"/>) is tested against it.
/// </summary>
public sealed class ReferenceForward : IForwardPass
{
    private readonly FloatForward _pass;

    /// <inheritdoc/>
    public BulletModel Model { get; }
    /// <inheritdoc/>
    public int Position => _pass.Position;

    /// <summary>A pass over <paramref name="model"/> with an empty cache.</summary>
    public ReferenceForward(BulletModel model)
    {
        Model = model;
        var weights = new Dictionary<string, float[]>
        {
            [TensorNames.Embedding] = Decode(model.Embedding),
            [TensorNames.FinalNorm] = model.FinalNorm,
            [TensorNames.OutputHead] = Decode(model.Head),
        };
        for (var i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            weights[TensorNames.AttentionNorm(i)] = layer.AttentionNorm;
            weights[TensorNames.Query(i)] = Decode(layer.Query);
            weights[TensorNames.Key(i)] = Decode(layer.Key);
            weights[TensorNames.Value(i)] = Decode(layer.Value);
            weights[TensorNames.AttentionOutput(i)] = Decode(layer.Output);
            weights[TensorNames.FfnNorm(i)] = layer.FfnNorm;
            weights[TensorNames.FfnGate(i)] = Decode(layer.Gate);
            weights[TensorNames.FfnUp(i)] = Decode(layer.Up);
            weights[TensorNames.FfnDown(i)] = Decode(layer.Down);
        }
        _pass = new FloatForward(model.Dimensions, weights);
    }

    /// <inheritdoc/>
    public void Reset() => _pass.Reset();

    /// <inheritdoc/>
    public void Forward(int token, Span<float> logits, Span<float> attention = default)
    {
        ForwardMath.CheckStep(Model, token, Position, logits, attention);
        var result = _pass.Forward(token, attention);
        if (!logits.IsEmpty) result.CopyTo(logits);
    }

    /// <summary>A matrix's weights decoded by the definition of BQ4 decoding.</summary>
    private static float[] Decode(Bq4Matrix matrix)
    {
        var values = new float[(long)matrix.Rows * matrix.Cols];
        Bq4.DequantizeReference(matrix.Data.Span, values);
        return values;
    }
}
