using System.Runtime.InteropServices;

namespace BulletNative.Interop;

/// <summary>
/// The three export names the product's C ABI has always promised, kept beside their <c>bullet_</c> names for
/// callers written against them; each runs exactly what its <c>bullet_</c> export runs.
/// </summary>
internal static unsafe class AliasExports
{
    /// <summary>Alias of <c>bullet_build</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "build_bullet")]
    public static int Build(byte* folder, byte* outPath, byte* optionsJson, byte** outData, long* outLength) =>
        FormatExports.BuildCall(folder, outPath, optionsJson, outData, outLength);

    /// <summary>Alias of <c>bullet_quantize_bq4</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "quantize_bq4")]
    public static int Quantize(float* values, long n, byte* output, long outputCapacity) =>
        Bq4Exports.QuantizeCall(values, n, output, outputCapacity);

    /// <summary>Alias of <c>bullet_train_step</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "train_step")]
    public static int TrainStep(long handle, byte** outData, long* outLength) =>
        TrainingExports.TrainStepCall(handle, outData, outLength);
}
