using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Model;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>What to put in an exported file besides the weights.</summary>
public sealed record ExportOptions(string ModelName = "bullet-model", string ModelCard = "", int VerifyWindows = 64);

/// <summary>
/// Writes a trained model as a BQ4 .bullet file and verifies it: the file is read back with the format reader,
/// its dequantized tensors are loaded into a second model, and both run on held-out windows. The result (val
/// perplexity of both, their ratio, top-1 next-token agreement) goes into the export result and the header.
/// </summary>
public static class ModelExporter
{
    /// <summary>Quantizes, writes <paramref name="path"/> atomically, verifies; returns the verification numbers and the path.</summary>
    public static JsonObject ExportBullet(Trainer trainer, string path, ExportOptions options)
    {
        var weights = trainer.ExportWeights();
        var vocabulary = trainer.Data.Codec.ToVocabulary();
        var config = trainer.Model.Config;
        var dims = new ModelDimensions(config.HiddenSize, config.NumLayers, config.NumHeads, config.VocabSize, config.MaxContext);
        var tensors = weights.Select(w => new TensorData(w.Name, w.Shape.Select(s => (int)s).ToArray(), w.Data)).ToList();

        // Quantization is deterministic, so the file written with the metrics holds exactly the tensors verified here.
        var draft = BulletWriter.ToBytes(new BulletModelContent(options.ModelName, dims, vocabulary, tensors, Header(trainer, options, null)));
        var verification = Verify(trainer, BulletReader.Read(draft), options.VerifyWindows);
        var content = new BulletModelContent(options.ModelName, dims, vocabulary, tensors, Header(trainer, options, verification));
        BulletWriter.Write(path, content);

        var result = verification.DeepClone().AsObject();
        result["path"] = Path.GetFullPath(path);
        result["bytes"] = new FileInfo(path).Length;
        result["step"] = trainer.Step;
        return result;
    }

    /// <summary>
    /// The float model (EMA weights when enabled) as model.safetensors + config.json (+ tokenizer.json for the product
    /// tokenizer) in <paramref name="folder"/>: the folder layout bullet_build packs into the same .bullet.
    /// </summary>
    public static JsonObject ExportFloat(Trainer trainer, string folder, string modelName = "bullet-model")
    {
        Directory.CreateDirectory(folder);
        var weights = trainer.ExportWeights().Select(w => new TensorData(w.Name, w.Shape.Select(s => (int)s).ToArray(), w.Data));
        var weightsPath = Path.Combine(folder, "model.safetensors");
        Safetensors.WriteFile(weightsPath, weights, new Dictionary<string, string> { ["format"] = "pt" });
        var model = trainer.Model.Config;
        var config = new JsonObject
        {
            ["model_name"] = modelName, ["hidden_size"] = model.HiddenSize, ["num_layers"] = model.NumLayers,
            ["num_heads"] = model.NumHeads, ["vocab_size"] = model.VocabSize, ["max_context"] = model.MaxContext,
            ["tied_head"] = model.TiedHead, ["tokenizer_kind"] = trainer.Data.Codec.Kind,
        };
        var configPath = Path.Combine(folder, "config.json");
        AtomicFile.WriteAllText(configPath, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var result = new JsonObject { ["folder"] = Path.GetFullPath(folder), ["weights"] = weightsPath, ["config"] = configPath };
        if (trainer.Data.Codec is TokenizerCodec codec)
        {
            var tokenizerPath = Path.Combine(folder, "tokenizer.json");
            codec.Tokenizer.Save(tokenizerPath);
            result["tokenizer"] = tokenizerPath;
        }
        return result;
    }

    /// <summary>
    /// Runs the float model and the file's dequantized weights on up to <paramref name="maxWindows"/> consecutive
    /// held-out windows (the validation part, else the end of the training part).
    /// </summary>
    public static JsonObject Verify(Trainer trainer, BulletFile file, int maxWindows)
    {
        var config = trainer.Model.Config;
        using var loaded = new BulletTransformer(config with { TiedHead = false, Dropout = 0 });
        var values = loaded.NamedWeights.ToDictionary(w => w.Name, w => file.Dequantize(w.Name));
        using (no_grad())
            foreach (var (name, weight) in loaded.NamedWeights) Checkpoint.CopyInto(weight, values, name);
        loaded.eval();

        var heldOut = trainer.Data.Val.Length > config.MaxContext;
        var tokens = heldOut ? trainer.Data.Val : trainer.Data.Train;
        var t = config.MaxContext;
        var windows = Math.Max(1, Math.Min(maxWindows, (tokens.Length - 1) / t));
        const int batch = 32;
        double floatLoss = 0, fileLoss = 0, agree = 0;
        long chars = 0, bytes = 0;
        trainer.WithEvalWeights(() =>
        {
            for (var first = 0; first < windows; first += batch)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(batch, windows - first);
                var inputs = new long[count * t];
                var targets = new long[count * t];
                for (var w = 0; w < count; w++)
                {
                    var start = tokens.Length - 1 - (first + w + 1) * t; // consecutive windows back from the end
                    for (var i = 0; i < t; i++) (inputs[w * t + i], targets[w * t + i]) = (tokens[start + i], tokens[start + i + 1]);
                }
                var (c, b) = trainer.Data.Lengths.Count(targets);
                (chars, bytes) = (chars + c, bytes + b);
                using var x = tensor(inputs, [count, t]);
                using var y = tensor(targets, [count * t]);
                var floatLogits = trainer.Model.forward(x).view(count * t, -1);
                var fileLogits = loaded.forward(x).view(count * t, -1);
                // Sums, so the last short batch weighs by its size.
                floatLoss += nn.functional.cross_entropy(floatLogits, y, reduction: nn.Reduction.Sum).item<float>();
                fileLoss += nn.functional.cross_entropy(fileLogits, y, reduction: nn.Reduction.Sum).item<float>();
                agree += floatLogits.argmax(-1).eq(fileLogits.argmax(-1)).sum().item<long>();
            }
            return 0;
        });
        var tokenCount = windows * t;
        var floatText = new TextLoss(floatLoss, tokenCount, chars, bytes);
        var fileText = new TextLoss(fileLoss, tokenCount, chars, bytes);
        (floatLoss, fileLoss, agree) = (floatLoss / tokenCount, fileLoss / tokenCount, agree / tokenCount);
        return new JsonObject
        {
            ["verify_tokens"] = tokenCount,
            ["verify_chars"] = chars,
            // A text too short for a validation part is verified on what it trained on: its losses then say how
            // well the model learned the text, not how well it generalizes.
            ["verified_on"] = heldOut ? "validation" : "training",
            ["float_val_loss"] = Math.Round(floatLoss, 5),
            ["bq4_val_loss"] = Math.Round(fileLoss, 5),
            ["float_perplexity"] = Math.Round(Math.Exp(floatLoss), 4),
            ["bq4_perplexity"] = Math.Round(Math.Exp(fileLoss), 4),
            ["perplexity_ratio"] = Math.Round(Math.Exp(fileLoss - floatLoss), 5),
            ["float_bpc"] = Math.Round(floatText.BitsPerChar, 5),
            ["bq4_bpc"] = Math.Round(fileText.BitsPerChar, 5),
            ["float_bpb"] = Math.Round(floatText.BitsPerByte, 5),
            ["bq4_bpb"] = Math.Round(fileText.BitsPerByte, 5),
            ["top1_agreement"] = Math.Round(agree, 5),
        };
    }

    /// <summary>Our header keys, after the required ones; none contains a reserved name (model shape is in the required keys).</summary>
    private static JsonObject Header(Trainer trainer, ExportOptions options, JsonObject? verification)
    {
        var recipe = trainer.Config.ToJson();
        foreach (var shapeKey in new[] { "vocab_size", "hidden_size", "num_layers", "num_heads" }) recipe.Remove(shapeKey);
        var metrics = new JsonObject
        {
            ["steps"] = trainer.Step,
            ["best_val_loss"] = double.IsFinite(trainer.BestValLoss) ? Math.Round(trainer.BestValLoss, 5) : null,
        };
        if (verification != null) foreach (var (k, v) in verification) metrics[k] = v?.DeepClone();
        return new JsonObject
        {
            ["tokenizer_kind"] = trainer.Data.Codec.Kind,
            ["created_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["trainer"] = $"bullet_native {LibraryInfo.Version}",
            ["training_recipe"] = recipe,
            ["training_metrics"] = metrics,
            ["model_card"] = options.ModelCard,
        };
    }
}
