using System.Runtime.InteropServices;
using BulletNative.Builder;
using BulletNative.Training;

namespace BulletNative.Interop;

/// <summary>GGUF export over the C ABI.</summary>
internal static unsafe class GgufExports
{
    /// <summary>
    /// Exports a llama-architecture GGUF from a source path (.bullet, .safetensors, or a float folder) or, when the path
    /// is null, from a training session handle; options {type, model_name, check_prompt, check_tokens}; returns the report.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_export_gguf")]
    public static int ExportGguf(byte* sourcePath, long sessionHandle, byte* outPath, byte* optionsJson, byte** outData, long* outLength) =>
        NativeCall.Run(() =>
        {
            var session = sessionHandle != 0 ? HandleTable.Get<TrainingSession>(sessionHandle) : null;
            var report = GgufExporter.Run(NativeCall.OptionalUtf8(sourcePath), session, NativeCall.Utf8(outPath, "out_path"),
                NativeCall.JsonArgument(optionsJson, "options"));
            NativeCall.ReturnJson(report, outData, outLength);
        });
}
