using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>A float tensor to be stored: its .bullet tensor name, shape ([out, in] for matrices) and row-major values.</summary>
public sealed record TensorData(string Name, int[] Shape, ReadOnlyMemory<float> Values);

/// <summary>Everything a .bullet file holds before quantization.</summary>
public sealed record BulletModelContent(
    string ModelName,
    ModelDimensions Dimensions,
    BulletVocabulary Vocabulary,
    IReadOnlyList<TensorData> Tensors,
    JsonObject? ExtraHeader = null);

/// <summary>
/// Writes .bullet v1.0 files in the order of docs/format.md (Layout): header, tokenizer block,
/// weights block with BQ4 tensors, footer. Files are written atomically.
/// </summary>
public static class BulletWriter
{
    /// <summary>Quantizes and writes <paramref name="content"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, BulletModelContent content) => AtomicFile.WriteAllBytes(path, ToBytes(content));

    /// <summary>The complete file image for <paramref name="content"/>.</summary>
    public static byte[] ToBytes(BulletModelContent content)
    {
        Validate(content);
        var tokenizerBlock = content.Vocabulary.ToBlock();
        var header = LayoutHeader(content, tokenizerBlock.Length);
        var weights = WeightsBlock(content.Tensors, header.WeightsStart);

        var headerBytes = Encoding.UTF8.GetBytes(header.ToText());
        var file = new byte[header.WeightsStart + weights.Length + BulletLayout.Footer.Length];
        headerBytes.CopyTo(file, 0);
        tokenizerBlock.CopyTo(file, header.TokenizerStart);
        weights.CopyTo(file, header.WeightsStart);
        BulletLayout.Footer.CopyTo(file.AsSpan(file.Length - BulletLayout.Footer.Length));
        return file;
    }

    private static void Validate(BulletModelContent content)
    {
        var dims = content.Dimensions;
        dims.Validate();
        if (content.Vocabulary.Count != dims.VocabSize)
            throw new BulletArgumentException($"the vocabulary has {content.Vocabulary.Count} tokens but vocab_size is {dims.VocabSize}");
        var byName = new Dictionary<string, TensorData>();
        foreach (var t in content.Tensors)
        {
            if (!byName.TryAdd(t.Name, t)) throw new BulletArgumentException($"tensor \"{t.Name}\" is given twice");
            if (t.Shape.Length is < 1 or > BulletLayout.MaxRank || t.Shape.Any(s => s is < 1 or > ushort.MaxValue))
                throw new BulletArgumentException($"tensor \"{t.Name}\" has shape [{string.Join(", ", t.Shape)}]: 1 to 4 dimensions of 1 to 65535");
            var count = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (count != t.Values.Length)
                throw new BulletArgumentException($"tensor \"{t.Name}\" has {t.Values.Length} values for shape [{string.Join(", ", t.Shape)}] ({count})");
        }
        var problems = new List<string>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            if (!byName.TryGetValue(name, out var t)) problems.Add($"required tensor \"{name}\" is missing");
            else if (!t.Shape.SequenceEqual(shape))
                problems.Add($"tensor \"{name}\" has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
        }
        if (problems.Count > 0) throw new BulletArgumentException(string.Join("; ", problems));
    }

    /// <summary>Finds offsets consistent with the header text that contains them (its length depends on their digits).</summary>
    private static BulletHeader LayoutHeader(BulletModelContent content, int tokenizerBlockLength)
    {
        var header = new BulletHeader(content.ModelName, content.Dimensions, 0, 0, content.ExtraHeader);
        while (true)
        {
            var headerLength = Encoding.UTF8.GetByteCount(header.ToText()) + BulletLayout.HeaderTerminatorLength;
            var tokenizerStart = BulletLayout.AlignUp(headerLength, BulletLayout.TokenizerAlignment);
            var weightsStart = BulletLayout.AlignUp(tokenizerStart + tokenizerBlockLength, BulletLayout.WeightsAlignment);
            if (tokenizerStart == header.TokenizerStart && weightsStart == header.WeightsStart) return header;
            header = header with { TokenizerStart = tokenizerStart, WeightsStart = weightsStart };
        }
    }

    /// <summary>"BWT0", the count, then per tensor its entry, zero padding to a 32-aligned file offset, and its BQ4 data.</summary>
    private static byte[] WeightsBlock(IReadOnlyList<TensorData> tensors, long weightsStart)
    {
        var stream = new MemoryStream();
        Span<byte> entry = stackalloc byte[BulletLayout.TensorEntryLength];
        stream.Write(BulletLayout.WeightsMagic);
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)tensors.Count);
        stream.Write(u32);
        foreach (var t in tensors)
        {
            var data = new byte[Bq4.ByteCount(t.Values.Length)];
            Bq4.Quantize(t.Values.Span, data);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, Fnv1a.Hash(t.Name));
            entry[8] = (byte)t.Shape.Length;
            for (var k = 0; k < BulletLayout.MaxRank; k++)
                BinaryPrimitives.WriteUInt16LittleEndian(entry[(9 + 2 * k)..], (ushort)(k < t.Shape.Length ? t.Shape[k] : 1));
            entry[17] = (byte)BulletQuantType.BQ4;
            BinaryPrimitives.WriteUInt32LittleEndian(entry[18..], (uint)data.Length);
            stream.Write(entry);
            var fileOffset = weightsStart + stream.Length;
            stream.Write(new byte[BulletLayout.AlignUp(fileOffset, BulletLayout.TensorDataAlignment) - fileOffset]);
            stream.Write(data);
        }
        return stream.ToArray();
    }
}
