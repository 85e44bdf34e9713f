using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Runtime;

namespace BulletNative.Serving;

/// <summary>Which endpoint a request came to.</summary>
public enum OpenAiEndpoint
{
    /// <summary>POST /v1/completions: a plain-text prompt.</summary>
    Completions,
    /// <summary>POST /v1/chat/completions: chat messages turned into a prompt by <see cref="ChatTemplate"/>.</summary>
    ChatCompletions,
}

/// <summary>
/// A validated body of POST /v1/completions or /v1/chat/completions: the model, the prompt (chat messages through
/// <see cref="ChatTemplate"/>), the generation options, and how to answer (streamed, usage, log probabilities).
/// Every refusal is an <see cref="OpenAiError"/> naming the parameter.
/// </summary>
public sealed record OpenAiRequest(
    OpenAiEndpoint Endpoint, string Model, string Prompt, GenerationOptions Options, bool Stream, bool IncludeUsage,
    int? Logprobs, IReadOnlyList<string> UserStops)
{
    private static readonly string[] s_common =
        ["model", "max_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "n", "stream", "stream_options", "stop", "seed",
         "user", "presence_penalty", "frequency_penalty", "logit_bias"];
    private static readonly string[] s_completion = [.. s_common, "prompt", "logprobs", "echo", "best_of", "suffix"];
    private static readonly string[] s_chat = [.. s_common, "messages", "max_completion_tokens", "logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "parallel_tool_calls"];

    /// <summary>The most stop strings a request may give (as OpenAI allows).</summary>
    public const int MaxStops = 4;

    /// <summary>Reads a request body (UTF-8 JSON) for <paramref name="endpoint"/>.</summary>
    public static OpenAiRequest Parse(OpenAiEndpoint endpoint, ReadOnlySpan<byte> body)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject ?? throw new OpenAiError(400, "The request body must be a JSON object.");
        }
        catch (JsonException)
        {
            throw new OpenAiError(400, "We could not parse the JSON body of your request: it is not valid JSON.");
        }
        var chat = endpoint == OpenAiEndpoint.ChatCompletions;
        foreach (var (key, _) in json)
            if (!(chat ? s_chat : s_completion).Contains(key))
                throw OpenAiError.BadParameter(key, $"Unrecognized request argument supplied: {key}");
        var model = ReadString(json, "model") ?? throw OpenAiError.BadParameter("model", "you must provide a model parameter");
        RejectUnsupported(json, chat);

        var maxTokens = ReadInt(json, chat && json["max_completion_tokens"] is not null ? "max_completion_tokens" : "max_tokens");
        if (maxTokens is < 1) throw OpenAiError.BadParameter("max_tokens", $"max_tokens must be at least 1, got {maxTokens}.");
        var temperature = ReadNumber(json, "temperature");
        if (temperature is < 0 or > 2) throw OpenAiError.BadParameter("temperature", $"temperature must be between 0 and 2, got {temperature}.");
        var stops = Read(json, "stop", (f, v) => v is JsonArray list ? f.List(list, "stop", f.String) : [f.String(v, "stop")]) ?? [];
        if (stops.Count > MaxStops) throw OpenAiError.BadParameter("stop", $"stop may hold at most {MaxStops} strings, got {stops.Count}.");
        if (stops.Any(string.IsNullOrEmpty)) throw OpenAiError.BadParameter("stop", "stop strings must not be empty.");
        var stream = ReadBool(json, "stream") ?? false;
        var includeUsage = Read(json, "stream_options", (f, v) => f.OptionalBool(f.Object(v, "stream_options"), "include_usage")) == true;
        int? logprobs = chat
            ? ReadBool(json, "logprobs") == true ? ReadInt(json, "top_logprobs") ?? 0 : null
            : ReadInt(json, "logprobs");
        if (logprobs is < 0 or > GenerationOptions.MaxTopLogprobs)
            throw OpenAiError.BadParameter(chat ? "top_logprobs" : "logprobs", $"log probabilities can list 0 to {GenerationOptions.MaxTopLogprobs} candidates, got {logprobs}.");

        var prompt = chat ? ChatPrompt(json) : CompletionPrompt(json);
        var options = new GenerationOptions
        {
            MaxTokens = maxTokens ?? (chat ? 256 : 16),
            Temperature = temperature ?? 1,
            TopP = ReadNumber(json, "top_p") ?? 1,
            TopK = ReadInt(json, "top_k") ?? 0,
            RepetitionPenalty = ReadNumber(json, "repetition_penalty") ?? 1,
            Seed = ReadLong(json, "seed"),
            Stop = chat ? [.. stops, .. ChatTemplate.TurnMarkers] : stops,
            // The chosen token's own probability needs one candidate even when none is listed.
            TopLogprobs = logprobs is null ? 0 : Math.Max(1, logprobs.Value),
        };
        try
        {
            options.Validate();
        }
        catch (BulletArgumentException e)
        {
            throw OpenAiError.BadParameter(e.Message.Split(' ')[0], e.Message);
        }
        return new OpenAiRequest(endpoint, model, prompt, options, stream, includeUsage, logprobs, stops);
    }

    /// <summary>Parameters OpenAI has that this server only takes at their neutral value.</summary>
    private static void RejectUnsupported(JsonObject json, bool chat)
    {
        if (ReadInt(json, "n") is { } n && n != 1) throw OpenAiError.BadParameter("n", "only n = 1 is supported.");
        if (!chat && ReadInt(json, "best_of") is { } best && best != 1) throw OpenAiError.BadParameter("best_of", "only best_of = 1 is supported.");
        foreach (var penalty in new[] { "presence_penalty", "frequency_penalty" })
            if (ReadNumber(json, penalty) is { } value && value != 0)
                throw OpenAiError.BadParameter(penalty, $"{penalty} is not supported; use repetition_penalty (1 is off).");
        if (json["logit_bias"] is JsonObject bias && bias.Count > 0) throw OpenAiError.BadParameter("logit_bias", "logit_bias is not supported.");
        if (!chat && ReadBool(json, "echo") == true) throw OpenAiError.BadParameter("echo", "echo is not supported.");
        if (!chat && json["suffix"] is not null) throw OpenAiError.BadParameter("suffix", "suffix is not supported.");
        if (chat && json["tools"] is JsonArray { Count: > 0 }) throw OpenAiError.BadParameter("tools", "tools are not supported by these models.");
        if (chat && json["response_format"] is JsonObject format && ReadString(format, "type") is { } type && type != "text")
            throw OpenAiError.BadParameter("response_format", "only the text response format is supported.");
    }

    private static string CompletionPrompt(JsonObject json)
    {
        var prompt = json["prompt"];
        if (prompt is JsonArray { Count: 1 } single) prompt = single[0];
        if (prompt is JsonArray) throw OpenAiError.BadParameter("prompt", "the prompt must be one string (lists of prompts and token ids are not supported).");
        return Read(json, "prompt", (f, _) => f.String(prompt, "prompt")) ?? "";
    }

    private static string ChatPrompt(JsonObject json)
    {
        if (json["messages"] is not JsonArray { Count: > 0 } list) throw OpenAiError.BadParameter("messages", "messages must be a non-empty list.");
        var messages = new List<ChatMessage>();
        for (var i = 0; i < list.Count; i++)
        {
            var param = $"messages[{i}]";
            if (list[i] is not JsonObject message) throw OpenAiError.BadParameter(param, $"{param} must be an object with role and content.");
            var role = ReadString(message, "role") ?? throw OpenAiError.BadParameter(param, $"{param} has no role.");
            if (role is not ("system" or "developer" or "user" or "assistant"))
                throw OpenAiError.BadParameter(param, $"{param}.role \"{role}\" is not supported (system, developer, user or assistant).");
            messages.Add(new ChatMessage(role, Content(message["content"], param)));
        }
        if (messages.All(m => m.Role is "system" or "developer")) throw OpenAiError.BadParameter("messages", "messages need at least one user or assistant message.");
        return ChatTemplate.Prompt(messages);
    }

    /// <summary>A message's text: a string, or a list of {type: "text", text} parts joined.</summary>
    private static string Content(JsonNode? content, string param) => content switch
    {
        null => "",
        JsonArray parts => string.Concat(parts.Select((part, i) =>
            part is JsonObject { } p && p["type"]?.GetValueKind() == JsonValueKind.String && (string)p["type"]! == "text" && p["text"]?.GetValueKind() == JsonValueKind.String
                ? (string)p["text"]!
                : throw OpenAiError.BadParameter(param, $"{param}.content[{i}] must be a text part ({{\"type\": \"text\", \"text\": ...}})."))),
        _ when content.GetValueKind() == JsonValueKind.String => (string)content!,
        _ => throw OpenAiError.BadParameter(param, $"{param}.content must be a string or a list of text parts."),
    };

    private static int? ReadInt(JsonObject json, string key) => Read(json, key, (f, v) => (int?)f.Int(v, key));
    private static long? ReadLong(JsonObject json, string key) => Read(json, key, (f, v) => (long?)f.Long(v, key));
    private static double? ReadNumber(JsonObject json, string key) => Read(json, key, (f, v) => (double?)f.Number(v, key));
    private static bool? ReadBool(JsonObject json, string key) => Read(json, key, (f, v) => (bool?)f.Bool(v, key));
    private static string? ReadString(JsonObject json, string key) => Read(json, key, (f, v) => f.String(v, key));

    /// <summary>An optional field read with the options reader; a wrong type is a 400 naming it.</summary>
    private static T? Read<T>(JsonObject json, string key, Func<JsonFields, JsonNode, T> read)
    {
        if (json[key] is not { } value) return default;
        try
        {
            return read(JsonFields.Options, value);
        }
        catch (BulletArgumentException e)
        {
            throw OpenAiError.BadParameter(key, e.Message);
        }
    }
}
