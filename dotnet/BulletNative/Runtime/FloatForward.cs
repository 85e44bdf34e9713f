using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// docs/format.md's forward math over float weights by tensor name, in plain scalar code with double sums: the reference that
/// exported files (GGUF) are checked against, independent of BQ4 and of TorchSharp.
/// </summary>
public sealed class FloatForward
{
    private readonly ModelDimensions _dims;
    private readonly IReadOnlyDictionary<string, float[]> _w;
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;
    private int _position;

    /// <summary>A pass with an empty cache; <paramref name="weights"/> must hold every tensor of docs/format.md (Tensors).</summary>
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
            var h = ForwardMath.RmsNorm(x, _w[TensorNames.AttentionNorm(l)]);
            var q = MatVec(_w[TensorNames.Query(l)], h, d);
            var k = MatVec(_w[TensorNames.Key(l)], h, d);
            var v = MatVec(_w[TensorNames.Value(l)], h, d);
            ForwardMath.Rotate(q, p, hd);
            ForwardMath.Rotate(k, p, hd);
            _keys[l].Add(k);
            _values[l].Add(v);
            var concat = ForwardMath.Attend(q, _keys[l], _values[l], heads, default);
            var attn = MatVec(_w[TensorNames.AttentionOutput(l)], concat, d);
            for (var c = 0; c < d; c++) x[c] += attn[c];
            h = ForwardMath.RmsNorm(x, _w[TensorNames.FfnNorm(l)]);
            var gate = MatVec(_w[TensorNames.FfnGate(l)], h, 4 * d);
            ForwardMath.SwiGlu(gate, MatVec(_w[TensorNames.FfnUp(l)], h, 4 * d));
            var down = MatVec(_w[TensorNames.FfnDown(l)], gate, d);
            for (var c = 0; c < d; c++) x[c] += down[c];
        }
        _position++;
        return MatVec(_w[TensorNames.OutputHead], ForwardMath.RmsNorm(x, _w[TensorNames.FinalNorm]), _dims.VocabSize);
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
}
