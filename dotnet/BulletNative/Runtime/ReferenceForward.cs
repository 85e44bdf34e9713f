using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The definition of the forward pass (bullet-format.md §6) in plain scalar code: every weight decoded on its own,
/// sums and softmax in double. Slow by design; <see cref="FastForward"/> is tested against it.
/// </summary>
public sealed class ReferenceForward : IForwardPass
{
    private const double Epsilon = 1e-5;
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
        Model.CheckToken(token);
        var dims = Model.Dimensions;
        if (Position >= dims.MaxContext)
            throw new BulletArgumentException($"the context of {dims.MaxContext} tokens is full");
        int d = dims.HiddenSize, heads = dims.NumHeads, hd = dims.HeadSize, p = Position;
        CheckSpans(logits, attention, dims, p);

        var x = new float[d];
        for (var c = 0; c < d; c++) x[c] = Bq4MatVec.WeightAt(Model.Embedding.Data.Span, (long)token * d + c);

        for (var l = 0; l < Model.Layers.Count; l++)
        {
            var layer = Model.Layers[l];
            var h = RmsNorm(x, layer.AttentionNorm);
            var q = MatVec(layer.Query, h);
            var k = MatVec(layer.Key, h);
            var v = MatVec(layer.Value, h);
            Rotate(q, p, hd);
            Rotate(k, p, hd);
            _keys[l].Add(k);
            _values[l].Add(v);

            var concat = new float[d];
            var scores = new double[p + 1];
            for (var head = 0; head < heads; head++)
            {
                var offset = head * hd;
                for (var t = 0; t <= p; t++)
                {
                    double dot = 0;
                    for (var i = 0; i < hd; i++) dot += (double)q[offset + i] * _keys[l][t][offset + i];
                    scores[t] = dot / Math.Sqrt(hd);
                }
                Softmax(scores);
                for (var i = 0; i < hd; i++)
                {
                    double sum = 0;
                    for (var t = 0; t <= p; t++) sum += scores[t] * _values[l][t][offset + i];
                    concat[offset + i] = (float)sum;
                }
                if (!attention.IsEmpty)
                    for (var t = 0; t <= p; t++) attention[(l * heads + head) * (p + 1) + t] = (float)scores[t];
            }
            var o = MatVec(layer.Output, concat);
            for (var c = 0; c < d; c++) x[c] += o[c];

            h = RmsNorm(x, layer.FfnNorm);
            var gate = MatVec(layer.Gate, h);
            var up = MatVec(layer.Up, h);
            var g = new float[gate.Length];
            for (var i = 0; i < g.Length; i++) g[i] = (float)(gate[i] / (1 + Math.Exp(-gate[i])) * up[i]);
            var down = MatVec(layer.Down, g);
            for (var c = 0; c < d; c++) x[c] += down[c];
        }

        Position++;
        if (logits.IsEmpty) return;
        var final = RmsNorm(x, Model.FinalNorm);
        MatVec(Model.Head, final).CopyTo(logits);
    }

    internal static void CheckSpans(Span<float> logits, Span<float> attention, Format.ModelDimensions dims, int p)
    {
        if (!logits.IsEmpty && logits.Length != dims.VocabSize)
            throw new BulletArgumentException($"logits need room for {dims.VocabSize} values, got {logits.Length}");
        var needed = dims.NumLayers * dims.NumHeads * (p + 1);
        if (!attention.IsEmpty && attention.Length != needed)
            throw new BulletArgumentException($"attention weights at position {p} need room for {needed} values, got {attention.Length}");
    }

    private static float[] MatVec(Bq4Matrix matrix, float[] x)
    {
        var y = new float[matrix.Rows];
        Bq4MatVec.MultiplyReference(matrix, x, y);
        return y;
    }

    /// <summary>rmsnorm(v) * weight with rmsnorm(v) = v / sqrt(mean(v²) + 1e-5).</summary>
    private static float[] RmsNorm(float[] v, float[] weight)
    {
        double squares = 0;
        foreach (var value in v) squares += (double)value * value;
        var inverse = 1 / Math.Sqrt(squares / v.Length + Epsilon);
        var result = new float[v.Length];
        for (var i = 0; i < v.Length; i++) result[i] = (float)(v[i] * inverse * weight[i]);
        return result;
    }

    /// <summary>Interleaved RoPE: per head, pair (2i, 2i+1) turns by p · 10000^(-2i/hd).</summary>
    private static void Rotate(float[] v, int p, int hd)
    {
        for (var offset = 0; offset < v.Length; offset += hd)
            for (var i = 0; i < hd / 2; i++)
            {
                var angle = p * Math.Pow(10000, -2.0 * i / hd);
                double cos = Math.Cos(angle), sin = Math.Sin(angle);
                double a = v[offset + 2 * i], b = v[offset + 2 * i + 1];
                v[offset + 2 * i] = (float)(a * cos - b * sin);
                v[offset + 2 * i + 1] = (float)(a * sin + b * cos);
            }
    }

    private static void Softmax(double[] scores)
    {
        var max = scores.Max();
        double sum = 0;
        for (var i = 0; i < scores.Length; i++) sum += scores[i] = Math.Exp(scores[i] - max);
        for (var i = 0; i < scores.Length; i++) scores[i] /= sum;
    }
}
