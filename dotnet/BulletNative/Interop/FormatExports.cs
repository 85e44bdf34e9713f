using System.Runtime.InteropServices;
using BulletNative.Builder;
using BulletNative.Format;

namespace BulletNative.Interop;

/// <summary>C exports for reading, building and unpacking .bullet files.</summary>
internal static unsafe class FormatExports
{
    /// <summary>Validates a .bullet file and returns its description (header, tokenizer, tensors, warnings) as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_inspect")]
    public static int Inspect(byte* path, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(BulletInspector.InspectFile(NativeCall.Utf8(path, "path")), outData, outLength));

    /// <summary>
    /// Packs a folder (config.json, tokenizer.json, .npy or model.safetensors weights) into a .bullet file;
    /// options (JSON, may be null) override its parts. Returns the build report as JSON.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_build")]
    public static int Build(byte* folder, byte* outPath, byte* optionsJson, byte** outData, long* outLength) =>
        BuildCall(folder, outPath, optionsJson, outData, outLength);

    internal static int BuildCall(byte* folder, byte* outPath, byte* optionsJson, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(
            BuildRequest.Run(NativeCall.OptionalUtf8(folder), NativeCall.Utf8(outPath, "out_path"), NativeCall.JsonArgument(optionsJson, "options")),
            outData, outLength));

    /// <summary>
    /// Unpacks a .bullet file into a folder bullet_build packs again: model.safetensors (dequantized F32), config.json,
    /// tokenizer.json. Returns the report (paths, model config, warnings) as JSON.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_unpack")]
    public static int Unpack(byte* path, byte* outDir, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(BulletUnpacker.Unpack(NativeCall.Utf8(path, "path"), NativeCall.Utf8(outDir, "out_dir")), outData, outLength));
}
