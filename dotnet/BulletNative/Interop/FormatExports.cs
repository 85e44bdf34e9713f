using System.Runtime.InteropServices;
using BulletNative.Format;

namespace BulletNative.Interop;

/// <summary>C exports for reading .bullet files.</summary>
internal static unsafe class FormatExports
{
    /// <summary>Validates a .bullet file and returns its description (header, tokenizer, tensors, warnings) as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_inspect")]
    public static int Inspect(byte* path, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(BulletInspector.InspectFile(NativeCall.Utf8(path, "path")), outData, outLength));
}
