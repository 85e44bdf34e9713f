using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>
/// The safetensors format: u64 header length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
/// Reads F32, F16, BF16 and F64 (as float32); writes F32. Used for checkpoints and for weights trained elsewhere.
/// </summary>
public static class Safetensors
{
    /// <summary>A header larger than this is refused before it is read (real headers are kilobytes).</summary>
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>Reads every tensor of a file, in header order, with the optional __metadata__ strings.</summary>
    public static (List<TensorData> Tensors, Dictionary<string, string> Metadata) ReadFile(string path)
    {
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (BulletFormatException e)
        {
            throw new BulletFormatException($"{Path.GetFileName(path)}: {e.Message}");
        }
    }

    /// <summary>Parses a safetensors image.</summary>
    public static (List<TensorData> Tensors, Dictionary<string, string> Metadata) Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8) throw new BulletFormatException("too short to be a safetensors file");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (headerLength > MaxHeaderBytes || (long)headerLength > data.Length - 8)
            throw new BulletFormatException($"safetensors header length {headerLength} does not fit in the file ({data.Length} bytes)");
        var header = JsonFields.OfFile("safetensors header").ParseObject(data.Slice(8, (int)headerLength));
        var body = data[(8 + (int)headerLength)..];
        var tensors = new List<TensorData>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta)
                        if (v is JsonValue s && s.TryGetValue<string>(out var text)) metadata[k] = text;
                continue;
            }
            tensors.Add(ReadTensor(name, node as JsonObject ?? throw new BulletFormatException($"entry \"{name}\" is not an object"), body));
        }
        return (tensors, metadata);
    }

    private static TensorData ReadTensor(string name, JsonObject entry, ReadOnlySpan<byte> body)
    {
        var read = JsonFields.OfFile($"tensor \"{name}\"");
        var dtype = read.RequiredString(entry, "dtype");
        var elementSize = dtype switch
        {
            "F32" => 4, "F16" or "BF16" => 2, "F64" => 8,
            _ => throw new BulletFormatException($"tensor \"{name}\" has dtype {dtype}; use F32, F16, BF16 or F64"),
        };
        var shape = read.List(entry["shape"], "shape", read.Int).ToArray();
        var offsets = read.List(entry["data_offsets"], "data_offsets", read.Long);
        if (offsets.Count != 2) throw new BulletFormatException($"tensor \"{name}\" needs two data_offsets, not {offsets.Count}");
        var (begin, end) = (offsets[0], offsets[1]);
        if (shape.Any(s => s < 0)) throw new BulletFormatException($"tensor \"{name}\" has a negative dimension");
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (begin < 0 || end < begin || end > body.Length)
            throw new BulletFormatException($"tensor \"{name}\" data_offsets [{begin}, {end}] fall outside the data ({body.Length} bytes)");
        if (end - begin != count * elementSize)
            throw new BulletFormatException($"tensor \"{name}\" of shape [{string.Join(", ", shape)}] {dtype} needs {count * elementSize} bytes, its offsets give {end - begin}");
        var raw = body.Slice((int)begin, (int)(end - begin));
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(i * 2)..]),
                // bfloat16 is the top half of a float32.
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]) << 16),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]),
            };
        }
        return new TensorData(name, shape, values);
    }

    /// <summary>Writes tensors as F32 with optional metadata, atomically.</summary>
    public static void WriteFile(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.WriteAllBytes(path, ToBytes(tensors, metadata));

    /// <summary>The safetensors image of F32 tensors.</summary>
    public static byte[] ToBytes(IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var t in list)
        {
            var bytes = (long)t.Values.Length * 4;
            header[t.Name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference implementation does.
        var padded = (int)BulletLayout.AlignUp(headerBytes.Length, 8);
        var file = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        headerBytes.CopyTo(file, 8);
        file.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        var pos = 8 + padded;
        foreach (var t in list)
        {
            var span = t.Values.Span;
            for (var i = 0; i < span.Length; i++, pos += 4) BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(pos), span[i]);
        }
        return file;
    }
}
