using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The definition of the forward pass (docs/format.md, forward math) over float weights by tensor name: plain scalar
/// code, sums and softmax in double, one token at a time with a growing list of keys and values. Independent of BQ4,
/// of the SIMD kernels and of TorchSharp, it is what the trainer's model, exported GGUF files and the runtime are
/// checked against; <see cref="ReferenceForward"/> runs it on a .bullet model's decoded weights.
/// </summary>
public sealed class FloatForward
{
    private readonly ModelDimensions _dims;
    private readonly IReadOnlyDictionary<string, float[]> _w;
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;

    /// <summary>Tokens in the cache: the position the next token takes.</summary>
    public int Position { get; private set; }

    /// <summary>A pass with an empty cache; <paramref name="weights"/> must hold every tensor of the format's table.</summary>
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

    /// <summary>Empties the cache (position 0).</summary>
    public void Reset()
    {
        foreach (var list in _keys) list.Clear();
        foreach (var list in _values) list.Clear();
        Position = 0;
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
            result[i] = Sampler.ArgMax(logits);
            if (i + 1 < count) logits = Forward(result[i]);
        }
        return result;
    }

    /// <summary>
    /// The logits after one more token at the next position. Fills <paramref name="attention"/>, when not empty, with
    /// the softmax weights of every layer and head over positions 0..p, laid out [layer, head, p + 1].
    /// </summary>
    public float[] Forward(int token, Span<float> attention = default)
    {
        if (token < 0 || token >= _dims.VocabSize) throw new BulletArgumentException($"token {token} is outside the vocabulary of {_dims.VocabSize}");
        int d = _dims.HiddenSize, heads = _dims.NumHeads, hd = _dims.HeadSize, p = Position;
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
            var layerWeights = attention.IsEmpty ? default : attention.Slice(l * heads * (p + 1), heads * (p + 1));
            var concat = ForwardMath.Attend(q, _keys[l], _values[l], heads, layerWeights);
            var attn = MatVec(_w[TensorNames.AttentionOutput(l)], concat, d);
            for (var c = 0; c < d; c++) x[c] += attn[c];
            h = ForwardMath.RmsNorm(x, _w[TensorNames.FfnNorm(l)]);
            var gate = MatVec(_w[TensorNames.FfnGate(l)], h, 4 * d);
            ForwardMath.SwiGlu(gate, MatVec(_w[TensorNames.FfnUp(l)], h, 4 * d));
            var down = MatVec(_w[TensorNames.FfnDown(l)], gate, d);
            for (var c = 0; c < d; c++) x[c] += down[c];
        }
        Position++;
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
