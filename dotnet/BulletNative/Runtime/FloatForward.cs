using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The §6 forward pass over float weights (by §5 name), in plain scalar code with double sums: the reference that
/// exported files (GGUF) are checked against, independent of BQ4 and of TorchSharp.
/// </summary>
public sealed class FloatForward
{
    private const double Epsilon = 1e-5;
    private readonly ModelDimensions _dims;
    private readonly IReadOnlyDictionary<string, float[]> _w;
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;
    private int _position;

    /// <summary>A pass with an empty cache; <paramref name="weights"/> must hold every §5 tensor.</summary>
    public FloatForward(ModelDimensions dims, IReadOnlyDictionary<string, float[]> weights)
    {
        _dims = dims;
        foreach (var (name, shape) in dims.RequiredTensors())
            if (!weights.TryGetValue(name, out var values) || values.Length != shape.Aggregate(1, (a, b) => a * b))
                throw new BulletArgumentException($"float forward: tensor \"{name}\" is missing or mis-sized");
        _w = weights;
        _keys = Enumerable.Range(0, dims.NumLayers).Select(_ => new List<float[]>()).ToArray();
        _values = Enumerable.Range(0, dims.NumLayers).Select(_ => new List<float[]>()).ToArray();
    }

    /// <summary>Feeds <paramref name="prompt"/>, then appends <paramref name="count"/> argmax tokens; returns those tokens.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        if (prompt.Count == 0) throw new BulletArgumentException("the prompt must hold at least one token");
        if (prompt.Count + count > _dims.MaxContext + 1)
            throw new BulletArgumentException($"{prompt.Count} prompt + {count} new tokens exceed the context of {_dims.MaxContext}");
        float[] logits = [];
        foreach (var t in prompt) logits = Forward(t);
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            var best = 0;
            for (var v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            result[i] = best;
            if (i + 1 < count) logits = Forward(best);
        }
        return result;
    }

    /// <summary>The logits after one more token at the next position.</summary>
    public float[] Forward(int token)
    {
        if (token < 0 || token >= _dims.VocabSize) throw new BulletArgumentException($"token {token} is outside the vocabulary of {_dims.VocabSize}");
        int d = _dims.HiddenSize, heads = _dims.NumHeads, hd = _dims.HeadSize, p = _position;
        var x = _w[TensorNames.Embedding].AsSpan(token * d, d).ToArray();
        for (var l = 0; l < _dims.NumLayers; l++)
        {
            var h = RmsNorm(x, _w[TensorNames.AttentionNorm(l)]);
            var q = MatVec(_w[TensorNames.Query(l)], h, d);
            var k = MatVec(_w[TensorNames.Key(l)], h, d);
            var v = MatVec(_w[TensorNames.Value(l)], h, d);
            Rotate(q, p, hd);
            Rotate(k, p, hd);
            _keys[l].Add(k);
            _values[l].Add(v);
            var concat = new float[d];
            var scores = new double[p + 1];
            for (var head = 0; head < heads; head++)
            {
                var o = head * hd;
                double max = double.NegativeInfinity, sum = 0;
                for (var t = 0; t <= p; t++)
                {
                    double dot = 0;
                    for (var i = 0; i < hd; i++) dot += (double)q[o + i] * _keys[l][t][o + i];
                    scores[t] = dot / Math.Sqrt(hd);
                    max = Math.Max(max, scores[t]);
                }
                for (var t = 0; t <= p; t++) sum += scores[t] = Math.Exp(scores[t] - max);
                for (var i = 0; i < hd; i++)
                {
                    double acc = 0;
                    for (var t = 0; t <= p; t++) acc += scores[t] / sum * _values[l][t][o + i];
                    concat[o + i] = (float)acc;
                }
            }
            var attn = MatVec(_w[TensorNames.AttentionOutput(l)], concat, d);
            for (var c = 0; c < d; c++) x[c] += attn[c];
            h = RmsNorm(x, _w[TensorNames.FfnNorm(l)]);
            var gate = MatVec(_w[TensorNames.FfnGate(l)], h, 4 * d);
            var up = MatVec(_w[TensorNames.FfnUp(l)], h, 4 * d);
            for (var i = 0; i < gate.Length; i++) gate[i] = (float)(gate[i] / (1 + Math.Exp(-gate[i])) * up[i]);
            var down = MatVec(_w[TensorNames.FfnDown(l)], gate, d);
            for (var c = 0; c < d; c++) x[c] += down[c];
        }
        _position++;
        return MatVec(_w[TensorNames.OutputHead], RmsNorm(x, _w[TensorNames.FinalNorm]), _dims.VocabSize);
    }

    private static float[] RmsNorm(float[] x, float[] weight)
    {
        double sum = 0;
        foreach (var v in x) sum += (double)v * v;
        var scale = 1 / Math.Sqrt(sum / x.Length + Epsilon);
        var result = new float[x.Length];
        for (var i = 0; i < x.Length; i++) result[i] = (float)(x[i] * scale * weight[i]);
        return result;
    }

    private static float[] MatVec(float[] w, float[] x, int rows)
    {
        var result = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            double acc = 0;
            for (var c = 0; c < x.Length; c++) acc += (double)w[r * x.Length + c] * x[c];
            result[r] = (float)acc;
        }
        return result;
    }

    private static void Rotate(float[] v, int p, int hd)
    {
        for (var o = 0; o < v.Length; o += hd)
            for (var i = 0; i < hd / 2; i++)
            {
                var angle = p * Math.Pow(10000, -2.0 * i / hd);
                double c = Math.Cos(angle), s = Math.Sin(angle), a = v[o + 2 * i], b = v[o + 2 * i + 1];
                v[o + 2 * i] = (float)(a * c - b * s);
                v[o + 2 * i + 1] = (float)(a * s + b * c);
            }
    }
}
