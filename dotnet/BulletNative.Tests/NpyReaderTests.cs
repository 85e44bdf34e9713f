using System.Buffers.Binary;
using System.Text;
using BulletNative.Format;

namespace BulletNative.Tests;

public class NpyReaderTests
{
    /// <summary>An .npy v1 image built from the NumPy format description (magic, version, padded dict header).</summary>
    internal static byte[] Npy(string descr, int[] shape, byte[] body, bool fortran = false)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}";
        var total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - 10 - 1) + "\n";
        var bytes = new byte[10 + header.Length + body.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        body.CopyTo(bytes, 10 + header.Length);
        return bytes;
    }

    internal static byte[] Float32Body(float[] values)
    {
        var body = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(i * 4), values[i]);
        return body;
    }

    [Test]
    public void ReadsFloat32Float16AndFloat64InCOrder()
    {
        var values = new[] { 1.5f, -2f, 0.25f, 3f, 0f, -0.5f };
        var (shape, read) = NpyReader.Read(Npy("<f4", [2, 3], Float32Body(values)));
        Assert.That(shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(read, Is.EqualTo(values));

        var half = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(i * 2), (Half)values[i]);
        Assert.That(NpyReader.Read(Npy("<f2", [6], half)).Values, Is.EqualTo(values));

        var big = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleBigEndian(big.AsSpan(i * 8), values[i]);
        Assert.That(NpyReader.Read(Npy(">f8", [3, 2], big)).Values, Is.EqualTo(values));
    }

    [Test]
    public void RejectsWhatItCannotReadWithAClearMessage()
    {
        Assert.That(Assert.Throws<BulletFormatException>(() => NpyReader.Read(Npy("<i4", [2], new byte[8])))!.Message,
            Does.Contain("dtype '<i4' is not supported"));
        Assert.That(Assert.Throws<BulletFormatException>(() => NpyReader.Read(Npy("<f4", [2, 2], new byte[16], fortran: true)))!.Message,
            Does.Contain("Fortran order"));
        Assert.That(Assert.Throws<BulletFormatException>(() => NpyReader.Read(Npy("<f4", [3], new byte[8])))!.Message,
            Does.Contain("needs 12 bytes of data, the file has 8"));
        Assert.That(Assert.Throws<BulletFormatException>(() => NpyReader.Read("not numpy"u8))!.Message,
            Does.Contain("not an .npy file"));
    }
}

public class SafetensorsTests
{
    [Test]
    public void F32RoundTripsWithMetadata()
    {
        var tensors = new[]
        {
            new TensorData("a.weight", [2, 3], new[] { 1f, 2, 3, 4, 5, 6 }),
            new TensorData("b", [1], new[] { -7.5f }),
        };
        var bytes = Safetensors.ToBytes(tensors, new Dictionary<string, string> { ["step"] = "12" });
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8, Is.EqualTo(0UL));
        var (read, meta) = Safetensors.Read(bytes);
        Assert.That(read.Select(t => t.Name), Is.EqualTo(new[] { "a.weight", "b" }));
        Assert.That(read[0].Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(read[0].Values.ToArray(), Is.EqualTo(tensors[0].Values.ToArray()));
        Assert.That(read[1].Values.ToArray(), Is.EqualTo(new[] { -7.5f }));
        Assert.That(meta["step"], Is.EqualTo("12"));
    }

    [Test]
    public void ReadsBf16AndF16AndRejectsBadOffsets()
    {
        // bfloat16 of 1.5 is 0x3FC0; float16 of -2 is 0xC000.
        var header = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},\"y\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[2,4]}}";
        var bytes = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8 + header.Length), 0x3FC0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8 + header.Length + 2), 0xC000);
        var (read, _) = Safetensors.Read(bytes);
        Assert.That(read[0].Values.ToArray(), Is.EqualTo(new[] { 1.5f }));
        Assert.That(read[1].Values.ToArray(), Is.EqualTo(new[] { -2f }));

        var truncated = bytes[..^2];
        Assert.That(Assert.Throws<BulletFormatException>(() => Safetensors.Read(truncated))!.Message, Does.Contain("fall outside the data"));
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Assert.That(Assert.Throws<BulletFormatException>(() => Safetensors.Read(huge))!.Message, Does.Contain("does not fit"));
    }
}
