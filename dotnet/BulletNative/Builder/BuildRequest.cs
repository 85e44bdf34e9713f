using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Builder;

/// <summary>
/// Resolves what build_bullet was asked for — a folder with config.json, tokenizer.json and weights, each part
/// overridable by an option — into a vocabulary, dimensions and tensors, and builds the file.
/// </summary>
public static class BuildRequest
{
    /// <summary>Option names build_bullet understands; anything else is an error, so a typo is not silently ignored.</summary>
    private static readonly HashSet<string> s_options =
        ["config", "tokenizer", "vocab_txt", "merges_txt", "weights", "random_weights", "seed", "model_name"];

    /// <summary>Builds <paramref name="outPath"/> and returns the build report.</summary>
    public static JsonObject Run(string? folder, string outPath, JsonObject options)
    {
        foreach (var (key, _) in options)
            if (!s_options.Contains(key))
                throw new BulletArgumentException($"unknown build option \"{key}\" (known: {string.Join(", ", s_options.Order())})");
        if (folder != null && !Directory.Exists(folder)) throw new DirectoryNotFoundException($"no such folder: {folder}");

        var config = LoadConfig(folder, options);
        var tokenizer = LoadTokenizer(folder, options);
        var vocabSize = OptionalInt(config, "vocab_size") ?? tokenizer.VocabSize;
        if (vocabSize != tokenizer.VocabSize)
            throw new BulletArgumentException($"config.json says vocab_size {vocabSize} but the tokenizer has {tokenizer.VocabSize} tokens");
        var dims = new ModelDimensions(
            RequireInt(config, "hidden_size"), RequireInt(config, "num_layers"), RequireInt(config, "num_heads"),
            vocabSize, RequireInt(config, "max_context"));
        dims.Validate();
        var modelName = String(options, "model_name") ?? String(config, "model_name") ?? "bullet-model";

        var random = options["random_weights"]?.GetValue<bool>() ?? false;
        Dictionary<string, TensorData> weights;
        if (random)
            weights = RandomWeights.Create(dims, OptionalInt(options, "seed") ?? 1).ToDictionary(t => t.Name);
        else
            weights = WeightsSource.Load(String(options, "weights") ?? folder
                ?? throw new BulletArgumentException("no weights: give a folder, the \"weights\" option, or \"random_weights\": true"));

        var vocabulary = new BulletVocabulary(tokenizer.Tokens, tokenizer.Scores, tokenizer.Merges);
        var extra = new JsonObject { ["builder"] = new JsonObject { ["by"] = "bullet_native " + LibraryInfo.Version, ["random_test_weights"] = random } };
        var report = ModelBuilder.Build(modelName, dims, vocabulary, weights, outPath, extra);
        if (random) report["warnings"]!.AsArray().Add((JsonNode)"random test weights: the model is correctly shaped but untrained");
        return report;
    }

    private static JsonObject LoadConfig(string? folder, JsonObject options)
    {
        switch (options["config"])
        {
            case JsonObject inline:
                return inline;
            case JsonValue value when value.TryGetValue<string>(out var path):
                return ReadJsonObject(path);
            case null when folder != null:
                return ReadJsonObject(Path.Combine(folder, "config.json"));
            default:
                throw new BulletArgumentException("no config: give a folder with config.json or the \"config\" option");
        }
    }

    private static BulletTokenizer LoadTokenizer(string? folder, JsonObject options)
    {
        var vocabTxt = String(options, "vocab_txt");
        if (vocabTxt != null)
        {
            var mergesTxt = String(options, "merges_txt");
            return TokenizerTextFiles.Read(File.ReadAllBytes(vocabTxt), mergesTxt == null ? [] : File.ReadAllBytes(mergesTxt));
        }
        var path = String(options, "tokenizer") ?? (folder != null ? Path.Combine(folder, "tokenizer.json") : null)
            ?? throw new BulletArgumentException("no tokenizer: give a folder with tokenizer.json, or the \"tokenizer\" or \"vocab_txt\" option");
        return TokenizerFiles.Load(path);
    }

    private static JsonObject ReadJsonObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject
                ?? throw new BulletFormatException($"{Path.GetFileName(path)} is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new BulletFormatException($"{Path.GetFileName(path)} is not valid JSON: {e.Message}");
        }
    }

    private static string? String(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int? OptionalInt(JsonObject obj, string key)
    {
        if (obj[key] is null) return null;
        if (obj[key] is JsonValue v && v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i)) return i;
        if (obj[key] is JsonValue w && w.TryGetValue<int>(out var j)) return j;
        throw new BulletArgumentException($"\"{key}\" must be an integer");
    }

    private static int RequireInt(JsonObject obj, string key) =>
        OptionalInt(obj, key) ?? throw new BulletArgumentException($"config.json has no \"{key}\"");
}
