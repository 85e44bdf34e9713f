using System.Text;

namespace BulletNative.Format;

/// <summary>
/// Reads and validates .bullet files (docs/format.md, Validation): every offset and length is checked against the file
/// before use, so any input ends in a BulletFile or a BulletFormatException naming what is wrong and where.
/// Quirks of the reference builder's files (extra embedding rows, unnamed or mis-sized tensors) become warnings.
/// </summary>
public static class BulletReader
{
    /// <summary>Task heads a reader recognizes by name besides the tensors of docs/format.md (Tensors).</summary>
    public static readonly string[] KnownTaskHeads =
        [TensorNames.GenerationHead, "ner_head.weight", "cls_head.weight", "intent_head.weight", "sentiment_head.weight"];

    /// <summary>Reads a file from disk in one read.</summary>
    public static BulletFile ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"no such file: {path}");
        if (info.Length > int.MaxValue) throw new BulletFormatException($"{path} is {info.Length} bytes; files over 2 GiB are not supported");
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (BulletFormatException e)
        {
            throw new BulletFormatException($"{Path.GetFileName(path)}: {e.Message}");
        }
    }

    /// <summary>Validates a file image and returns its parsed form.</summary>
    public static BulletFile Read(ReadOnlyMemory<byte> data)
    {
        var bytes = data.Span;
        var warnings = new List<string>();
        if (bytes.Length < 8) throw new BulletFormatException($"the file is {bytes.Length} bytes, too short to be a .bullet file");
        if (bytes[0] != (byte)'{') throw new BulletFormatException("the file does not start with a JSON header ('{')");

        var headerEnd = bytes.IndexOf(stackalloc byte[BulletLayout.HeaderTerminatorLength]);
        if (headerEnd < 0) throw new BulletFormatException("the header has no terminator (four NUL bytes)");
        string headerText;
        try
        {
            headerText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes[..headerEnd]);
        }
        catch (DecoderFallbackException)
        {
            throw new BulletFormatException("the header is not valid UTF-8");
        }
        var header = BulletHeader.Parse(headerText, warnings);
        var dims = header.Dimensions;
        var problems = dims.Problems();
        if (problems.Count > 0) throw new BulletFormatException("the header's dimensions are invalid: " + string.Join("; ", problems));

        var length = bytes.Length;
        CheckOffset(header.TokenizerStart, "tokenizer_start", BulletLayout.TokenizerAlignment, headerEnd + BulletLayout.HeaderTerminatorLength, length);
        CheckOffset(header.WeightsStart, "weights_start", BulletLayout.WeightsAlignment, header.TokenizerStart + 12, length);
        if (!IsZero(bytes[(headerEnd + BulletLayout.HeaderTerminatorLength)..(int)header.TokenizerStart]))
            warnings.Add("bytes between the header and tokenizer_start are not all zero");

        var (vocabulary, tokenizerEnd) = BulletVocabulary.Parse(bytes, header.TokenizerStart, header.WeightsStart);
        if (vocabulary.Count != dims.VocabSize)
            throw new BulletFormatException($"the tokenizer block holds {vocabulary.Count} tokens but the header says vocab_size {dims.VocabSize}");
        if (!IsZero(bytes[(int)tokenizerEnd..(int)header.WeightsStart]))
            warnings.Add("bytes between the tokenizer block and weights_start are not all zero");

        var (entries, weightsEnd) = ReadTable(bytes, header.WeightsStart);
        if (length - weightsEnd != BulletLayout.Footer.Length || !bytes[(int)weightsEnd..].SequenceEqual(BulletLayout.Footer))
            throw new BulletFormatException(length - weightsEnd >= 4 && bytes.Slice((int)weightsEnd, 4).SequenceEqual(BulletLayout.Footer)
                ? $"{length - weightsEnd - 4} bytes follow the \"END!\" footer at offset {weightsEnd}"
                : $"the footer at offset {weightsEnd} is not \"END!\"");

        var tensors = NameTensors(entries, dims, warnings);
        CheckRequired(tensors, dims, warnings);
        return new BulletFile
        {
            Header = header, Vocabulary = vocabulary, Entries = entries, Tensors = tensors, Warnings = warnings, Data = data,
        };
    }

    private static void CheckOffset(long offset, string name, int alignment, long minimum, long fileLength)
    {
        if (offset < minimum || offset >= fileLength)
            throw new BulletFormatException($"file_offsets.{name} {offset} is outside the file (must be between {minimum} and {fileLength - 1})");
        if (offset % alignment != 0)
            throw new BulletFormatException($"file_offsets.{name} {offset} is not a multiple of {alignment}");
    }

    private static bool IsZero(ReadOnlySpan<byte> span) => span.IndexOfAnyExcept((byte)0) < 0;

    private static (List<BulletTensorEntry> Entries, long End) ReadTable(ReadOnlySpan<byte> bytes, long start)
    {
        // The footer's 4 bytes are not part of the weights region.
        var reader = new BoundedReader(bytes, start, bytes.Length - BulletLayout.Footer.Length, "weights block");
        if (!reader.Bytes(4).SequenceEqual(BulletLayout.WeightsMagic))
            throw new BulletFormatException($"the weights block at offset {start} does not start with \"BWT0\"");
        var count = reader.U32("tensor_count");
        if (count > (bytes.Length - reader.Position) / BulletLayout.TensorEntryLength)
            throw new BulletFormatException($"tensor_count {count} cannot fit in the rest of the file");
        var entries = new List<BulletTensorEntry>((int)count);
        for (var i = 0; i < count; i++)
        {
            var at = reader.Position;
            var hash = reader.U64($"name_hash of tensor {i}");
            var rank = reader.U8($"rank of tensor {i}");
            var shape = new int[BulletLayout.MaxRank];
            for (var k = 0; k < shape.Length; k++) shape[k] = reader.U16($"shape of tensor {i}");
            var quant = reader.U8($"quant_type of tensor {i}");
            var size = reader.U32($"data_bytes of tensor {i}");
            if (rank is < 1 or > BulletLayout.MaxRank)
                throw new BulletFormatException($"tensor {i} (entry at offset {at}) has rank {rank}; it must be 1 to 4");
            reader.Seek(BulletLayout.AlignUp(reader.Position, BulletLayout.TensorDataAlignment));
            var dataOffset = reader.Position;
            reader.Bytes(size);
            entries.Add(new BulletTensorEntry(hash, null, rank, shape, (BulletQuantType)quant, dataOffset, size));
        }
        return (entries, reader.Position);
    }

    private static Dictionary<string, BulletTensorEntry> NameTensors(List<BulletTensorEntry> entries, ModelDimensions dims, List<string> warnings)
    {
        var names = new Dictionary<ulong, string>();
        foreach (var (name, _) in dims.RequiredTensors()) names[Fnv1a.Hash(name)] = name;
        foreach (var name in KnownTaskHeads) names[Fnv1a.Hash(name)] = name;

        var tensors = new Dictionary<string, BulletTensorEntry>();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (!names.TryGetValue(entry.NameHash, out var name))
            {
                warnings.Add($"tensor {i} has an unknown name (hash 0x{entry.NameHash:x16}, shape [{string.Join(", ", entry.Dims)}]); skipped");
                continue;
            }
            entries[i] = entry = entry with { Name = name };
            if (entry.QuantType != BulletQuantType.BQ4)
            {
                warnings.Add($"tensor \"{name}\" uses quant_type {(int)entry.QuantType} ({entry.QuantType}), which is reserved; skipped");
                continue;
            }
            var expected = Bq4.ByteCount(entry.ValueCount);
            if (entry.DataBytes != expected)
            {
                warnings.Add($"tensor \"{name}\" holds {entry.DataBytes} bytes but its shape [{string.Join(", ", entry.Dims)}] needs {expected}; skipped");
                continue;
            }
            if (!tensors.TryAdd(name, entry))
                warnings.Add($"tensor \"{name}\" appears more than once; the first is used");
        }
        return tensors;
    }

    private static void CheckRequired(Dictionary<string, BulletTensorEntry> tensors, ModelDimensions dims, List<string> warnings)
    {
        var errors = new List<string>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            if (!tensors.TryGetValue(name, out var entry))
            {
                errors.Add($"required tensor \"{name}\" is missing");
                continue;
            }
            var found = entry.Dims;
            var isVocabTable = name is TensorNames.Embedding or TensorNames.OutputHead;
            if (isVocabTable && found.Length == 2 && found[1] == shape[1] && found[0] > shape[0])
                warnings.Add($"tensor \"{name}\" has {found[0]} rows for a vocabulary of {shape[0]}; rows from {shape[0]} on are ignored");
            else if (!found.SequenceEqual(shape))
                errors.Add($"tensor \"{name}\" has shape [{string.Join(", ", found)}], expected [{string.Join(", ", shape)}]");
        }
        foreach (var name in KnownTaskHeads)
            if (tensors.TryGetValue(name, out var head) && (head.Rank != 2 || head.Shape[1] != dims.HiddenSize))
                errors.Add($"task head \"{name}\" has shape [{string.Join(", ", head.Dims)}], expected [classes, {dims.HiddenSize}]");
        if (errors.Count > 0) throw new BulletFormatException(string.Join("; ", errors));
    }
}
