using System.Runtime.InteropServices;
using BulletNative.Format;

namespace BulletNative.Interop;

/// <summary>BQ4 encoding and decoding of float32 arrays (docs/format.md, BQ4 block) over caller-owned buffers.</summary>
internal static unsafe class Bq4Exports
{
    /// <summary>Encodes n floats into ByteCount(n) bytes at output; outputCapacity too small is an InvalidArgument.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_quantize_bq4")]
    public static int Quantize(float* values, long n, byte* output, long outputCapacity) => QuantizeCall(values, n, output, outputCapacity);

    internal static int QuantizeCall(float* values, long n, byte* output, long outputCapacity) => NativeCall.Run(() =>
    {
        CheckCount(n);
        var needed = Bq4.ByteCount(n);
        if (outputCapacity < needed)
            throw new BulletArgumentException($"output holds {outputCapacity} bytes but BQ4 of {n} values needs {needed} bytes");
        Bq4.Quantize(NativeCall.Input(values, n, "values"), NativeCall.Output(output, needed, "output"));
    });

    /// <summary>Decodes n floats from data (dataLength at least ByteCount(n) bytes) into output.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_dequantize_bq4")]
    public static int Dequantize(byte* data, long dataLength, long n, float* output) => NativeCall.Run(() =>
    {
        CheckCount(n);
        var needed = Bq4.ByteCount(n);
        if (dataLength < needed)
            throw new BulletArgumentException($"data holds {dataLength} bytes but BQ4 of {n} values needs {needed} bytes");
        Bq4.Dequantize(NativeCall.Input(data, needed, "data"), NativeCall.Output(output, n, "output"));
    });

    private static void CheckCount(long n)
    {
        // Spans index with int; 2^31 - 1 floats (8 GB) is far beyond any model this library builds.
        if (n < 0 || n > int.MaxValue)
            throw new BulletArgumentException($"value count {n} must be between 0 and {int.MaxValue}");
    }
}
