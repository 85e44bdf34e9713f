using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace BulletNative.Runtime;

/// <summary>
/// The forward pass of docs/format.md (Forward math) with SIMD BQ4 kernels and a KV cache; computes what
/// <see cref="ReferenceForward"/> computes, in float32. Allocates nothing per token once the cache has grown.
/// </summary>
public sealed class FastForward : IForwardPass
{
    private const float Epsilon = (float)ForwardMath.RmsEpsilon;
    private readonly int _threads;
    private readonly Bq4Kernel _kernel;
    private readonly float[] _x, _h, _q, _k, _v, _concat, _out, _gate, _up;
    private float[] _scores = [];
    private readonly PreparedInput _hidden, _wide;
    private readonly double[] _frequencies;
    private readonly float[] _cos, _sin;
    private float[][] _keyCache, _valueCache;
    private int _capacity;

    public BulletModel Model { get; }
    public int Position { get; private set; }

    /// <summary>A pass over <paramref name="model"/>; products with enough rows are split over <paramref name="threads"/> threads.</summary>
    public FastForward(BulletModel model, int threads = 1) : this(model, threads, Bq4MatVec.BestKernel) { }

    /// <summary>A pass with a chosen kernel (benchmarks compare the kernels).</summary>
    internal FastForward(BulletModel model, int threads, Bq4Kernel kernel)
    {
        _kernel = kernel;
        if (threads < 1) throw new BulletArgumentException($"threads must be at least 1, got {threads}");
        Model = model;
        _threads = threads;
        var dims = model.Dimensions;
        int d = dims.HiddenSize, f = dims.FfnSize;
        _x = new float[d];
        _h = new float[d];
        _q = new float[d];
        _k = new float[d];
        _v = new float[d];
        _concat = new float[d];
        _out = new float[d];
        _gate = new float[f];
        _up = new float[f];
        _hidden = new PreparedInput(d);
        _wide = new PreparedInput(f);
        var half = dims.HeadSize / 2;
        _frequencies = new double[half];
        for (var i = 0; i < half; i++) _frequencies[i] = ForwardMath.RopeFrequency(i, dims.HeadSize);
        _cos = new float[half];
        _sin = new float[half];
        _keyCache = new float[dims.NumLayers][];
        _valueCache = new float[dims.NumLayers][];
        Grow(Math.Min(dims.MaxContext, 64));
    }

    public void Reset() => Position = 0;

    /// <summary>Cache room for <paramref name="positions"/> positions per layer; grows by doubling up to max_context.</summary>
    private void Grow(int positions)
    {
        var d = Model.Dimensions.HiddenSize;
        for (var l = 0; l < _keyCache.Length; l++)
        {
            Array.Resize(ref _keyCache[l], positions * d);
            Array.Resize(ref _valueCache[l], positions * d);
        }
        Array.Resize(ref _scores, positions);
        _capacity = positions;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Forward(int token, Span<float> logits, Span<float> attention = default)
    {
        ForwardMath.CheckStep(Model, token, Position, logits, attention);
        var dims = Model.Dimensions;
        int d = dims.HiddenSize, heads = dims.NumHeads, hd = dims.HeadSize, p = Position;
        if (p >= _capacity) Grow(Math.Min(dims.MaxContext, _capacity * 2));

        Model.Embedding.DecodeRow(token, _x);
        for (var i = 0; i < _frequencies.Length; i++)
        {
            var angle = p * _frequencies[i];
            _cos[i] = (float)Math.Cos(angle);
            _sin[i] = (float)Math.Sin(angle);
        }
        var scale = 1 / MathF.Sqrt(hd);

        for (var l = 0; l < Model.Layers.Count; l++)
        {
            var layer = Model.Layers[l];
            RmsNorm(_x, layer.AttentionNorm, _h);
            _hidden.Set(_h);
            Bq4MatVec.Multiply(layer.Query, _hidden, _q, _threads, _kernel);
            Bq4MatVec.Multiply(layer.Key, _hidden, _k, _threads, _kernel);
            Bq4MatVec.Multiply(layer.Value, _hidden, _v, _threads, _kernel);
            Rotate(_q, hd);
            Rotate(_k, hd);
            var keys = _keyCache[l];
            var values = _valueCache[l];
            _k.CopyTo(keys.AsSpan(p * d, d));
            _v.CopyTo(values.AsSpan(p * d, d));

            var scores = _scores.AsSpan(0, p + 1);
            for (var head = 0; head < heads; head++)
            {
                var offset = head * hd;
                var q = _q.AsSpan(offset, hd);
                for (var t = 0; t <= p; t++) scores[t] = Dot(q, keys.AsSpan(t * d + offset, hd)) * scale;
                TensorPrimitives.SoftMax(scores, scores);
                var o = _concat.AsSpan(offset, hd);
                o.Clear();
                for (var t = 0; t <= p; t++) AddScaled(o, values.AsSpan(t * d + offset, hd), scores[t]);
                if (!attention.IsEmpty) scores.CopyTo(attention.Slice((l * heads + head) * (p + 1), p + 1));
            }
            _hidden.Set(_concat);
            Bq4MatVec.Multiply(layer.Output, _hidden, _out, _threads, _kernel);
            TensorPrimitives.Add(_x, _out, _x);

            RmsNorm(_x, layer.FfnNorm, _h);
            _hidden.Set(_h);
            Bq4MatVec.Multiply(layer.Gate, _hidden, _gate, _threads, _kernel);
            Bq4MatVec.Multiply(layer.Up, _hidden, _up, _threads, _kernel);
            // silu(gate) * up = gate * sigmoid(gate) * up
            TensorPrimitives.Sigmoid(_gate, _wide.Values);
            TensorPrimitives.Multiply(_wide.Values, _gate, _gate);
            TensorPrimitives.Multiply(_gate, _up, _gate);
            _wide.Set(_gate);
            Bq4MatVec.Multiply(layer.Down, _wide, _out, _threads, _kernel);
            TensorPrimitives.Add(_x, _out, _x);
        }

        Position++;
        if (logits.IsEmpty) return;
        RmsNorm(_x, Model.FinalNorm, _h);
        _hidden.Set(_h);
        Bq4MatVec.Multiply(Model.Head, _hidden, logits, _threads, _kernel);
    }

    // Head-sized vectors are short (often 16-64 values): inline loops beat a library call per position.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var acc = Vector256<float>.Zero;
        ref var ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref var rb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        for (; i + 8 <= a.Length && i + 8 <= b.Length; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i), acc);
        var sum = Vector256.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(Span<float> target, ReadOnlySpan<float> v, float weight)
    {
        var i = 0;
        var w = Vector256.Create(weight);
        ref var rt = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(target);
        ref var rv = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(v);
        for (; i + 8 <= target.Length && i + 8 <= v.Length; i += 8)
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rv, (nuint)i), w, Vector256.LoadUnsafe(ref rt, (nuint)i)).StoreUnsafe(ref rt, (nuint)i);
        for (; i < target.Length; i++) target[i] += v[i] * weight;
    }

    private static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> result)
    {
        var inverse = 1 / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / x.Length + Epsilon);
        TensorPrimitives.Multiply(x, inverse, result);
        TensorPrimitives.Multiply(result, weight, result);
    }

    private void Rotate(Span<float> v, int hd)
    {
        for (var offset = 0; offset < v.Length; offset += hd)
            for (var i = 0; i < hd / 2; i++)
            {
                float a = v[offset + 2 * i], b = v[offset + 2 * i + 1];
                v[offset + 2 * i] = a * _cos[i] - b * _sin[i];
                v[offset + 2 * i + 1] = a * _sin[i] + b * _cos[i];
            }
    }
}
