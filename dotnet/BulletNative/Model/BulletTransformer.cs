using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BulletNative.Model;

// Shapes: B batch, T time (positions), C channels (hidden size d), H heads, D head size (C/H), V vocab.

/// <summary>
/// The transformer of docs/format.md (Forward math) in TorchSharp: token embedding, N pre-norm blocks (RMSNorm, attention
/// with pairwise-interleaved RoPE, RMSNorm, SwiGLU), final RMSNorm, output head. No biases. Each module field
/// is named so that the parameter paths are the tensor names of docs/format.md (Tensors).
/// </summary>
public sealed class BulletTransformer : nn.Module<Tensor, Tensor>
{
    // Field names are the .bullet tensor names; TorchSharp registers fields by name (kept under trimming by TrimmerRootAssembly).
    private readonly Embedding tok_embeddings;
    private readonly ModuleList<TransformerBlock> layers;
    private readonly RmsNorm final_layernorm;
    private readonly Linear? output_head; // null when tied: the head reads the embedding's tensor
    private readonly RopeTable _rope;
    private readonly List<(string Name, Parameter Weight)> _weights = [];

    static BulletTransformer() => TorchNatives.EnsureLoaded();

    /// <summary>The model's shape.</summary>
    public ModelConfig Config { get; }

    private readonly ForwardOptions _options;

    /// <summary>When set, every weight matrix passes through fake BQ4 in the forward pass (quantization-aware training).</summary>
    public bool FakeQuantize { get => _options.FakeQuantize; set => _options.FakeQuantize = value; }

    /// <summary>
    /// Builds the model with weights drawn from <paramref name="generator"/> (torch's global generator when null);
    /// dropout masks come from the same generator, so parallel sessions do not disturb each other's randomness.
    /// </summary>
    public BulletTransformer(ModelConfig config, Generator? generator = null) : base(nameof(BulletTransformer))
    {
        config.Validate();
        Config = config;
        var d = config.HiddenSize;
        _options = new ForwardOptions(config.Dropout, generator);
        tok_embeddings = nn.Embedding(config.VocabSize, d);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new TransformerBlock(config, _options)).ToArray());
        final_layernorm = new RmsNorm(d);
        if (!config.TiedHead) output_head = nn.Linear(d, config.VocabSize, hasBias: false);
        _rope = new RopeTable(config.HeadSize, config.MaxContext);
        RegisterComponents();

        _weights.Add(("tok_embeddings.weight", tok_embeddings.weight!));
        for (var i = 0; i < layers.Count; i++) _weights.AddRange(layers[i].NamedWeights($"layers.{i}."));
        _weights.Add(("final_layernorm.weight", final_layernorm.weight));
        _weights.Add(("output_head.weight", HeadWeight));
        Initialize(generator);
    }

    /// <summary>Every .bullet tensor name with its parameter, in file order; a tied head appears under both names.</summary>
    public IReadOnlyList<(string Name, Parameter Weight)> NamedWeights => _weights;

    /// <summary>The distinct trainable parameters (a tied head once), in file order.</summary>
    public IEnumerable<(string Name, Parameter Weight)> TrainableWeights =>
        _weights.Where(w => !(Config.TiedHead && w.Name == "output_head.weight"));

    /// <summary>Token ids [B, T] (int64) to logits [B, T, V].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = Hidden(tokens, null);
        return OutputLogits(x).MoveToOuterDisposeScope();
    }

    /// <summary>The attention probabilities of every layer for one sequence [T]: [layers, H, T, T].</summary>
    public Tensor AttentionMaps(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var maps = new List<Tensor>();
        Hidden(tokens.unsqueeze(0), maps);
        return stack(maps.Select(m => m.squeeze(0)).ToArray()).MoveToOuterDisposeScope();
    }

    private Tensor Hidden(Tensor tokens, List<Tensor>? attentionMaps)
    {
        var t = tokens.shape[1];
        if (t > Config.MaxContext)
            throw new BulletArgumentException($"sequence of {t} tokens is longer than max_seq_len {Config.MaxContext}");
        var x = FakeQuantize
            ? FakeBq4.Apply(tok_embeddings.weight!).index_select(0, tokens.flatten()).view(tokens.shape[0], t, -1)
            : tok_embeddings.forward(tokens);
        x = _options.Dropout(x, training);
        var rotation = _rope.For(t);
        foreach (var block in layers) x = block.Forward(x, rotation, attentionMaps);
        return final_layernorm.forward(x);
    }

    // _weights[0] is the embedding, fetched once: TorchSharp's property getter returns a fresh wrapper per call.
    private Parameter HeadWeight => output_head?.weight ?? _weights[0].Weight;

    private Tensor OutputLogits(Tensor x) => _options.Linear(x, HeadWeight);

    /// <summary>
    /// GPT-2's initialization: N(0, 0.02) for embeddings and projections, and the two projections that write into
    /// the residual stream (attention.output, ffn.w2) scaled by 1/sqrt(2·layers), so the residual stream's variance
    /// does not grow with depth; RMSNorm weights start at 1. At these widths (64–512) it trains stably from step 0
    /// with lr up to ~1e-3, where PyTorch's default uniform(±1/sqrt(in)) makes early logits too large.
    /// </summary>
    private void Initialize(Generator? generator)
    {
        using var noGrad = no_grad();
        var residualStd = 0.02 / Math.Sqrt(2.0 * Config.NumLayers);
        foreach (var (name, weight) in TrainableWeights)
        {
            if (weight.dim() == 1) weight.fill_(1.0);
            else if (name.EndsWith("attention.output.weight") || name.EndsWith("ffn.w2.weight")) weight.normal_(0, residualStd, generator);
            else weight.normal_(0, 0.02, generator); // nn.init.normal_ ignores its generator in 0.107
        }
    }
}

/// <summary>One pre-norm block: x + attention(norm.attn(x)), then x + ffn(norm.ffn(x)).</summary>
internal sealed class TransformerBlock : nn.Module
{
    private readonly BlockNorms norm;
    private readonly Attention attention;
    private readonly FeedForward ffn;

    /// <summary>A block of <paramref name="config"/>'s shape whose layers read <paramref name="options"/>.</summary>
    public TransformerBlock(ModelConfig config, ForwardOptions options) : base(nameof(TransformerBlock))
    {
        norm = new BlockNorms(config.HiddenSize);
        attention = new Attention(config, options);
        ffn = new FeedForward(config, options);
        RegisterComponents();
    }

    /// <summary>The block's parameters under their .bullet tensor names (docs/format.md, Tensors), each prefixed with <paramref name="prefix"/> ("layers.{i}.").</summary>
    public IEnumerable<(string, Parameter)> NamedWeights(string prefix) =>
    [
        (prefix + "norm.attn.weight", norm.attn.weight),
        .. attention.NamedWeights(prefix + "attention."),
        (prefix + "norm.ffn.weight", norm.ffn.weight),
        .. ffn.NamedWeights(prefix + "ffn."),
    ];

    /// <summary>x [B, T, C] to [B, T, C].</summary>
    public Tensor Forward(Tensor x, Tensor rotation, List<Tensor>? attentionMaps)
    {
        x = x + attention.Forward(norm.attn.forward(x), rotation, attentionMaps);
        return x + ffn.Forward(norm.ffn.forward(x));
    }
}

/// <summary>The two RMSNorms of a block, under the names `norm.attn` and `norm.ffn`.</summary>
internal sealed class BlockNorms : nn.Module
{
    /// <summary>The RMSNorm before attention ("norm.attn").</summary>
    public readonly RmsNorm attn;
    /// <summary>The RMSNorm before the feed-forward network ("norm.ffn").</summary>
    public readonly RmsNorm ffn;

    /// <summary>Both norms over <paramref name="size"/> (hidden_size) values, weights starting at 1.</summary>
    public BlockNorms(int size) : base(nameof(BlockNorms))
    {
        attn = new RmsNorm(size);
        ffn = new RmsNorm(size);
        RegisterComponents();
    }
}

/// <summary>RMSNorm (TorchSharp 0.107 has none): x / sqrt(mean(x²) + 1e-5) · weight over the last dimension.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>The per-channel scale, [size], starting at 1.</summary>
    public readonly Parameter weight;

    /// <summary>A norm over the last dimension of <paramref name="size"/> values, weight starting at 1.</summary>
    public RmsNorm(int size) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size));
        RegisterComponents();
    }

    /// <summary>x [..., C] divided by its root mean square and scaled by <see cref="weight"/>; eps is <see cref="ModelConfig.NormEps"/>.</summary>
    public override Tensor forward(Tensor x) =>
        x * x.pow(2).mean([-1], keepdim: true).add(ModelConfig.NormEps).rsqrt() * weight;
}

/// <summary>Causal multi-head self-attention with pairwise-interleaved RoPE on q and k.</summary>
internal sealed class Attention : nn.Module
{
    private readonly Linear query, key, value, output;
    private readonly ModelConfig _config;
    private readonly ForwardOptions _options;

    /// <summary>The four [d, d] projections of <paramref name="config"/>'s width, no biases; the layers read <paramref name="options"/>.</summary>
    public Attention(ModelConfig config, ForwardOptions options) : base(nameof(Attention))
    {
        var d = config.HiddenSize;
        query = nn.Linear(d, d, hasBias: false);
        key = nn.Linear(d, d, hasBias: false);
        value = nn.Linear(d, d, hasBias: false);
        output = nn.Linear(d, d, hasBias: false);
        _config = config;
        _options = options;
        RegisterComponents();
    }

    /// <summary>Wq, Wk, Wv and Wo under their tensor names, each prefixed with <paramref name="prefix"/> ("layers.{i}.attention.").</summary>
    public IEnumerable<(string, Parameter)> NamedWeights(string prefix) =>
    [
        (prefix + "query.weight", query.weight!), (prefix + "key.weight", key.weight!),
        (prefix + "value.weight", value.weight!), (prefix + "output.weight", output.weight!),
    ];

    /// <summary>x [B, T, C] to [B, T, C]; appends the [B, H, T, T] probabilities when a list is given.</summary>
    public Tensor Forward(Tensor x, Tensor rotation, List<Tensor>? attentionMaps)
    {
        long b = x.shape[0], t = x.shape[1], h = _config.NumHeads, d = _config.HeadSize;
        var q = RopeTable.Rotate(_options.Linear(x, query.weight!).view(b, t, h, d), rotation).transpose(1, 2); // [B, H, T, D]
        var k = RopeTable.Rotate(_options.Linear(x, key.weight!).view(b, t, h, d), rotation).transpose(1, 2);
        var v = _options.Linear(x, value.weight!).view(b, t, h, d).transpose(1, 2);
        Tensor y;
        if (attentionMaps is null)
        {
            // Dropout acts on the block outputs only: SDPA's own dropout would draw from the global generator.
            y = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true);
        }
        else
        {
            var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(d);
            var mask = ones(t, t, dtype: ScalarType.Bool).triu(1);
            var probs = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1);
            attentionMaps.Add(probs);
            y = probs.matmul(v);
        }
        y = y.transpose(1, 2).reshape(b, t, h * d);
        return _options.Dropout(_options.Linear(y, output.weight!), training);
    }
}

/// <summary>SwiGLU: w2(silu(w1 x) · w3 x), hidden 4d.</summary>
internal sealed class FeedForward : nn.Module
{
    private readonly Linear w1, w2, w3;
    private readonly ForwardOptions _options;

    /// <summary>W1 and W3 [4d, d] and W2 [d, 4d] of <paramref name="config"/>'s width, no biases; the layers read <paramref name="options"/>.</summary>
    public FeedForward(ModelConfig config, ForwardOptions options) : base(nameof(FeedForward))
    {
        w1 = nn.Linear(config.HiddenSize, config.FfnSize, hasBias: false);
        w2 = nn.Linear(config.FfnSize, config.HiddenSize, hasBias: false);
        w3 = nn.Linear(config.HiddenSize, config.FfnSize, hasBias: false);
        _options = options;
        RegisterComponents();
    }

    /// <summary>W1 (gate), W3 (up) and W2 (down) under their tensor names, each prefixed with <paramref name="prefix"/> ("layers.{i}.ffn.").</summary>
    public IEnumerable<(string, Parameter)> NamedWeights(string prefix) =>
        [(prefix + "w1.weight", w1.weight!), (prefix + "w3.weight", w3.weight!), (prefix + "w2.weight", w2.weight!)];

    /// <summary>x [B, T, C] to [B, T, C].</summary>
    public Tensor Forward(Tensor x)
    {
        var gate = nn.functional.silu(_options.Linear(x, w1.weight!));
        return _options.Dropout(_options.Linear(gate * _options.Linear(x, w3.weight!), w2.weight!), training);
    }
}

/// <summary>
/// Switches every layer reads in its forward pass. A plain class, not a module: a module field pointing back up
/// the tree would be registered as a child.
/// </summary>
internal sealed class ForwardOptions(double dropout, Generator? generator)
{
    /// <summary>When set, <see cref="Linear"/> multiplies by fake-BQ4 weights (quantization-aware training).</summary>
    public bool FakeQuantize;

    /// <summary>x · weightᵀ, through <see cref="FakeBq4"/> when <see cref="FakeQuantize"/> is set.</summary>
    public Tensor Linear(Tensor x, Tensor weight) => nn.functional.linear(x, FakeQuantize ? FakeBq4.Apply(weight) : weight);

    /// <summary>Inverted dropout with masks from the session's generator (functional.dropout takes no generator).</summary>
    public Tensor Dropout(Tensor x, bool training) =>
        training && dropout > 0 ? x * (rand(x.shape, generator: generator) >= dropout) / (1 - dropout) : x;
}

/// <summary>
/// Cached RoPE rotations for every position: pair (2i, 2i+1) of a head turns by p · 10000^(-2i/D). Each pair is
/// held as one complex number and turned by one complex multiply, which measured ~5 % faster per training step than
/// the four real multiplies and a stack. A plain class (not a module) so the table is not saved as a buffer.
/// </summary>
internal sealed class RopeTable
{
    private readonly Tensor _rotations; // [maxT, D/2] complex: cos + i·sin

    /// <summary>The rotations of positions 0 to <paramref name="maxContext"/> − 1 for heads of <paramref name="headSize"/> values.</summary>
    public RopeTable(int headSize, int maxContext)
    {
        var half = headSize / 2;
        var cos = new float[maxContext * half];
        var sin = new float[maxContext * half];
        for (var p = 0; p < maxContext; p++)
            for (var i = 0; i < half; i++)
            {
                var angle = p * Math.Pow(ModelConfig.RopeTheta, -2.0 * i / headSize);
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        using var real = tensor(cos, [maxContext, half]);
        using var imaginary = tensor(sin, [maxContext, half]);
        _rotations = complex(real, imaginary);
    }

    /// <summary>The rotations of the first t positions, shaped [T, 1, D/2] to broadcast over [B, T, H, D/2].</summary>
    public Tensor For(long t) => _rotations.narrow(0, 0, t).unsqueeze(1);

    /// <summary>Rotates x [B, T, H, D] pairwise: (a, b) to (a cos - b sin, a sin + b cos), as (a + ib)(cos + i·sin).</summary>
    public static Tensor Rotate(Tensor x, Tensor rotation) =>
        view_as_real(view_as_complex(x.view(x.shape[0], x.shape[1], x.shape[2], -1, 2)) * rotation).flatten(-2);
}
