namespace BulletNative.Format;

/// <summary>
/// A validated .bullet file image: header, vocabulary, the tensor table, and the warnings its quirks raised.
/// Tensor data is read straight from <see cref="Data"/>; nothing is copied per tensor.
/// </summary>
public sealed class BulletFile
{
    /// <summary>The parsed header JSON (docs/format.md, Header).</summary>
    public required BulletHeader Header { get; init; }
    /// <summary>The tokens, scores and merges of the tokenizer block (docs/format.md, Tokenizer block).</summary>
    public required BulletVocabulary Vocabulary { get; init; }
    /// <summary>Every table entry in file order, including ones that were skipped with a warning.</summary>
    public required IReadOnlyList<BulletTensorEntry> Entries { get; init; }
    /// <summary>Entries usable by name: known names whose size matches their shape (first wins on duplicates).</summary>
    public required IReadOnlyDictionary<string, BulletTensorEntry> Tensors { get; init; }
    /// <summary>Quirks the file loaded despite, in the order found (docs/format.md, Validation); empty for a clean file.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>The whole file.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Model dimensions from the header.</summary>
    public ModelDimensions Dimensions => Header.Dimensions;

    /// <summary>The BQ4 bytes of a named tensor; a missing name is a clear error.</summary>
    public ReadOnlyMemory<byte> TensorData(string name)
    {
        var entry = Tensor(name);
        return Data.Slice((int)entry.DataOffset, (int)entry.DataBytes);
    }

    /// <summary>The table entry of a named tensor; a missing name is a clear error.</summary>
    public BulletTensorEntry Tensor(string name) =>
        Tensors.TryGetValue(name, out var entry) ? entry : throw new BulletFormatException($"the file has no tensor \"{name}\"");

    /// <summary>The tensor's values as floats, decoded from BQ4, in its stored shape.</summary>
    public float[] Dequantize(string name)
    {
        var entry = Tensor(name);
        var values = new float[entry.ValueCount];
        Bq4.Dequantize(TensorData(name).Span, values);
        return values;
    }
}
