using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Runtime;

namespace BulletNative.Serving;

/// <summary>
/// One HTTP response of the OpenAI-compatible API, framework-neutral: a status, a content type, then the body in
/// pieces (<see cref="Read"/>) that the web server writes as they come. Disposing it ends a generation still running.
/// </summary>
public abstract class OpenAiResponse : IDisposable
{
    /// <summary>The HTTP status code.</summary>
    public abstract int Status { get; }
    /// <summary>The Content-Type header: "application/json", or "text/event-stream" for a streamed generation.</summary>
    public abstract string ContentType { get; }

    /// <summary>The next bytes of the body, waiting up to <paramref name="wait"/> for them; empty once the body is complete.</summary>
    public abstract byte[] Read(TimeSpan wait);

    /// <summary>Ends whatever the response still has running; nothing for a fixed body.</summary>
    public virtual void Dispose() { }

    /// <summary>JSON as UTF-8 with text left readable (no \uXXXX for quotes, apostrophes or non-ASCII letters).</summary>
    protected static byte[] Utf8(JsonNode json) => Encoding.UTF8.GetBytes(json.ToJsonString(s_json));

    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON body sent at once (model lists, errors).</summary>
    public static OpenAiResponse Json(int status, JsonNode body) => new Fixed(status, body);

    /// <summary>An error as OpenAI shapes it.</summary>
    public static OpenAiResponse Error(OpenAiError error) => new Fixed(error.Status, error.Body());

    private sealed class Fixed(int status, JsonNode body) : OpenAiResponse
    {
        private bool _sent;
        public override int Status => status;
        public override string ContentType => "application/json";

        public override byte[] Read(TimeSpan wait)
        {
            if (_sent) return [];
            _sent = true;
            return Utf8(body);
        }
    }
}

/// <summary>
/// A completion or chat completion being generated: streamed as Server-Sent Events (a chunk per step, the final one
/// with finish_reason, optionally a usage chunk, then <c>data: [DONE]</c>) or as one JSON object at the end.
/// </summary>
public sealed class GenerationResponse : OpenAiResponse
{
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] s_keepAlive = ": keep-alive\n\n"u8.ToArray();
    private readonly OpenAiRequest _request;
    private readonly GenerationRequest _generation;
    private readonly string _model, _id;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly StringBuilder _text = new();
    private readonly List<GeneratedToken> _steps = [];
    private bool _started, _finished, _trimming;

    private bool Chat => _request.Endpoint == OpenAiEndpoint.ChatCompletions;

    /// <summary>A response to <paramref name="request"/>, reading steps from <paramref name="generation"/> and naming <paramref name="model"/> in its body.</summary>
    public GenerationResponse(OpenAiRequest request, GenerationRequest generation, string model)
    {
        _request = request;
        _generation = generation;
        _model = model;
        _id = (Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        // A chat reply follows "Bot:"; the space the model writes after the colon is not part of the reply.
        _trimming = Chat;
    }

    /// <summary>Always 200: a request is refused (with an <see cref="OpenAiError"/>) before its generation starts.</summary>
    public override int Status => 200;
    /// <summary>"text/event-stream" when the request streams, else "application/json".</summary>
    public override string ContentType => _request.Stream ? "text/event-stream" : "application/json";

    /// <summary>Streamed: the events of the steps that came within <paramref name="wait"/>, or an SSE keep-alive comment if none did; else the whole JSON object once generation ends.</summary>
    public override byte[] Read(TimeSpan wait)
    {
        if (_finished) return [];
        if (!_request.Stream)
        {
            while (!_finished) Take(Timeout.InfiniteTimeSpan);
            return Utf8(Whole());
        }
        var events = new MemoryStream();
        if (!_started)
        {
            _started = true;
            if (Chat) Event(events, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null));
        }
        var first = _steps.Count;
        if (!Take(wait)) return events.Length > 0 ? events.ToArray() : s_keepAlive;
        while (!_finished && Take(TimeSpan.Zero)) { }
        for (var i = first; i < _steps.Count; i++)
        {
            var step = _steps[i];
            var piece = Piece(step.Text);
            var logprobs = step.Choice is { } choice ? Logprobs([(choice, _text.Length - piece.Length)]) : null;
            if (piece.Length > 0 || logprobs != null)
                Event(events, Chunk(Chat ? new JsonObject { ["content"] = piece } : null, piece, logprobs));
        }
        if (_finished)
        {
            Event(events, Chunk(Chat ? new JsonObject() : null, "", null, FinishReason()));
            if (_request.IncludeUsage) Event(events, Envelope(Chat ? "chat.completion.chunk" : "text_completion", new JsonArray(), Usage()));
            events.Write(s_done);
        }
        return events.ToArray();
    }

    /// <summary>Waits for one step; false when none came in time.</summary>
    private bool Take(TimeSpan wait)
    {
        if (_generation.Take(wait) is not { } step) return false;
        _steps.Add(step);
        if (step.Done) _finished = true;
        return true;
    }

    /// <summary>A step's text as it goes into the reply (the chat reply's leading space dropped), appended to the reply.</summary>
    private string Piece(string text)
    {
        if (_trimming && text.Length > 0)
        {
            _trimming = false;
            if (text[0] == ' ') text = text[1..];
        }
        _text.Append(text);
        return text;
    }

    private JsonObject Whole()
    {
        foreach (var step in _steps) Piece(step.Text);
        var offset = 0;
        var entries = new List<(TokenChoice, int)>();
        foreach (var step in _steps)
            if (step.Choice is { } choice)
            {
                entries.Add((choice, offset));
                offset += _generation.Sequence.Model.Tokenizer.Decode([choice.Chosen.Id]).Length;
            }
        var logprobs = _request.Logprobs is null ? null : Logprobs(entries);
        var choiceJson = Chat
            ? new JsonObject
            {
                // OpenAI always writes refusal, null when the model refused nothing (as this one never does).
                ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = _text.ToString(), ["refusal"] = null },
                ["logprobs"] = logprobs, ["finish_reason"] = FinishReason(),
            }
            : new JsonObject { ["text"] = _text.ToString(), ["index"] = 0, ["logprobs"] = logprobs, ["finish_reason"] = FinishReason() };
        return Envelope(Chat ? "chat.completion" : "text_completion", new JsonArray(choiceJson), Usage());
    }

    private JsonObject Chunk(JsonObject? delta, string? text, JsonNode? logprobs, string? finish = null)
    {
        var choice = Chat
            ? new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = logprobs, ["finish_reason"] = finish }
            : new JsonObject { ["text"] = text, ["index"] = 0, ["logprobs"] = logprobs, ["finish_reason"] = finish };
        return Envelope(Chat ? "chat.completion.chunk" : "text_completion", new JsonArray(choice), null);
    }

    private JsonObject Envelope(string kind, JsonArray choices, JsonObject? usage)
    {
        var json = new JsonObject { ["id"] = _id, ["object"] = kind, ["created"] = _created, ["model"] = _model, ["choices"] = choices };
        if (usage != null) json["usage"] = usage;
        return json;
    }

    /// <summary>
    /// Log probabilities (natural log of the model's softmax, before temperature and cuts) of the chosen tokens and of
    /// the likeliest candidates, as OpenAI lays them out for chat ({content: [...]}) or completions (parallel lists).
    /// </summary>
    private JsonNode? Logprobs(IReadOnlyList<(TokenChoice Choice, int Offset)> entries)
    {
        if (_request.Logprobs is not { } listed || entries.Count == 0) return null;
        var tokenizer = _generation.Sequence.Model.Tokenizer;
        string Text(int id) => tokenizer.Decode([id]);
        if (Chat)
            return new JsonObject
            {
                ["content"] = new JsonArray(entries.Select(e => (JsonNode)new JsonObject
                {
                    ["token"] = Text(e.Choice.Chosen.Id), ["logprob"] = Math.Log(e.Choice.Chosen.Probability),
                    ["bytes"] = Bytes(tokenizer.Tokens[e.Choice.Chosen.Id]),
                    ["top_logprobs"] = new JsonArray(e.Choice.Top.Take(listed).Select(c => (JsonNode)new JsonObject
                    {
                        ["token"] = Text(c.Id), ["logprob"] = Math.Log(c.Probability), ["bytes"] = Bytes(tokenizer.Tokens[c.Id]),
                    }).ToArray()),
                }).ToArray()),
                ["refusal"] = null,
            };
        return new JsonObject
        {
            ["tokens"] = new JsonArray(entries.Select(e => (JsonNode)JsonValue.Create(Text(e.Choice.Chosen.Id))).ToArray()),
            ["token_logprobs"] = new JsonArray(entries.Select(e => (JsonNode)JsonValue.Create(Math.Log(e.Choice.Chosen.Probability))).ToArray()),
            ["top_logprobs"] = new JsonArray(entries.Select(e =>
            {
                var top = new JsonObject();
                foreach (var c in e.Choice.Top.Take(listed)) top[Text(c.Id)] = Math.Log(c.Probability);
                return (JsonNode)top;
            }).ToArray()),
            ["text_offset"] = new JsonArray(entries.Select(e => (JsonNode)JsonValue.Create(e.Offset)).ToArray()),
        };
    }

    private static JsonArray Bytes(byte[] bytes) => new(bytes.Select(b => (JsonNode)JsonValue.Create((int)b)).ToArray());

    private string FinishReason() => _generation.Sequence.StopReason == "stop" ? "stop" : "length";

    private JsonObject Usage()
    {
        var sequence = _generation.Sequence;
        var prompt = sequence.PromptTokens.Count + sequence.PromptTokensDropped;
        return new JsonObject
        {
            ["prompt_tokens"] = prompt, ["completion_tokens"] = sequence.Tokens.Count, ["total_tokens"] = prompt + sequence.Tokens.Count,
        };
    }

    private static void Event(MemoryStream events, JsonObject data)
    {
        events.Write("data: "u8);
        events.Write(Utf8(data));
        events.Write("\n\n"u8);
    }

    /// <summary>Ends the generation if it still runs (the client went away).</summary>
    public override void Dispose()
    {
        if (!_finished) _generation.Cancel();
    }
}
