using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>
/// The JSON header of a .bullet file (docs/format.md, Header): the required keys, written first and in the
/// "key": value form the reference runtime's text search expects, then our own keys under other names.
/// </summary>
public sealed record BulletHeader(
    string ModelName,
    ModelDimensions Dimensions,
    long TokenizerStart,
    long WeightsStart,
    JsonObject? Extra = null)
{
    /// <summary>The leaf key names a reference runtime searches for; no other key may contain them.</summary>
    public static readonly string[] ReservedKeys =
    [
        "bullet_version", "model_name", "architecture", "hidden_size", "num_layers", "num_heads",
        "type", "vocab_size", "max_context", "tokenizer_start", "weights_start",
    ];

    /// <summary>The header text without its NUL terminator.</summary>
    public string ToText()
    {
        var d = Dimensions;
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append("  \"bullet_version\": \"").Append(BulletLayout.FormatVersion).Append("\",\n");
        sb.Append("  \"model_name\": ").Append(JsonValue.Create(ModelName)!.ToJsonString()).Append(",\n");
        sb.Append("  \"architecture\": \"").Append(BulletLayout.Architecture).Append("\",\n");
        sb.Append("  \"dimensions\": {\n");
        sb.Append("    \"hidden_size\": ").Append(Num(d.HiddenSize)).Append(",\n");
        sb.Append("    \"num_layers\": ").Append(Num(d.NumLayers)).Append(",\n");
        sb.Append("    \"num_heads\": ").Append(Num(d.NumHeads)).Append('\n');
        sb.Append("  },\n");
        sb.Append("  \"quantization\": {\n    \"type\": \"").Append(BulletLayout.QuantizationName).Append("\"\n  },\n");
        sb.Append("  \"vocab_size\": ").Append(Num(d.VocabSize)).Append(",\n");
        sb.Append("  \"max_context\": ").Append(Num(d.MaxContext)).Append(",\n");
        sb.Append("  \"file_offsets\": {\n");
        sb.Append("    \"tokenizer_start\": ").Append(Num(TokenizerStart)).Append(",\n");
        sb.Append("    \"weights_start\": ").Append(Num(WeightsStart)).Append('\n');
        sb.Append("  }");
        if (Extra is { Count: > 0 })
        {
            CheckExtraKeys(Extra);
            foreach (var (key, value) in Extra)
            {
                sb.Append(",\n  ").Append(JsonValue.Create(key)!.ToJsonString()).Append(": ");
                sb.Append(value is null ? "null" : value.ToJsonString());
            }
        }
        sb.Append("\n}");
        return sb.ToString();
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Rejects extra keys (at any depth) whose names contain a reserved key name.</summary>
    private static void CheckExtraKeys(JsonNode? node, string path = "")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    foreach (var reserved in ReservedKeys)
                        if (key.Contains(reserved, StringComparison.Ordinal))
                            throw new BulletArgumentException(
                                $"header key \"{path}{key}\" contains the reserved name \"{reserved}\"; reference readers would misread it");
                    CheckExtraKeys(value, $"{path}{key}.");
                }
                break;
            case JsonArray array:
                foreach (var item in array) CheckExtraKeys(item, path);
                break;
        }
    }

    /// <summary>
    /// Parses header text; throws BulletFormatException for a missing or ill-typed required key and adds a
    /// warning where a reference runtime's text search would read a different value than the JSON says.
    /// </summary>
    public static BulletHeader Parse(string text, List<string> warnings)
    {
        var read = JsonFields.OfFile("the header");
        var root = read.ParseObject(text);
        var version = read.RequiredString(root, "bullet_version");
        if (version != BulletLayout.FormatVersion)
            warnings.Add($"bullet_version is \"{version}\"; this reader knows \"{BulletLayout.FormatVersion}\"");
        var architecture = read.RequiredString(root, "architecture");
        if (architecture != BulletLayout.Architecture)
            warnings.Add($"architecture is \"{architecture}\", expected \"{BulletLayout.Architecture}\"");
        var quantType = read.Nested("quantization").RequiredString(read.RequiredObject(root, "quantization"), "type");
        if (quantType != BulletLayout.QuantizationName)
            throw new BulletFormatException($"quantization.type is \"{quantType}\"; only \"BQ4\" is supported");
        var dims = read.RequiredObject(root, "dimensions");
        var offsets = read.RequiredObject(root, "file_offsets");
        var inDims = read.Nested("dimensions");
        var inOffsets = read.Nested("file_offsets");
        var dimensions = new ModelDimensions(
            inDims.RequiredInt(dims, "hidden_size"),
            inDims.RequiredInt(dims, "num_layers"),
            inDims.RequiredInt(dims, "num_heads"),
            read.RequiredInt(root, "vocab_size"),
            read.RequiredInt(root, "max_context"));
        var header = new BulletHeader(
            root["model_name"] is JsonValue nameValue && nameValue.TryGetValue<string>(out var name) ? name : "",
            dimensions,
            inOffsets.RequiredInt(offsets, "tokenizer_start"),
            inOffsets.RequiredInt(offsets, "weights_start"),
            ExtraKeys(root));
        CheckTextSearch(text, header, warnings);
        return header;
    }

    private static readonly HashSet<string> s_requiredTopLevel =
        ["bullet_version", "model_name", "architecture", "dimensions", "quantization", "vocab_size", "max_context", "file_offsets"];

    private static JsonObject ExtraKeys(JsonObject root)
    {
        var extra = new JsonObject();
        foreach (var (key, value) in root)
            if (!s_requiredTopLevel.Contains(key)) extra[key] = value?.DeepClone();
        return extra;
    }

    /// <summary>The reference runtime reads the number after the first `"key":`; flag headers where that differs.</summary>
    private static void CheckTextSearch(string text, BulletHeader header, List<string> warnings)
    {
        var expected = new (string Key, long Value)[]
        {
            ("hidden_size", header.Dimensions.HiddenSize), ("num_layers", header.Dimensions.NumLayers),
            ("num_heads", header.Dimensions.NumHeads), ("vocab_size", header.Dimensions.VocabSize),
            ("max_context", header.Dimensions.MaxContext), ("tokenizer_start", header.TokenizerStart),
            ("weights_start", header.WeightsStart),
        };
        foreach (var (key, value) in expected)
        {
            var found = TextSearchNumber(text, key);
            if (found != value)
                warnings.Add($"a reference runtime searching the header text for \"{key}\": would read {found?.ToString(CultureInfo.InvariantCulture) ?? "nothing"}, not {value}");
        }
    }

    /// <summary>The number after the first `"key":` (then optional whitespace), as the reference runtime reads it.</summary>
    public static long? TextSearchNumber(string text, string key)
    {
        var at = text.IndexOf($"\"{key}\":", StringComparison.Ordinal);
        if (at < 0) return null;
        var i = at + key.Length + 3;
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        var start = i;
        if (i < text.Length && text[i] == '-') i++;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        return long.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
    }
}
