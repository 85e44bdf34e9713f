using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BulletNative.Runtime.Kernels;

namespace BulletNative.Runtime;

/// <summary>One token of one sequence in a batch: it takes the sequence's next position; <see cref="Logits"/> asks for its logits.</summary>
public readonly record struct ForwardRow(KvCache Cache, int Token, bool Logits);

/// <summary>
/// The forward pass of the format (docs/format.md, forward math) for many rows at once: R tokens, from any mix of
/// sequences and positions (decoding steps of many sequences, chunks of prompts), go through every matrix together, so
/// each weight block is read once per step for all of them (matrix × matrix). Weights are 4-bit
/// (<see cref="PackedModel"/>), activations int8 per block of 32 (<see cref="Q8Rows"/>), everything else float32.
/// </summary>
/// <remarks>
/// Rows are independent: a row's results are the same bits whatever else is in the batch, so a sequence decodes the
/// same text alone or among others, and a prompt gives the same cache fed one token at a time or in chunks. Buffers
/// grow to the largest batch seen and are reused: a step allocates nothing.
/// <para>Shapes (R rows, d hidden, f = 4d, V vocab): x [R, d] residual stream; qkv [R, 3d]; mixed [R, d] attention
/// output; gateUp [R, 2f]; each matrix product reads int8 rows quantized from the float rows just before it.</para>
/// </remarks>
public sealed unsafe class BatchForward
{
    private const float Epsilon = (float)ForwardMath.RmsEpsilon;
    private readonly PackedModel _packed;
    private readonly int _d, _f, _heads, _hd, _vocab;
    private int _capacity;
    private float[] _x = [], _qkv = [], _mixed = [], _gateUp = [], _swiglu = [];
    private int[] _positions = [];
    private Q8Rows _narrow = null!, _wide = null!;
    private readonly float[] _scores;

    /// <summary>The model whose packed weights every step reads.</summary>
    public BulletModel Model { get; }
    /// <summary>The integer kernel the matrix products run on (<see cref="Q4Q8.Best"/> unless chosen).</summary>
    public Q4Q8Kernel Kernel { get; }
    /// <summary>Threads per matrix product.</summary>
    public int Threads { get; }

    /// <summary>A pass over <paramref name="model"/> with the fastest kernel; products split over <paramref name="threads"/> threads.</summary>
    public BatchForward(BulletModel model, int threads = 1) : this(model, threads, Q4Q8.Best) { }

    /// <summary>A pass with a chosen kernel (tests and benchmarks compare them).</summary>
    public BatchForward(BulletModel model, int threads, Q4Q8Kernel kernel)
    {
        if (threads < 1) throw new BulletArgumentException($"threads must be at least 1, got {threads}");
        Model = model;
        Kernel = kernel;
        Threads = threads;
        _packed = model.Packed(Q4Q8.GroupRows(kernel));
        var dims = model.Dimensions;
        (_d, _f, _heads, _hd, _vocab) = (dims.HiddenSize, dims.FfnSize, dims.NumHeads, dims.HeadSize, dims.VocabSize);
        _scores = new float[dims.MaxContext];
        EnsureRows(1);
    }

    /// <summary>Buffers for <paramref name="rows"/> rows (they only grow).</summary>
    private void EnsureRows(int rows)
    {
        if (rows <= _capacity) return;
        _capacity = Math.Max(rows, _capacity * 2);
        _x = new float[_capacity * _d];
        _qkv = new float[_capacity * 3 * _d];
        _mixed = new float[_capacity * _d];
        _gateUp = new float[_capacity * 2 * _f];
        _swiglu = new float[_capacity * _f];
        _positions = new int[_capacity];
        _narrow = new Q8Rows(_d, _capacity);
        _wide = new Q8Rows(_f, _capacity);
    }

    /// <summary>
    /// Runs every row at its sequence's next position (rows of one sequence in order) and advances the caches. Writes
    /// the logits of the rows that ask for them, in row order, to <paramref name="logits"/> ([asked, vocab]). For a
    /// single row, <paramref name="attention"/> (when not empty) receives the softmax weights [layer, head, p + 1].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<ForwardRow> rows, Span<float> logits, Span<float> attention = default)
    {
        var count = rows.Length;
        if (count == 0) return;
        EnsureRows(count);
        Stage(rows, logits, attention);
        try
        {
            for (var i = 0; i < count; i++) Model.Embedding.DecodeRow(rows[i].Token, _x.AsSpan(i * _d, _d));
            for (var l = 0; l < _packed.Layers.Count; l++) Layer(l, rows, attention);
            Head(rows, logits);
        }
        catch
        {
            foreach (var row in rows) row.Cache.Staged = 0;
            throw;
        }
        foreach (var row in rows)
        {
            row.Cache.Length += row.Cache.Staged;
            row.Cache.Staged = 0;
        }
    }

    /// <summary>Checks the rows, gives each its position and makes room in its cache.</summary>
    private void Stage(ReadOnlySpan<ForwardRow> rows, Span<float> logits, Span<float> attention)
    {
        var asked = 0;
        var maxContext = Model.Dimensions.MaxContext;
        try
        {
            for (var i = 0; i < rows.Length; i++)
            {
                var row = rows[i];
                Model.CheckToken(row.Token);
                var position = row.Cache.Length + row.Cache.Staged;
                if (position >= maxContext) throw new BulletArgumentException($"the context of {maxContext} tokens is full");
                row.Cache.GrowFor(position);
                row.Cache.Staged++;
                _positions[i] = position;
                if (row.Logits) asked++;
            }
        }
        catch
        {
            foreach (var row in rows) row.Cache.Staged = 0;
            throw;
        }
        if (asked > 0 && logits.Length != asked * _vocab)
        {
            foreach (var row in rows) row.Cache.Staged = 0;
            throw new BulletArgumentException($"logits of {asked} rows need {asked * _vocab} values, got {logits.Length}");
        }
        if (!attention.IsEmpty && (rows.Length != 1 || attention.Length != Model.Dimensions.NumLayers * _heads * (_positions[0] + 1)))
        {
            foreach (var row in rows) row.Cache.Staged = 0;
            throw new BulletArgumentException("attention weights are given for a single row with room for [layers, heads, p + 1] values");
        }
    }

    private void Layer(int l, ReadOnlySpan<ForwardRow> rows, Span<float> attention)
    {
        var count = rows.Length;
        var weights = Model.Layers[l];
        var packed = _packed.Layers[l];
        for (var i = 0; i < count; i++) QuantizeNormed(_narrow, i, _x.AsSpan(i * _d, _d), weights.AttentionNorm);
        Multiply(packed.QueryKeyValue, _narrow, count, _qkv, 3 * _d, accumulate: false);

        // Keys and values of every row go in first: a later row of the same sequence attends to the earlier ones.
        for (var i = 0; i < count; i++)
        {
            var qkv = _qkv.AsSpan(i * 3 * _d, 3 * _d);
            Rotate(qkv[.._d], _positions[i]);
            Rotate(qkv.Slice(_d, _d), _positions[i]);
            var cache = rows[i].Cache;
            for (var h = 0; h < _heads; h++)
            {
                var at = (h * cache.Capacity + _positions[i]) * _hd;
                qkv.Slice(_d + h * _hd, _hd).CopyTo(cache.Keys[l].AsSpan(at, _hd));
                qkv.Slice(2 * _d + h * _hd, _hd).CopyTo(cache.Values[l].AsSpan(at, _hd));
            }
        }
        for (var i = 0; i < count; i++)
        {
            var layerWeights = attention.IsEmpty ? default : attention.Slice(l * _heads * (_positions[i] + 1), _heads * (_positions[i] + 1));
            Attend(_qkv.AsSpan(i * 3 * _d, _d), rows[i].Cache, l, _positions[i], _mixed.AsSpan(i * _d, _d), layerWeights);
            _narrow.Quantize(i, _mixed.AsSpan(i * _d, _d));
        }
        Multiply(packed.Output, _narrow, count, _x, _d, accumulate: true);

        for (var i = 0; i < count; i++) QuantizeNormed(_narrow, i, _x.AsSpan(i * _d, _d), weights.FfnNorm);
        Multiply(packed.GateUp, _narrow, count, _gateUp, 2 * _f, accumulate: false);
        for (var i = 0; i < count; i++)
        {
            var gate = _gateUp.AsSpan(i * 2 * _f, _f);
            var up = _gateUp.AsSpan(i * 2 * _f + _f, _f);
            var swiglu = _swiglu.AsSpan(i * _f, _f);
            // silu(gate) * up = gate * sigmoid(gate) * up
            TensorPrimitives.Sigmoid(gate, swiglu);
            TensorPrimitives.Multiply(swiglu, gate, swiglu);
            TensorPrimitives.Multiply(swiglu, up, swiglu);
            _wide.Quantize(i, swiglu);
        }
        Multiply(packed.Down, _wide, count, _x, _d, accumulate: true);
    }

    /// <summary>Final norm and head for the rows that asked for logits (their int8 rows packed to the front).</summary>
    private void Head(ReadOnlySpan<ForwardRow> rows, Span<float> logits)
    {
        var asked = 0;
        for (var i = 0; i < rows.Length; i++)
            if (rows[i].Logits) QuantizeNormed(_narrow, asked++, _x.AsSpan(i * _d, _d), Model.FinalNorm);
        if (asked == 0) return;
        fixed (float* y = logits) Q4Q8.Multiply(_packed.Head, _narrow, asked, y, _vocab, accumulate: false, Threads, Kernel);
    }

    private void Multiply(PackedQ4 weights, Q8Rows input, int count, float[] output, int stride, bool accumulate)
    {
        fixed (float* y = output) Q4Q8.Multiply(weights, input, count, y, stride, accumulate, Threads, Kernel);
    }

    /// <summary>rmsnorm(x) · weight, quantized to int8 row <paramref name="row"/>.</summary>
    private static void QuantizeNormed(Q8Rows into, int row, ReadOnlySpan<float> x, float[] weight)
    {
        var inverse = 1 / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / x.Length + Epsilon);
        into.Quantize(row, x, weight, inverse);
    }

    /// <summary>Interleaved RoPE in place at <paramref name="position"/>, from the shared tables.</summary>
    private void Rotate(Span<float> v, int position)
    {
        var half = _hd / 2;
        var cos = _packed.Cos.AsSpan(position * half, half);
        var sin = _packed.Sin.AsSpan(position * half, half);
        for (var offset = 0; offset < v.Length; offset += _hd)
            for (var i = 0; i < half; i++)
            {
                float a = v[offset + 2 * i], b = v[offset + 2 * i + 1];
                v[offset + 2 * i] = a * cos[i] - b * sin[i];
                v[offset + 2 * i + 1] = a * sin[i] + b * cos[i];
            }
    }

    /// <summary>Causal attention of one row at <paramref name="position"/> over its cache, per head, into <paramref name="output"/>.</summary>
    private void Attend(ReadOnlySpan<float> query, KvCache cache, int layer, int position, Span<float> output, Span<float> weights)
    {
        var count = position + 1;
        var scale = 1 / MathF.Sqrt(_hd);
        var scores = _scores.AsSpan(0, count);
        var headStride = cache.Capacity * _hd;
        fixed (float* keys = cache.Keys[layer])
        fixed (float* values = cache.Values[layer])
        fixed (float* q = query)
        fixed (float* s = scores)
        fixed (float* o = output)
            for (var head = 0; head < _heads; head++)
            {
                Scores(q + head * _hd, keys + head * headStride, count, _hd, scale, s);
                TensorPrimitives.SoftMax(scores, scores);
                WeightedSum(s, values + head * headStride, count, _hd, o + head * _hd);
                if (!weights.IsEmpty) scores.CopyTo(weights.Slice(head * count, count));
            }
    }

    /// <summary>
    /// scores[t] = (q · k[t]) · scale for t &lt; count over [count, n] keys: eight positions at a time, their eight
    /// vector sums folded together by horizontal adds (head sizes that are multiples of 8), the rest one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* q, float* k, int count, int n, float scale, float* scores)
    {
        var t = 0;
        if (Avx.IsSupported && n % 8 == 0)
            for (; t + 8 <= count; t += 8)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                var row = k + t * n;
                for (var c = 0; c < n; c += 8)
                {
                    var qc = Vector256.Load(q + c);
                    a0 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + c), a0);
                    a1 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + n + c), a1);
                    a2 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 2 * n + c), a2);
                    a3 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 3 * n + c), a3);
                    a4 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 4 * n + c), a4);
                    a5 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 5 * n + c), a5);
                    a6 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 6 * n + c), a6);
                    a7 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(row + 7 * n + c), a7);
                }
                // s0123 holds the sums of a0..a3's low halves in its low 128 bits and of their high halves in its high ones.
                var s0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                var s4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
                var sums = Avx.Permute2x128(s0123, s4567, 0x20) + Avx.Permute2x128(s0123, s4567, 0x31);
                (sums * Vector256.Create(scale)).Store(scores + t);
            }
        for (; t < count; t++)
        {
            var i = 0;
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), Vector256.Load(k + t * n + i), acc);
            var sum = Vector256.Sum(acc);
            for (; i < n; i++) sum += q[i] * k[t * n + i];
            scores[t] = sum * scale;
        }
    }

    /// <summary>output[i] = Σ_t weight[t] · v[t, i] over [count, n] values (head sizes 32 and 64 keep every column in registers).</summary>
    private static void WeightedSum(float* weight, float* v, int count, int n, float* output)
    {
        if (n == 32) WeightedSum32(weight, v, count, output);
        else WeightedSumColumns(weight, v, count, n, output);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum32(float* weight, float* v, int count, float* output)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        var t = 0;
        for (; t + 2 <= count; t += 2, v += 64)
        {
            Vector256<float> w = Vector256.Create(weight[t]), x = Vector256.Create(weight[t + 1]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v), w, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 8), w, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 16), w, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 24), w, a3);
            b0 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 32), x, b0);
            b1 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 40), x, b1);
            b2 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 48), x, b2);
            b3 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 56), x, b3);
        }
        if (t < count)
        {
            var w = Vector256.Create(weight[t]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v), w, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 8), w, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 16), w, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 24), w, a3);
        }
        (a0 + b0).Store(output);
        (a1 + b1).Store(output + 8);
        (a2 + b2).Store(output + 16);
        (a3 + b3).Store(output + 24);
    }

    /// <summary>The general form of <see cref="WeightedSum"/>: per 8 columns, four positions at a time.</summary>
    private static void WeightedSumColumns(float* weight, float* v, int count, int n, float* output)
    {
        var c = 0;
        for (; c + 8 <= n; c += 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var t = 0;
            for (; t + 4 <= count; t += 4)
            {
                var row = v + t * n + c;
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(row), Vector256.Create(weight[t]), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + n), Vector256.Create(weight[t + 1]), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 2 * n), Vector256.Create(weight[t + 2]), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 3 * n), Vector256.Create(weight[t + 3]), a3);
            }
            for (; t < count; t++) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v + t * n + c), Vector256.Create(weight[t]), a0);
            ((a0 + a1) + (a2 + a3)).Store(output + c);
        }
        for (; c < n; c++)
        {
            var sum = 0f;
            for (var t = 0; t < count; t++) sum += weight[t] * v[t * n + c];
            output[c] = sum;
        }
    }
}
