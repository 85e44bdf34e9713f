using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>One F32 tensor: its shape and row-major values.</summary>
public sealed record F32Tensor(long[] Shape, float[] Data);

/// <summary>
/// The safetensors layout (u64 header length, JSON header {name: {dtype, shape, data_offsets}, "__metadata__"},
/// then the data), for F32 tensors: what checkpoints and the FP32 export store.
/// </summary>
public static class Safetensors
{
    /// <summary>The file's bytes for the tensors in the given order, with optional string metadata.</summary>
    public static byte[] Serialize(IEnumerable<(string Name, F32Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var list = tensors.ToList();
        long offset = 0;
        foreach (var (name, tensor) in list)
        {
            if (tensor.Shape.Aggregate(1L, (a, b) => a * b) != tensor.Data.Length)
                throw new BulletArgumentException($"tensor {name}: shape [{string.Join(", ", tensor.Shape)}] does not hold {tensor.Data.Length} values");
            var end = offset + 4L * tensor.Data.Length;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(tensor.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, end),
            };
            offset = end;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var headerLength = (json.Length + 7) / 8 * 8; // spaces pad the header so the data starts 8-aligned
        var bytes = new byte[8 + headerLength + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerLength);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, headerLength - json.Length).Fill((byte)' ');
        var position = 8 + headerLength;
        foreach (var (_, tensor) in list)
        {
            var data = MemoryMarshal.AsBytes(tensor.Data.AsSpan());
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            data.CopyTo(bytes.AsSpan(position));
            position += data.Length;
        }
        return bytes;
    }

    /// <summary>Reads every tensor of a safetensors file (F32 only), with clear errors for anything else.</summary>
    public static Dictionary<string, F32Tensor> Read(string path, out Dictionary<string, string> metadata)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new BulletFormatException($"{path}: too short for a safetensors file");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new BulletFormatException($"{path}: header length {headerLength} runs past the end of the file");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength)) as JsonObject
                ?? throw new BulletFormatException($"{path}: the header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new BulletFormatException($"{path}: the header is not valid JSON ({e.Message})");
        }
        var dataStart = 8 + (long)headerLength;
        metadata = [];
        var result = new Dictionary<string, F32Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            var entry = node as JsonObject ?? throw new BulletFormatException($"{path}: entry {name} is not an object");
            var dtype = (string?)entry["dtype"];
            if (dtype != "F32") throw new BulletFormatException($"{path}: tensor {name} has dtype {dtype}; only F32 is supported here");
            var shape = entry["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
            var offsets = entry["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets.Length != 2 || offsets[1] - offsets[0] != 4 * count || offsets[0] < 0 || dataStart + offsets[1] > bytes.Length)
                throw new BulletFormatException($"{path}: tensor {name} has data_offsets that do not match its shape or the file size");
            var data = new float[count];
            bytes.AsSpan((int)(dataStart + offsets[0]), (int)(4 * count)).CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
            result[name] = new F32Tensor(shape, data);
        }
        return result;
    }
}
