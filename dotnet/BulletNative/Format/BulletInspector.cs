using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>Describes a validated .bullet file as JSON: header, tokenizer summary, tensor table and warnings.</summary>
public static class BulletInspector
{
    /// <summary>Validates the file at <paramref name="path"/> and describes it.</summary>
    public static JsonObject InspectFile(string path)
    {
        var report = Describe(BulletReader.ReadFile(path));
        report["path"] = Path.GetFullPath(path);
        return report;
    }

    /// <summary>The JSON description of a parsed file.</summary>
    public static JsonObject Describe(BulletFile file)
    {
        var h = file.Header;
        var d = h.Dimensions;
        var vocab = file.Vocabulary;
        var header = new JsonObject
        {
            ["bullet_version"] = BulletLayout.FormatVersion,
            ["model_name"] = h.ModelName,
            ["architecture"] = BulletLayout.Architecture,
            ["hidden_size"] = d.HiddenSize,
            ["num_layers"] = d.NumLayers,
            ["num_heads"] = d.NumHeads,
            ["quantization"] = BulletLayout.QuantizationName,
            ["vocab_size"] = d.VocabSize,
            ["max_context"] = d.MaxContext,
            ["tokenizer_start"] = h.TokenizerStart,
            ["weights_start"] = h.WeightsStart,
            ["extra"] = h.Extra?.DeepClone() ?? new JsonObject(),
        };
        var tokenizer = new JsonObject
        {
            ["vocab_size"] = vocab.Count,
            ["merges"] = vocab.Merges.Count,
            ["has_unk"] = vocab.Count > 0 && vocab.TokenText(0) == "<unk>",
            ["has_space"] = vocab.Tokens.Any(t => t is [(byte)' ']),
            ["first_tokens"] = new JsonArray(Enumerable.Range(0, Math.Min(20, vocab.Count)).Select(i => (JsonNode)vocab.TokenText(i)).ToArray()),
        };
        var tensors = new JsonArray();
        long parameters = 0;
        foreach (var e in file.Entries)
        {
            var used = e.Name != null && file.Tensors.TryGetValue(e.Name, out var chosen) && ReferenceEquals(chosen, e);
            if (used) parameters += e.ValueCount;
            tensors.Add((JsonNode)new JsonObject
            {
                ["name"] = e.Name,
                ["hash"] = $"0x{e.NameHash:x16}",
                ["shape"] = new JsonArray(e.Dims.Select(x => (JsonNode)x).ToArray()),
                ["quant_type"] = e.QuantType.ToString(),
                ["offset"] = e.DataOffset,
                ["bytes"] = e.DataBytes,
                ["used"] = used,
            });
        }
        return new JsonObject
        {
            ["file_size"] = file.Data.Length,
            ["header"] = header,
            ["tokenizer"] = tokenizer,
            ["tensor_count"] = file.Entries.Count,
            ["parameters"] = parameters,
            ["tensors"] = tensors,
            ["warnings"] = new JsonArray(file.Warnings.Select(w => (JsonNode)w).ToArray()),
        };
    }
}
