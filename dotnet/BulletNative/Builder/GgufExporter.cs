using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Runtime;
using BulletNative.Tokenizer;
using BulletNative.Training;

namespace BulletNative.Builder;

/// <summary>A model ready for GGUF: dimensions, vocabulary, float weights by .bullet tensor name, and what they came from.</summary>
public sealed record GgufSource(string Kind, string Fidelity, string ModelName, ModelDimensions Dims, BulletVocabulary Vocabulary,
    IReadOnlyDictionary<string, float[]> Weights);

/// <summary>
/// Exports a model as a GGUF v3 file of llama.cpp's <c>llama</c> architecture. docs/format.md's forward math is that architecture exactly
/// (adjacent-pair RoPE, which is llama.cpp's "normal" rope of the llama arch, so no Q/K row permutation), so only
/// names, dims order (innermost first) and the tokenizer's alphabet change. Norms are always F32.
/// </summary>
public static class GgufExporter
{
    private static readonly string[] s_options = ["check_prompt", "check_tokens", "model_name", "type"];

    /// <summary>A float model folder's config.json, named so in messages.</summary>
    private static readonly JsonFields s_config = JsonFields.Of("config.json");

    /// <summary>
    /// Exports from a source path (.bullet file, .safetensors file, or a folder with config.json + tokenizer.json
    /// and weights) or from a training session; options: type (f32, f16, q8_0, q4_0; default q4_0), model_name,
    /// check_prompt (token ids) and check_tokens (default 30) to report our float forward pass's greedy continuation.
    /// </summary>
    public static JsonObject Run(string? sourcePath, TrainingSession? session, string outPath, JsonObject options)
    {
        JsonFields.Options.RejectUnknown(options, "GGUF export option", s_options);
        if ((sourcePath == null) == (session == null)) throw new BulletArgumentException("give exactly one of a source path and a training session");
        var source = session != null ? FromSession(session) : FromPath(sourcePath!);
        return Export(source, outPath, options);
    }

    /// <summary>A session's float weights (the EMA when enabled): exactly what it trained.</summary>
    public static GgufSource FromSession(TrainingSession session) => session.Invoke(trainer =>
    {
        var config = trainer.Model.Config;
        var dims = new ModelDimensions(config.HiddenSize, config.NumLayers, config.NumHeads, config.VocabSize, config.MaxContext);
        var weights = trainer.ExportWeights().ToDictionary(w => w.Name, w => w.Data);
        return new GgufSource("session", "exact: the session's float weights", "bullet-model", dims, trainer.Data.Codec.ToVocabulary(), weights);
    });

    /// <summary>A .bullet file (dequantized), or float weights with the builder's config.json and tokenizer.json.</summary>
    public static GgufSource FromPath(string path)
    {
        if (File.Exists(path) && path.EndsWith(".bullet", StringComparison.OrdinalIgnoreCase))
        {
            var file = BulletReader.ReadFile(path);
            var dims = file.Dimensions;
            var weights = new Dictionary<string, float[]>();
            foreach (var (name, shape) in dims.RequiredTensors())
            {
                var size = shape.Aggregate(1, (a, b) => a * b);
                var stored = name == TensorNames.OutputHead && file.Tensors.ContainsKey(TensorNames.GenerationHead) ? TensorNames.GenerationHead : name;
                var values = file.Dequantize(stored);
                if (values.Length < size) throw new BulletFormatException($"tensor \"{stored}\" holds {values.Length} values, fewer than [{string.Join(", ", shape)}]");
                weights[name] = values.Length == size ? values : values[..size];
            }
            return new GgufSource("bullet", "BQ4-dequantized: the .bullet's 4-bit weights, not the original floats", file.Header.ModelName,
                dims, file.Vocabulary, weights);
        }
        var folder = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no such folder or file: {path}");
        var config = ReadConfig(Path.Combine(folder, "config.json"));
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) throw new BulletArgumentException($"{folder} has no tokenizer.json");
        var tokenizer = TokenizerFiles.Load(tokenizerPath);
        var floatDims = new ModelDimensions(s_config.RequiredInt(config, "hidden_size"), s_config.RequiredInt(config, "num_layers"),
            s_config.RequiredInt(config, "num_heads"), tokenizer.VocabSize, s_config.RequiredInt(config, "max_context"));
        if (s_config.OptionalInt(config, "vocab_size") is { } vocabSize && vocabSize != tokenizer.VocabSize)
            throw new BulletArgumentException($"config.json says vocab_size {vocabSize} but the tokenizer has {tokenizer.VocabSize} tokens");
        var loaded = WeightsSource.Load(path);
        var floats = new Dictionary<string, float[]>();
        foreach (var (name, shape) in floatDims.RequiredTensors())
        {
            var stored = name == TensorNames.OutputHead && loaded.ContainsKey(TensorNames.GenerationHead) ? TensorNames.GenerationHead : name;
            if (!loaded.TryGetValue(stored, out var t)) throw new BulletArgumentException($"missing tensor \"{stored}\" (expected shape [{string.Join(", ", shape)}])");
            if (!t.Shape.SequenceEqual(shape))
                throw new BulletArgumentException($"tensor \"{stored}\": expected shape [{string.Join(", ", shape)}], found [{string.Join(", ", t.Shape)}]");
            floats[name] = t.Values.ToArray();
        }
        var modelName = s_config.OptionalString(config, "model_name") ?? Path.GetFileName(Path.GetFullPath(folder));
        return new GgufSource("float", "exact: the folder's float weights", modelName, floatDims, tokenizer.ToVocabulary(), floats);
    }

    /// <summary>Writes <paramref name="outPath"/> atomically and returns what was written (and the check, if asked).</summary>
    public static JsonObject Export(GgufSource source, string outPath, JsonObject options)
    {
        source.Dims.Validate();
        var read = JsonFields.Options;
        var type = GgufTypes.Parse(read.OptionalString(options, "type") ?? "q4_0");
        var modelName = read.OptionalString(options, "model_name") ?? source.ModelName;
        foreach (var (name, values) in source.Weights)
            for (var i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i])) throw new BulletArgumentException($"tensor \"{name}\" holds {values[i]} at index {i}; weights must be finite");

        var writer = new GgufWriter();
        AddMetadata(writer, source, modelName, type);
        var types = new Dictionary<string, GgufTensorType>();
        foreach (var (name, shape) in source.Dims.RequiredTensors())
        {
            var tensorType = shape.Length == 1 ? GgufTensorType.F32 : type.Type;
            types[name] = tensorType;
            writer.AddTensor(GgufName(name), shape.Reverse().Select(s => (long)s).ToArray(), tensorType, source.Weights[name]);
        }
        var layout = writer.WriteFile(outPath);

        var result = new JsonObject
        {
            ["path"] = Path.GetFullPath(outPath),
            ["bytes"] = layout.FileBytes,
            ["type"] = type.Name,
            ["source"] = source.Kind,
            ["fidelity"] = source.Fidelity,
            ["tensor_count"] = layout.Tensors.Count,
            ["metadata_keys"] = new JsonArray(writer.Keys.Select(k => (JsonNode)k).ToArray()),
            ["data_start"] = layout.DataStart,
            ["alignment"] = GgufWriter.Alignment,
            ["bos_token_id"] = SpecialId(source.Vocabulary),
            ["eos_token_id"] = SpecialId(source.Vocabulary),
        };
        if (options["check_prompt"] is { } prompt)
        {
            var ids = read.List(prompt, "check_prompt", read.Int).ToArray();
            var count = read.OptionalInt(options, "check_tokens") ?? 30;
            if (count < 1) throw new BulletArgumentException($"check_tokens {count} must be at least 1");
            var floatIds = new FloatForward(source.Dims, source.Weights).Greedy(ids, count);
            var stored = new Dictionary<string, float[]>();
            foreach (var (name, values) in source.Weights)
            {
                var info = GgufTypes.Info(types[name]);
                var bytes = new byte[info.BytesFor(values.Length)];
                GgufTypes.Encode(info.Type, values, bytes);
                var back = new float[values.Length];
                GgufTypes.Decode(info.Type, bytes, back);
                stored[name] = back;
            }
            var storedIds = new FloatForward(source.Dims, stored).Greedy(ids, count);
            result["check"] = new JsonObject
            {
                ["prompt"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
                ["float_greedy"] = new JsonArray(floatIds.Select(i => (JsonNode)i).ToArray()),
                ["stored_weights_greedy"] = new JsonArray(storedIds.Select(i => (JsonNode)i).ToArray()),
            };
        }
        return result;
    }

    /// <summary>The llama.cpp name of a .bullet tensor.</summary>
    public static string GgufName(string name)
    {
        if (name == TensorNames.Embedding) return "token_embd.weight";
        if (name == TensorNames.FinalNorm) return "output_norm.weight";
        if (name == TensorNames.OutputHead) return "output.weight";
        var parts = name.Split('.');
        if (parts.Length >= 4 && parts[0] == "layers" && int.TryParse(parts[1], out var layer))
        {
            var role = string.Join('.', parts[2..^1]) switch
            {
                "norm.attn" => "attn_norm", "attention.query" => "attn_q", "attention.key" => "attn_k", "attention.value" => "attn_v",
                "attention.output" => "attn_output", "norm.ffn" => "ffn_norm", "ffn.w1" => "ffn_gate", "ffn.w3" => "ffn_up",
                "ffn.w2" => "ffn_down", _ => null,
            };
            if (role != null) return $"blk.{layer}.{role}.weight";
        }
        throw new BulletArgumentException($"tensor \"{name}\" has no llama.cpp name");
    }

    private static void AddMetadata(GgufWriter w, GgufSource source, string modelName, GgufTypeInfo type)
    {
        var dims = source.Dims;
        w.Add("general.architecture", "llama");
        w.Add("general.name", modelName);
        w.Add("general.file_type", type.FileType);
        w.Add("llama.vocab_size", (uint)dims.VocabSize);
        w.Add("llama.context_length", (uint)dims.MaxContext);
        w.Add("llama.embedding_length", (uint)dims.HiddenSize);
        w.Add("llama.block_count", (uint)dims.NumLayers);
        w.Add("llama.feed_forward_length", (uint)dims.FfnSize);
        w.Add("llama.attention.head_count", (uint)dims.NumHeads);
        w.Add("llama.attention.head_count_kv", (uint)dims.NumHeads);
        w.Add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add("llama.rope.freq_base", 10000f);
        w.Add("llama.rope.dimension_count", (uint)dims.HeadSize);

        var vocab = source.Vocabulary;
        var special = SpecialId(vocab);
        w.Add("tokenizer.ggml.model", "gpt2");
        w.Add("tokenizer.ggml.pre", "default");
        w.Add("tokenizer.ggml.tokens", vocab.Tokens.Select(t => GgufVocabulary.Encode(t)).ToArray());
        // 1 = normal, 3 = control (llama_token_type): the BOS/EOS token is control so llama.cpp never prints it as text.
        w.Add("tokenizer.ggml.token_type", Enumerable.Range(0, vocab.Count).Select(i => i == special ? 3 : 1).ToArray());
        w.Add("tokenizer.ggml.merges", vocab.Merges.Select(m => GgufVocabulary.Encode(m.A) + " " + GgufVocabulary.Encode(m.B)).ToArray());
        w.Add("tokenizer.ggml.bos_token_id", (uint)special);
        w.Add("tokenizer.ggml.eos_token_id", (uint)special);
        w.Add("tokenizer.ggml.add_bos_token", false);
        w.Add("tokenizer.ggml.add_eos_token", false);
    }

    /// <summary>Our models have no BOS/EOS; the unknown token (id 0 by convention) stands for both, never gpt2's default 11.</summary>
    private static int SpecialId(BulletVocabulary vocab)
    {
        for (var i = 0; i < vocab.Count; i++)
            if (vocab.Tokens[i].AsSpan().SequenceEqual("<unk>"u8)) return i;
        return 0;
    }

    private static JsonObject ReadConfig(string path)
    {
        if (!File.Exists(path)) throw new BulletArgumentException($"{Path.GetDirectoryName(path)} has no config.json");
        return JsonFields.OfFile("config.json").ReadObject(path);
    }
}
