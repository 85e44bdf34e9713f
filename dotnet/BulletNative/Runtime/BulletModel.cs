using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Runtime;

/// <summary>The weights of one transformer block: BQ4 matrices in place, RMSNorm weights decoded (they are tiny).</summary>
public sealed record LayerWeights(
    float[] AttentionNorm, Bq4Matrix Query, Bq4Matrix Key, Bq4Matrix Value, Bq4Matrix Output,
    float[] FfnNorm, Bq4Matrix Gate, Bq4Matrix Up, Bq4Matrix Down);

/// <summary>
/// A loaded .bullet model ready to run: the validated file image and views of its tensors. Weights stay BQ4 bytes
/// inside the one file image (read once, never copied per token); only the first vocab_size rows of the embedding
/// and of the head are used.
/// </summary>
public sealed class BulletModel
{
    /// <summary>The validated file image the weights are views into.</summary>
    public BulletFile File { get; }
    /// <summary>The header's dimensions (docs/format.md, Header).</summary>
    public ModelDimensions Dimensions => File.Dimensions;
    /// <summary>tok_embeddings.weight, its first vocab_size rows: row t is token t's embedding.</summary>
    public Bq4Matrix Embedding { get; }
    /// <summary>The transformer blocks, layer 0 first.</summary>
    public IReadOnlyList<LayerWeights> Layers { get; }
    /// <summary>final_layernorm.weight decoded to floats, hidden_size values.</summary>
    public float[] FinalNorm { get; }
    /// <summary>The matrix producing logits: gen_head.weight when present with a row per token, else output_head.weight.</summary>
    public Bq4Matrix Head { get; }
    /// <summary>Which tensor <see cref="Head"/> is.</summary>
    public string HeadName { get; }
    /// <summary>The file's tokenizer (docs/format.md, Tokenizer block).</summary>
    public BulletTokenizer Tokenizer { get; }
    /// <summary>The reader's warnings plus the runtime's own.</summary>
    public IReadOnlyList<string> Warnings { get; }

    private BulletModel(BulletFile file)
    {
        File = file;
        var d = file.Dimensions;
        var warnings = new List<string>(file.Warnings);
        Tokenizer = BulletTokenizer.FromVocabulary(file.Vocabulary);
        Embedding = new Bq4Matrix(file.TensorData(TensorNames.Embedding), d.VocabSize, d.HiddenSize);
        var layers = new LayerWeights[d.NumLayers];
        for (var i = 0; i < d.NumLayers; i++)
            layers[i] = new LayerWeights(
                file.Dequantize(TensorNames.AttentionNorm(i)), Matrix(file, TensorNames.Query(i)), Matrix(file, TensorNames.Key(i)),
                Matrix(file, TensorNames.Value(i)), Matrix(file, TensorNames.AttentionOutput(i)),
                file.Dequantize(TensorNames.FfnNorm(i)), Matrix(file, TensorNames.FfnGate(i)), Matrix(file, TensorNames.FfnUp(i)),
                Matrix(file, TensorNames.FfnDown(i)));
        Layers = layers;
        FinalNorm = file.Dequantize(TensorNames.FinalNorm);
        HeadName = TensorNames.OutputHead;
        if (file.Tensors.TryGetValue(TensorNames.GenerationHead, out var gen))
        {
            if (gen.Shape[0] >= d.VocabSize) HeadName = TensorNames.GenerationHead;
            else warnings.Add($"{TensorNames.GenerationHead} has {gen.Shape[0]} rows for a vocabulary of {d.VocabSize}; generating with {TensorNames.OutputHead}");
        }
        Head = new Bq4Matrix(file.TensorData(HeadName), d.VocabSize, d.HiddenSize);
        foreach (var (name, values) in NormTensors())
            if (values.All(v => v == 0f))
                warnings.Add($"{name} decodes to all zeros (the reference quantizer's scale underflow); the layer it feeds sees a zero vector");
        Warnings = warnings;
    }

    private IEnumerable<(string, float[])> NormTensors()
    {
        for (var i = 0; i < Layers.Count; i++)
        {
            yield return (TensorNames.AttentionNorm(i), Layers[i].AttentionNorm);
            yield return (TensorNames.FfnNorm(i), Layers[i].FfnNorm);
        }
        yield return (TensorNames.FinalNorm, FinalNorm);
    }

    private static Bq4Matrix Matrix(BulletFile file, string name)
    {
        var entry = file.Tensor(name);
        return new Bq4Matrix(file.TensorData(name), entry.Shape[0], entry.Shape[1]);
    }

    /// <summary>Loads a model from disk (one read of the whole file).</summary>
    public static BulletModel Load(string path) => new(BulletReader.ReadFile(path));

    /// <summary>Loads a model from a file image in memory (the bytes are used in place, not copied).</summary>
    public static BulletModel Load(ReadOnlyMemory<byte> bytes) => new(BulletReader.Read(bytes));

    /// <summary>Bytes of weights read to produce one token's logits (every matrix once, one embedding row).</summary>
    public long WeightBytesPerToken =>
        Layers.Sum(l => l.Query.ByteSize + l.Key.ByteSize + l.Value.ByteSize + l.Output.ByteSize + l.Gate.ByteSize + l.Up.ByteSize + l.Down.ByteSize)
        + Head.ByteSize + Embedding.RowBytes;

    private readonly PackedModel?[] _packed = new PackedModel?[2];

    /// <summary>The weights packed for a kernel reading groups of <paramref name="groupRows"/> (8 or 16) rows, made once.</summary>
    public PackedModel Packed(int groupRows)
    {
        var slot = groupRows == 16 ? 1 : 0;
        lock (_packed)
            return _packed[slot] ??= new PackedModel(this, groupRows);
    }

    /// <summary>Throws a clear error unless <paramref name="token"/> is a valid id.</summary>
    public void CheckToken(int token)
    {
        if ((uint)token >= (uint)Dimensions.VocabSize)
            throw new BulletArgumentException($"token id {token} is outside the vocabulary (0..{Dimensions.VocabSize - 1})");
    }
}
