using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>The runtime's results as JSON for the C ABI (System.Text.Json.Nodes only: AOT-safe).</summary>
public static class RuntimeReports
{
    /// <summary>The file's description (as bullet_inspect gives it) plus what the runtime uses and warns about.</summary>
    public static JsonObject Info(BulletModel model)
    {
        var info = BulletInspector.Describe(model.File);
        info["warnings"] = Strings(model.Warnings);
        info["runtime"] = new JsonObject
        {
            ["head"] = model.HeadName,
            ["kernel"] = Kernels.Q4Q8.Best.ToString(),
            ["avx512_library"] = Kernels.Avx512Library.Status,
            ["weight_bytes_per_token"] = model.WeightBytesPerToken,
            ["tokenizer"] = model.Tokenizer.Mode == Tokenizer.TokenizerMode.Bpe ? "bpe" : "char",
        };
        return info;
    }

    /// <summary>Runs a generator to its end and summarizes it.</summary>
    public static JsonObject Generate(BulletModel model, string prompt, JsonObject options)
    {
        var generator = Generator.FromText(model, prompt, GenerationOptions.FromJson(options));
        generator.Complete();
        return Summary(generator.Sequence);
    }

    /// <summary>Text, tokens, speed and why it stopped (and why each token, when top_logprobs asked for it).</summary>
    public static JsonObject Summary(Sequence sequence)
    {
        var summary = new JsonObject
        {
            ["text"] = sequence.Text,
            ["tokens"] = Ints(sequence.Tokens),
            ["token_count"] = sequence.Tokens.Count,
            ["prompt_tokens"] = Ints(sequence.PromptTokens),
            ["prompt_tokens_dropped"] = sequence.PromptTokensDropped,
            ["stop_reason"] = sequence.StopReason,
            ["tokens_per_second"] = sequence.TokensPerSecond,
            ["time_to_first_token_ms"] = sequence.TimeToFirstTokenSeconds < 0 ? null : sequence.TimeToFirstTokenSeconds * 1000,
            ["seed"] = sequence.Seed,
            ["slides"] = sequence.Slides,
        };
        if (sequence.Error != null) summary["error"] = sequence.Error;
        if (sequence.Options.TopLogprobs > 0)
            summary["choices"] = new JsonArray(sequence.Choices.Select(c => (JsonNode)Choice(sequence.Model, c)).ToArray());
        return summary;
    }

    /// <summary>One streaming step; a finished generator gives {token: -1, text: "", done: true}.</summary>
    public static JsonObject Step(Generator generator) => Step(generator.Sequence, generator.Next());

    /// <summary>A step of <paramref name="sequence"/> as JSON {token, text, done, stop_reason, choice?}; null is the end.</summary>
    public static JsonObject Step(Sequence sequence, GeneratedToken? step)
    {
        var json = new JsonObject
        {
            ["token"] = step?.Id ?? -1,
            ["text"] = step?.Text ?? "",
            ["done"] = step?.Done ?? true,
            ["stop_reason"] = step is { Done: false } ? null : sequence.StopReason,
        };
        if (step is { Done: true } && sequence.Error != null) json["error"] = sequence.Error;
        if (step?.Choice is { } choice) json["choice"] = Choice(sequence.Model, choice);
        return json;
    }

    /// <summary>The next step of a batched request within <paramref name="wait"/>, or {waiting: true} when none came.</summary>
    public static JsonObject Step(GenerationRequest request, TimeSpan wait)
    {
        if (request.Finished) return Step(request.Sequence, null);
        return request.TakeStep(wait) is { } step ? Step(request.Sequence, step) : new JsonObject { ["waiting"] = true };
    }

    /// <summary>
    /// Why a token was chosen: {chosen: {id, text, p, p_sampled}, top: [{id, text, p, p_sampled}, ...]} with p the
    /// model's softmax probability and p_sampled the probability the sampler drew it with (docs/runtime.md).
    /// </summary>
    public static JsonObject Choice(BulletModel model, TokenChoice choice) => new()
    {
        ["chosen"] = Candidate(model, choice.Chosen),
        ["top"] = new JsonArray(choice.Top.Select(c => (JsonNode)Candidate(model, c)).ToArray()),
    };

    private static JsonObject Candidate(BulletModel model, TokenCandidate candidate) => new()
    {
        ["id"] = candidate.Id,
        ["text"] = model.Tokenizer.Decode([candidate.Id]),
        ["p"] = candidate.Probability,
        ["p_sampled"] = candidate.SampledProbability,
    };

    /// <summary>Perplexity of a text under the model.</summary>
    public static JsonObject Perplexity(BulletModel model, string text)
    {
        var result = ModelAnalysis.Perplexity(model, model.Tokenizer.Encode(text));
        return new JsonObject
        {
            ["perplexity"] = result.Perplexity,
            ["mean_nll"] = result.MeanNegativeLogLikelihood,
            ["avg_token_probability"] = result.AverageTokenProbability,
            ["tokens_scored"] = result.TokensScored,
            ["windows"] = result.Windows,
        };
    }

    /// <summary>Attention maps of a prompt: ids, token texts, shape, and the float32 weights as base64.</summary>
    public static JsonObject Attention(BulletModel model, string text)
    {
        var result = ModelAnalysis.Attention(model, model.Tokenizer.Encode(text));
        var bytes = new byte[result.Weights.Length * sizeof(float)];
        Buffer.BlockCopy(result.Weights, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new BulletException(NativeStatus.InternalError, "attention weights are sent little-endian");
        return new JsonObject
        {
            ["tokens"] = Ints(result.Tokens),
            ["token_text"] = Strings(result.Tokens.Select(id => model.Tokenizer.Decode([id]))),
            ["shape"] = Ints([result.Layers, result.Heads, result.Length, result.Length]),
            ["weights_f32_base64"] = Convert.ToBase64String(bytes),
        };
    }

    /// <summary>Logits after feeding <paramref name="ids"/> from position 0, by the SIMD or the reference pass.</summary>
    public static float[] Logits(BulletModel model, ReadOnlySpan<int> ids, bool reference)
    {
        if (ids.IsEmpty) throw new BulletArgumentException("logits need at least one token id");
        if (ids.Length > model.Dimensions.MaxContext)
            throw new BulletArgumentException($"{ids.Length} ids are more than max_context {model.Dimensions.MaxContext}");
        IForwardPass pass = reference ? new ReferenceForward(model) : new FastForward(model);
        var logits = new float[model.Dimensions.VocabSize];
        for (var i = 0; i < ids.Length; i++) pass.Forward(ids[i], i == ids.Length - 1 ? logits : default);
        return logits;
    }

    private static JsonArray Ints(IEnumerable<int> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
