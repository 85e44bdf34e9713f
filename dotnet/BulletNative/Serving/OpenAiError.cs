using System.Text.Json.Nodes;

namespace BulletNative.Serving;

/// <summary>A request the OpenAI-compatible API refuses: the HTTP status and OpenAI's error object.</summary>
public sealed class OpenAiError(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : Exception(message)
{
    /// <summary>The HTTP status to answer with (400 for a bad parameter, 404 for an unknown model).</summary>
    public int Status { get; } = status;

    /// <summary>{"error": {"message", "type", "param", "code"}}, as OpenAI sends it.</summary>
    public JsonObject Body() => new()
    {
        ["error"] = new JsonObject { ["message"] = Message, ["type"] = type, ["param"] = param, ["code"] = code },
    };

    /// <summary>A 400 "invalid_request_error" naming the request parameter <paramref name="param"/>.</summary>
    public static OpenAiError BadParameter(string param, string message) => new(400, message, param: param);
    /// <summary>A 404 "model_not_found" for model <paramref name="name"/>, worded as OpenAI words it.</summary>
    public static OpenAiError UnknownModel(string name) =>
        new(404, $"The model `{name}` does not exist or you do not have access to it.", param: "model", code: "model_not_found");
}
