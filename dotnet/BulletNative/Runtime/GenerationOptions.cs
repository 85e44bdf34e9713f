using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>What to do when the context (max_context tokens) is full.</summary>
public enum ContextOverflow
{
    /// <summary>Keep the last half of the context, recompute its cache from position 0, and go on.</summary>
    Slide,
    /// <summary>End generation with stop reason "context_full".</summary>
    Stop,
}

/// <summary>
/// Sampling and generation settings, with their defaults and validation in one place. JSON keys: temperature,
/// top_k, top_p, repetition_penalty, seed, max_tokens, stop (a string or a list of strings), context ("slide" or
/// "stop"), threads, top_logprobs.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Softmax temperature; 0 means greedy (the most likely token, lowest id on ties).</summary>
    public double Temperature { get; init; } = 0.8;
    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.</summary>
    public double TopP { get; init; } = 0.95;
    /// <summary>Divides positive (multiplies negative) logits of tokens already in the context; 1 is off.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>Random seed; the same seed, prompt and settings give the same text. Null picks one (reported back).</summary>
    public long? Seed { get; init; }
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 100;
    /// <summary>Generation ends before the first occurrence of any of these strings (which is not returned).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>JSON key "context": what happens when the context is full, "slide" (default) or "stop".</summary>
    public ContextOverflow Context { get; init; } = ContextOverflow.Slide;
    /// <summary>Threads per matrix × vector product (1: the generator runs on the caller's thread only).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>For each generated token, explain the choice with this many most likely candidates (0: off).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>The most candidates a token choice lists.</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>Seeds travel through JSON numbers, which hold whole numbers exactly only up to 2^53.</summary>
    private const long MaxSeed = 1L << 53;

    /// <summary>Throws a BulletArgumentException naming the first invalid setting.</summary>
    public GenerationOptions Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0 || Temperature > 100)
            throw new BulletArgumentException($"temperature {Temperature} must be between 0 (greedy) and 100");
        if (TopK < 0) throw new BulletArgumentException($"top_k {TopK} must be 0 (off) or a positive number of tokens");
        if (!double.IsFinite(TopP) || TopP <= 0 || TopP > 1)
            throw new BulletArgumentException($"top_p {TopP} must be greater than 0 and at most 1");
        if (!double.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0 || RepetitionPenalty > 100)
            throw new BulletArgumentException($"repetition_penalty {RepetitionPenalty} must be greater than 0 and at most 100 (1 is off)");
        if (Seed is < -MaxSeed or > MaxSeed) throw new BulletArgumentException($"seed {Seed} must be a whole number of at most 2^53");
        if (MaxTokens < 0 || MaxTokens > 1_000_000)
            throw new BulletArgumentException($"max_tokens {MaxTokens} must be between 0 and 1000000");
        if (Stop.Any(string.IsNullOrEmpty)) throw new BulletArgumentException("stop strings must not be empty");
        if (Threads < 1 || Threads > 256) throw new BulletArgumentException($"threads {Threads} must be between 1 and 256");
        if (TopLogprobs < 0 || TopLogprobs > MaxTopLogprobs)
            throw new BulletArgumentException($"top_logprobs {TopLogprobs} must be between 0 (off) and {MaxTopLogprobs}");
        return this;
    }

    private static readonly string[] s_keys =
        ["temperature", "top_k", "top_p", "repetition_penalty", "seed", "max_tokens", "stop", "context", "threads", "top_logprobs"];

    /// <summary>Reads options from JSON (missing keys keep their defaults; unknown keys and bad values are errors).</summary>
    public static GenerationOptions FromJson(JsonObject json)
    {
        var read = JsonFields.Options;
        read.RejectUnknown(json, "generation option", s_keys);
        var defaults = new GenerationOptions();
        return new GenerationOptions
        {
            Temperature = read.OptionalNumber(json, "temperature") ?? defaults.Temperature,
            TopK = read.OptionalInt(json, "top_k") ?? defaults.TopK,
            TopP = read.OptionalNumber(json, "top_p") ?? defaults.TopP,
            RepetitionPenalty = read.OptionalNumber(json, "repetition_penalty") ?? defaults.RepetitionPenalty,
            Seed = read.OptionalLong(json, "seed"),
            MaxTokens = read.OptionalInt(json, "max_tokens") ?? defaults.MaxTokens,
            Stop = json["stop"] switch
            {
                null => defaults.Stop,
                JsonArray list => read.List(list, "stop", read.String),
                var single => [read.String(single, "stop")],
            },
            Context = read.OptionalString(json, "context") switch
            {
                null => defaults.Context,
                "slide" => ContextOverflow.Slide,
                "stop" => ContextOverflow.Stop,
                var other => throw new BulletArgumentException($"context \"{other}\" must be \"slide\" or \"stop\""),
            },
            Threads = read.OptionalInt(json, "threads") ?? defaults.Threads,
            TopLogprobs = read.OptionalInt(json, "top_logprobs") ?? defaults.TopLogprobs,
        }.Validate();
    }
}
