using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Builder;

/// <summary>
/// The builder's inverse: a .bullet file back into the folder bullet_build packs — model.safetensors (every tensor
/// dequantized to F32 under its tensor name), config.json and tokenizer.json — so a model can continue training
/// elsewhere (PyTorch) and be packed again.
/// </summary>
public static class BulletUnpacker
{
    /// <summary>File names inside an unpacked folder (the names bullet_build looks for).</summary>
    public const string WeightsFile = "model.safetensors", ConfigFile = "config.json", TokenizerFile = "tokenizer.json";

    /// <summary>
    /// Marks a folder as ours to replace. A builder input folder holds the same three files as an unpack, so the
    /// file names alone cannot tell a user's float weights from an earlier unpack (bullet_native.torch.export writes it too).
    /// </summary>
    public const string MarkerFile = ".bullet-generated";

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes the folder <paramref name="outDir"/> from <paramref name="bulletPath"/>; the folder appears complete or not
    /// at all, and may replace only an empty folder or an earlier unpack. Returns a report of what was written.
    /// </summary>
    public static JsonObject Unpack(string bulletPath, string outDir)
    {
        var file = BulletReader.ReadFile(bulletPath);
        var dims = file.Dimensions;
        var warnings = new List<string>(file.Warnings);
        CheckTarget(outDir);

        var tensors = new List<TensorData>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            var values = file.Dequantize(name);
            var count = shape.Aggregate(1, (a, b) => a * b);
            // Reference files may carry more embedding rows than the vocabulary; only the first vocab_size rows are the model.
            tensors.Add(new TensorData(name, shape, values.Length == count ? values : values[..count]));
        }
        foreach (var name in BulletReader.KnownTaskHeads)
            if (file.Tensors.TryGetValue(name, out var head))
                tensors.Add(new TensorData(name, head.Dims, file.Dequantize(name)));

        var tokenizer = BulletTokenizer.FromVocabulary(file.Vocabulary);
        var tokenizerJson = TokenizerJson.Write(tokenizer);
        if (!tokenizer.Scores.SequenceEqual(BulletTokenizer.DefaultScores(tokenizer.Tokens, tokenizer.Merges)))
            warnings.Add("the file's token scores are not the default ones; tokenizer.json does not store scores, so a rebuilt file gets the defaults (encoding is unchanged: it follows the merges)");

        // A tied head is stored twice with identical bytes; saying so lets a trainer tie them again.
        var tied = file.TensorData(TensorNames.Embedding).Span.SequenceEqual(file.TensorData(TensorNames.OutputHead).Span);
        var config = new JsonObject
        {
            ["model_name"] = file.Header.ModelName,
            ["hidden_size"] = dims.HiddenSize,
            ["num_layers"] = dims.NumLayers,
            ["num_heads"] = dims.NumHeads,
            ["vocab_size"] = dims.VocabSize,
            ["max_context"] = dims.MaxContext,
            ["tied_head"] = tied,
            ["tokenizer_kind"] = tokenizer.Mode == TokenizerMode.Bpe ? "bpe" : "char",
        };

        var full = AtomicFolder.Write(outDir, temp =>
        {
            Safetensors.WriteFile(Path.Combine(temp, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            File.WriteAllText(Path.Combine(temp, ConfigFile), config.ToJsonString(s_indented));
            File.WriteAllBytes(Path.Combine(temp, TokenizerFile), tokenizerJson);
            File.WriteAllText(Path.Combine(temp, MarkerFile), $"Unpacked from {Path.GetFullPath(bulletPath)}; the next unpack into this folder replaces it.\n");
        });

        return new JsonObject
        {
            ["folder"] = full,
            ["weights"] = Path.Combine(full, WeightsFile),
            ["config"] = Path.Combine(full, ConfigFile),
            ["tokenizer"] = Path.Combine(full, TokenizerFile),
            ["tensor_count"] = tensors.Count,
            ["tied_head"] = tied,
            ["model"] = config.DeepClone(),
            ["warnings"] = new JsonArray(warnings.Select(w => (JsonNode)w).ToArray()),
        };
    }

    /// <summary>
    /// Refuses to replace a folder unless it is empty or an earlier unpack (marked, holding nothing else), so a slip
    /// cannot wipe a user's files: a builder input folder has the same three files but no marker.
    /// </summary>
    private static void CheckTarget(string outDir)
    {
        var full = AtomicFolder.Normalize(outDir);
        if (File.Exists(full)) throw new BulletArgumentException($"{outDir} is a file; give a folder to unpack into");
        if (!Directory.Exists(full)) return;
        var entries = Directory.EnumerateFileSystemEntries(full).Select(e => Path.GetFileName(e)!).ToList();
        if (entries.Count == 0) return;
        var ours = new HashSet<string> { WeightsFile, ConfigFile, TokenizerFile, MarkerFile };
        var foreign = entries.FirstOrDefault(e => !ours.Contains(e));
        if (foreign != null)
            throw new BulletArgumentException($"{outDir} already holds \"{foreign}\"; unpack into a new or empty folder");
        if (!entries.Contains(MarkerFile))
            throw new BulletArgumentException($"{outDir} already holds \"{entries[0]}\" and was not written by an unpack; unpack into a new or empty folder");
    }
}
