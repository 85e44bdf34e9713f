using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Builder;

/// <summary>
/// Resolves what bullet_build was asked for — a folder with config.json, tokenizer.json and weights, each part
/// overridable by an option — into a vocabulary, dimensions and tensors, and builds the file.
/// </summary>
public static class BuildRequest
{
    /// <summary>Option names bullet_build understands; anything else is an error, so a typo is not silently ignored.</summary>
    private static readonly string[] s_options =
        ["config", "merges_txt", "model_name", "random_weights", "seed", "tokenizer", "vocab_txt", "weights"];

    /// <summary>The model's config.json (or the inline "config" option), named so in messages.</summary>
    private static readonly JsonFields s_config = JsonFields.Of("config.json");

    /// <summary>Builds <paramref name="outPath"/> and returns the build report.</summary>
    public static JsonObject Run(string? folder, string outPath, JsonObject options)
    {
        var read = JsonFields.Options;
        read.RejectUnknown(options, "build option", s_options);
        if (folder != null && !Directory.Exists(folder)) throw new DirectoryNotFoundException($"no such folder: {folder}");

        var config = LoadConfig(folder, options);
        var tokenizer = LoadTokenizer(folder, options);
        var vocabSize = s_config.OptionalInt(config, "vocab_size") ?? tokenizer.VocabSize;
        if (vocabSize != tokenizer.VocabSize)
            throw new BulletArgumentException($"config.json says vocab_size {vocabSize} but the tokenizer has {tokenizer.VocabSize} tokens");
        var dims = new ModelDimensions(
            s_config.RequiredInt(config, "hidden_size"), s_config.RequiredInt(config, "num_layers"), s_config.RequiredInt(config, "num_heads"),
            vocabSize, s_config.RequiredInt(config, "max_context"));
        dims.Validate();
        var modelName = read.OptionalString(options, "model_name") ?? s_config.OptionalString(config, "model_name") ?? "bullet-model";

        var random = read.OptionalBool(options, "random_weights") ?? false;
        Dictionary<string, TensorData> weights;
        if (random)
            weights = RandomWeights.Create(dims, read.OptionalInt(options, "seed") ?? 1).ToDictionary(t => t.Name);
        else
            weights = WeightsSource.Load(read.OptionalString(options, "weights") ?? folder
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
        var read = JsonFields.Options;
        var vocabTxt = read.OptionalString(options, "vocab_txt");
        if (vocabTxt != null)
        {
            var mergesTxt = read.OptionalString(options, "merges_txt");
            return TokenizerTextFiles.Read(File.ReadAllBytes(vocabTxt), mergesTxt == null ? [] : File.ReadAllBytes(mergesTxt));
        }
        var path = read.OptionalString(options, "tokenizer") ?? (folder != null ? Path.Combine(folder, "tokenizer.json") : null)
            ?? throw new BulletArgumentException("no tokenizer: give a folder with tokenizer.json, or the \"tokenizer\" or \"vocab_txt\" option");
        return TokenizerFiles.Load(path);
    }

    private static JsonObject ReadJsonObject(string path) => JsonFields.OfFile(Path.GetFileName(path)).ReadObject(path);
}
