using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The definition of the forward pass (docs/format.md, Forward math) in plain scalar code: every weight decoded on its own,
/// sums and softmax in double. Slow by design; <see cref="FastForward"/> is tested against it.
/// </summary>
public sealed class ReferenceForward : IForwardPass
{
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;

    public BulletModel Model { get; }
    public int Position { get; private set; }

    /// <summary>A pass over <paramref name="model"/> with an empty cache.</summary>
    public ReferenceForward(BulletModel model)
    {
        Model = model;
        _keys = Enumerable.Range(0, model.Layers.Count).Select(_ => new List<float[]>()).ToArray();
        _values = Enumerable.Range(0, model.Layers.Count).Select(_ => new List<float[]>()).ToArray();
    }

    public void Reset()
    {
        foreach (var list in _keys) list.Clear();
        foreach (var list in _values) list.Clear();
        Position = 0;
    }

    public void Forward(int token, Span<float> logits, Span<float> attention = default)
    {
        ForwardMath.CheckStep(Model, token, Position, logits, attention);
        var dims = Model.Dimensions;
        int d = dims.HiddenSize, heads = dims.NumHeads, hd = dims.HeadSize, p = Position;

        var x = new float[d];
        for (var c = 0; c < d; c++) x[c] = Bq4MatVec.WeightAt(Model.Embedding.Data.Span, (long)token * d + c);

        for (var l = 0; l < Model.Layers.Count; l++)
        {
            var layer = Model.Layers[l];
            var h = ForwardMath.RmsNorm(x, layer.AttentionNorm);
            var q = MatVec(layer.Query, h);
            var k = MatVec(layer.Key, h);
            var v = MatVec(layer.Value, h);
            ForwardMath.Rotate(q, p, hd);
            ForwardMath.Rotate(k, p, hd);
            _keys[l].Add(k);
            _values[l].Add(v);
            var layerWeights = attention.IsEmpty ? default : attention.Slice(l * heads * (p + 1), heads * (p + 1));
            var concat = ForwardMath.Attend(q, _keys[l], _values[l], heads, layerWeights);
            var o = MatVec(layer.Output, concat);
            for (var c = 0; c < d; c++) x[c] += o[c];

            h = ForwardMath.RmsNorm(x, layer.FfnNorm);
            var gate = MatVec(layer.Gate, h);
            ForwardMath.SwiGlu(gate, MatVec(layer.Up, h));
            var down = MatVec(layer.Down, gate);
            for (var c = 0; c < d; c++) x[c] += down[c];
        }

        Position++;
        if (logits.IsEmpty) return;
        MatVec(Model.Head, ForwardMath.RmsNorm(x, Model.FinalNorm)).CopyTo(logits);
    }

    private static float[] MatVec(Bq4Matrix matrix, float[] x)
    {
        var y = new float[matrix.Rows];
        Bq4MatVec.MultiplyReference(matrix, x, y);
        return y;
    }
}
