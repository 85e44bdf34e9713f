namespace BulletNative.Format;

/// <summary>The dimensions a .bullet header declares, and the tensor names and shapes they imply (docs/format.md, Tensors).</summary>
public sealed record ModelDimensions(int HiddenSize, int NumLayers, int NumHeads, int VocabSize, int MaxContext)
{
    /// <summary>Per-head width d / heads.</summary>
    public int HeadSize => HiddenSize / NumHeads;

    /// <summary>SwiGLU hidden width, always 4d.</summary>
    public int FfnSize => 4 * HiddenSize;

    /// <summary>Problems with these dimensions, as sentences; empty when they describe a valid model.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (HiddenSize <= 0 || HiddenSize % 32 != 0)
            problems.Add($"hidden_size {HiddenSize} must be a positive multiple of 32");
        if (HiddenSize > 65535 / 4)
            problems.Add($"hidden_size {HiddenSize} is too large: the FFN width 4·hidden_size must fit a u16 shape field");
        if (NumLayers <= 0) problems.Add($"num_layers {NumLayers} must be at least 1");
        if (NumLayers > 1024) problems.Add($"num_layers {NumLayers} is more than 1024");
        if (NumHeads <= 0) problems.Add($"num_heads {NumHeads} must be at least 1");
        else if (HiddenSize > 0 && (HiddenSize % NumHeads != 0 || HiddenSize / NumHeads % 2 != 0))
            problems.Add($"num_heads {NumHeads} must divide hidden_size {HiddenSize} into an even head size");
        if (VocabSize <= 0 || VocabSize > 65535) problems.Add($"vocab_size {VocabSize} must be between 1 and 65535");
        if (MaxContext <= 0) problems.Add($"max_context {MaxContext} must be at least 1");
        return problems;
    }

    /// <summary>Throws a BulletArgumentException listing every problem, if there are any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new BulletArgumentException(string.Join("; ", problems));
    }

    /// <summary>Every tensor a model of these dimensions must have, in the order writers store them.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> RequiredTensors()
    {
        int d = HiddenSize, f = FfnSize;
        var list = new List<(string, int[])> { (TensorNames.Embedding, [VocabSize, d]) };
        for (var i = 0; i < NumLayers; i++)
        {
            list.Add((TensorNames.AttentionNorm(i), [d]));
            list.Add((TensorNames.Query(i), [d, d]));
            list.Add((TensorNames.Key(i), [d, d]));
            list.Add((TensorNames.Value(i), [d, d]));
            list.Add((TensorNames.AttentionOutput(i), [d, d]));
            list.Add((TensorNames.FfnNorm(i), [d]));
            list.Add((TensorNames.FfnGate(i), [f, d]));
            list.Add((TensorNames.FfnUp(i), [f, d]));
            list.Add((TensorNames.FfnDown(i), [d, f]));
        }
        list.Add((TensorNames.FinalNorm, [d]));
        list.Add((TensorNames.OutputHead, [VocabSize, d]));
        return list;
    }
}

/// <summary>The tensor names of docs/format.md (Tensors).</summary>
public static class TensorNames
{
    /// <summary>"tok_embeddings.weight", [V, d]: row t is token t's embedding.</summary>
    public const string Embedding = "tok_embeddings.weight";
    /// <summary>"final_layernorm.weight", [d]: the RMSNorm weight after the last block.</summary>
    public const string FinalNorm = "final_layernorm.weight";
    /// <summary>"output_head.weight", [V, d]: the matrix that produces the logits.</summary>
    public const string OutputHead = "output_head.weight";
    /// <summary>Optional generation head that readers prefer over output_head when present.</summary>
    public const string GenerationHead = "gen_head.weight";

    /// <summary>Layer <paramref name="layer"/>'s RMSNorm weight before attention, [d].</summary>
    public static string AttentionNorm(int layer) => $"layers.{layer}.norm.attn.weight";
    /// <summary>Layer <paramref name="layer"/>'s query matrix Wq, [d, d].</summary>
    public static string Query(int layer) => $"layers.{layer}.attention.query.weight";
    /// <summary>Layer <paramref name="layer"/>'s key matrix Wk, [d, d].</summary>
    public static string Key(int layer) => $"layers.{layer}.attention.key.weight";
    /// <summary>Layer <paramref name="layer"/>'s value matrix Wv, [d, d].</summary>
    public static string Value(int layer) => $"layers.{layer}.attention.value.weight";
    /// <summary>Layer <paramref name="layer"/>'s attention output matrix Wo, [d, d].</summary>
    public static string AttentionOutput(int layer) => $"layers.{layer}.attention.output.weight";
    /// <summary>Layer <paramref name="layer"/>'s RMSNorm weight before the feed-forward network, [d].</summary>
    public static string FfnNorm(int layer) => $"layers.{layer}.norm.ffn.weight";
    /// <summary>Layer <paramref name="layer"/>'s SwiGLU gate W1 ("ffn.w1"), [4d, d].</summary>
    public static string FfnGate(int layer) => $"layers.{layer}.ffn.w1.weight";
    /// <summary>Layer <paramref name="layer"/>'s up projection W3 ("ffn.w3"), [4d, d].</summary>
    public static string FfnUp(int layer) => $"layers.{layer}.ffn.w3.weight";
    /// <summary>Layer <paramref name="layer"/>'s down projection W2 ("ffn.w2"), [d, 4d].</summary>
    public static string FfnDown(int layer) => $"layers.{layer}.ffn.w2.weight";

    /// <summary>True for names of optional task heads (`*_head.weight` other than output_head).</summary>
    public static bool IsTaskHead(string name) =>
        name.EndsWith("_head.weight", StringComparison.Ordinal) && name != OutputHead && !name.Contains('/');
}
