using System.Text.Json.Nodes;

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
/// "stop"), threads.
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
    public ContextOverflow Context { get; init; } = ContextOverflow.Slide;
    /// <summary>Threads per matrix × vector product (1: the generator runs on the caller's thread only).</summary>
    public int Threads { get; init; } = 1;

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
        if (MaxTokens < 0 || MaxTokens > 1_000_000)
            throw new BulletArgumentException($"max_tokens {MaxTokens} must be between 0 and 1000000");
        if (Stop.Any(string.IsNullOrEmpty)) throw new BulletArgumentException("stop strings must not be empty");
        if (Threads < 1 || Threads > 256) throw new BulletArgumentException($"threads {Threads} must be between 1 and 256");
        return this;
    }

    private static readonly HashSet<string> s_keys =
        ["temperature", "top_k", "top_p", "repetition_penalty", "seed", "max_tokens", "stop", "context", "threads"];

    /// <summary>Reads options from JSON (missing keys keep their defaults; unknown keys and bad values are errors).</summary>
    public static GenerationOptions FromJson(JsonObject json)
    {
        foreach (var (key, _) in json)
            if (!s_keys.Contains(key))
                throw new BulletArgumentException($"unknown generation option \"{key}\" (known: {string.Join(", ", s_keys)})");
        var options = new GenerationOptions();
        if (json["temperature"] is { } t) options = options with { Temperature = Number(t, "temperature") };
        if (json["top_k"] is { } k) options = options with { TopK = Integer(k, "top_k") };
        if (json["top_p"] is { } p) options = options with { TopP = Number(p, "top_p") };
        if (json["repetition_penalty"] is { } r) options = options with { RepetitionPenalty = Number(r, "repetition_penalty") };
        if (json["seed"] is { } s)
        {
            var seed = Number(s, "seed");
            if (seed != Math.Floor(seed) || Math.Abs(seed) > 9.007199254740992e15)
                throw new BulletArgumentException($"seed {s.ToJsonString()} must be a whole number of at most 2^53");
            options = options with { Seed = (long)seed };
        }
        if (json["max_tokens"] is { } m) options = options with { MaxTokens = Integer(m, "max_tokens") };
        if (json["stop"] is { } stop) options = options with { Stop = StopStrings(stop) };
        if (json["context"] is { } c)
            options = options with
            {
                Context = (c is JsonValue cv && cv.TryGetValue<string>(out var name) ? name : null) switch
                {
                    "slide" => ContextOverflow.Slide,
                    "stop" => ContextOverflow.Stop,
                    _ => throw new BulletArgumentException($"context {c.ToJsonString()} must be \"slide\" or \"stop\""),
                },
            };
        if (json["threads"] is { } th) options = options with { Threads = Integer(th, "threads") };
        return options.Validate();
    }

    private static double Number(JsonNode node, string name) =>
        node is JsonValue value && value.TryGetValue<double>(out var number)
            ? number
            : throw new BulletArgumentException($"{name} must be a number, got {node.ToJsonString()}");

    private static int Integer(JsonNode node, string name)
    {
        var number = Number(node, name);
        if (number != Math.Floor(number) || number < int.MinValue || number > int.MaxValue)
            throw new BulletArgumentException($"{name} must be a whole number, got {node.ToJsonString()}");
        return (int)number;
    }

    private static List<string> StopStrings(JsonNode node)
    {
        if (node is JsonValue single && single.TryGetValue<string>(out var text)) return [text];
        if (node is JsonArray array)
            return array.Select(item => item is JsonValue v && v.TryGetValue<string>(out var s)
                ? s
                : throw new BulletArgumentException($"stop must hold strings, got {item?.ToJsonString() ?? "null"}")).ToList();
        throw new BulletArgumentException($"stop must be a string or a list of strings, got {node.ToJsonString()}");
    }
}
