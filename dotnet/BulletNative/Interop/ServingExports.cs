using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BulletNative.Serving;

namespace BulletNative.Interop;

/// <summary>
/// C exports of the OpenAI-compatible API (Serving/): a web server hands each request over and writes back what it
/// is given. Create a service, answer a request (status and content type now, the body in pieces), free both with
/// bullet_free_handle (freeing a response whose generation still runs cancels it).
/// </summary>
internal static unsafe class ServingExports
{
    /// <summary>A service over models (JSON config: models, models_dir, api_key, threads, cache_mb, tokens_per_step, keep_loaded).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_openai_service_create")]
    public static int Create(byte* config, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(new OpenAiService(NativeCall.JsonArgument(config, "config")), outHandle));

    /// <summary>
    /// Answers one request: a response handle, and JSON {status, content_type} for the head. Anything wrong with the
    /// request is an HTTP error in the response (OpenAI's error object), not a failed call.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_openai_request")]
    public static int Request(long service, byte* method, byte* path, byte* authorization, byte* body, long bodyLength,
        long* outResponse, byte** outHead, long* outHeadLength) => NativeCall.Run(() =>
    {
        var response = HandleTable.Get<OpenAiService>(service).Handle(NativeCall.Utf8(method, "method"), NativeCall.Utf8(path, "path"),
            NativeCall.OptionalUtf8(authorization), NativeCall.Input(body, bodyLength, "body"));
        NativeCall.ReturnHandle(response, outResponse);
        NativeCall.ReturnJson(new JsonObject { ["status"] = response.Status, ["content_type"] = response.ContentType }, outHead, outHeadLength);
    });

    /// <summary>The next bytes of a response body, waiting up to wait_ms for them; zero bytes once the body is complete.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_openai_read")]
    public static int Read(long response, int waitMs, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        if (waitMs < 0) throw new BulletArgumentException($"wait_ms {waitMs} must not be negative");
        NativeCall.ReturnBytes(HandleTable.Get<OpenAiResponse>(response).Read(TimeSpan.FromMilliseconds(waitMs)), outData, outLength);
    });
}
