using System.Runtime.InteropServices;
using BulletNative.Runtime;

namespace BulletNative.Interop;

/// <summary>C exports of the runtime: load a model, describe it, generate (whole or streamed), perplexity, attention, logits.</summary>
internal static unsafe class RuntimeExports
{
    /// <summary>Loads and validates a .bullet file; the handle is freed with bullet_free_handle.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_load")]
    public static int Load(byte* path, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(BulletModel.Load(NativeCall.Utf8(path, "path")), outHandle));

    /// <summary>Loads a model from a file image in memory (copied once; the caller's buffer may be freed afterwards).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_load_bytes")]
    public static int LoadBytes(byte* data, long length, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(BulletModel.Load(NativeCall.Input(data, length, "data").ToArray()), outHandle));

    /// <summary>JSON: header, tokenizer, tensors, warnings, and the runtime's choices (head, kernel).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_info")]
    public static int Info(long model, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Info(HandleTable.Get<BulletModel>(model)), outData, outLength));

    /// <summary>Generates to the end; JSON text, tokens, tokens_per_second, time_to_first_token_ms, stop_reason, seed.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_generate")]
    public static int Generate(long model, byte* prompt, byte* options, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Generate(HandleTable.Get<BulletModel>(model), NativeCall.Utf8(prompt, "prompt"),
            NativeCall.JsonArgument(options, "options")), outData, outLength));

    /// <summary>Creates a streaming generator over a model (it keeps the model alive even if the model handle is freed).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_generator_create")]
    public static int CreateGenerator(long model, byte* prompt, byte* options, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(Generator.FromText(HandleTable.Get<BulletModel>(model), NativeCall.Utf8(prompt, "prompt"),
            GenerationOptions.FromJson(NativeCall.JsonArgument(options, "options"))), outHandle));

    /// <summary>Draws one token; JSON {token, text, done, stop_reason}.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_generator_next")]
    public static int Next(long generator, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Step(HandleTable.Get<Generator>(generator)), outData, outLength));

    /// <summary>The generator's summary so far (as bullet_model_generate returns it).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_generator_result")]
    public static int Result(long generator, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Summary(HandleTable.Get<Generator>(generator).Sequence), outData, outLength));

    /// <summary>Perplexity of a text over sliding windows of max_context; JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_perplexity")]
    public static int Perplexity(long model, byte* text, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Perplexity(HandleTable.Get<BulletModel>(model), NativeCall.Utf8(text, "text")), outData, outLength));

    /// <summary>Attention of every layer and head for a prompt; JSON with shape and base64 float32 weights.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_attention")]
    public static int Attention(long model, byte* text, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(RuntimeReports.Attention(HandleTable.Get<BulletModel>(model), NativeCall.Utf8(text, "text")), outData, outLength));

    /// <summary>Logits (vocab_size floats into out) after feeding n ids; reference != 0 uses the scalar definition.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_model_logits")]
    public static int Logits(long model, int* ids, long n, int reference, float* output, long capacity) => NativeCall.Run(() =>
    {
        var m = HandleTable.Get<BulletModel>(model);
        if (capacity < m.Dimensions.VocabSize) throw new BulletArgumentException($"the output needs room for {m.Dimensions.VocabSize} floats");
        RuntimeReports.Logits(m, NativeCall.Input(ids, n, "ids"), reference != 0).CopyTo(NativeCall.Output(output, m.Dimensions.VocabSize, "output"));
    });
}
