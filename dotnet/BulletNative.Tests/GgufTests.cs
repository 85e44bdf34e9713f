using System.Buffers.Binary;
using System.Text;
using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>GGUF encoders against vectors worked out by hand from ggml's reference rules, the byte alphabet, the writer's layout.</summary>
public class GgufTests
{
    private static float[] Block(params (int Index, float Value)[] set)
    {
        var block = new float[32];
        foreach (var (i, v) in set) block[i] = v;
        return block;
    }

    private static byte[] Encode(GgufTensorType type, float[] values)
    {
        var bytes = new byte[GgufTypes.Info(type).BytesFor(values.Length)];
        GgufTypes.Encode(type, values, bytes);
        return bytes;
    }

    [Test]
    public void Q4_0MatchesTheRuleByHand()
    {
        // -8..7 then zeros: m = -8 (first of largest magnitude), d = 1, q = trunc(x + 8.5) = j; zeros give 8.
        var ramp = new float[32];
        for (var j = 0; j < 16; j++) ramp[j] = j - 8;
        var expected = new byte[18];
        expected[1] = 0x3C; // fp16 1.0
        for (var j = 0; j < 16; j++) expected[2 + j] = (byte)(0x80 | j);
        Assert.That(Encode(GgufTensorType.Q4_0, ramp), Is.EqualTo(expected));

        // m = 4, d = -0.5, 1/d = -2: 4 → 0, -2 → 12, 1 → 6, 3.9 → trunc(0.7) = 0, -4 → 16.5 clamps to 15.
        var signed = Block((0, 4f), (1, -2f), (2, 1f), (3, 3.9f), (4, -4f));
        expected = Enumerable.Repeat((byte)0x88, 18).ToArray();
        (expected[0], expected[1]) = (0x00, 0xB8); // fp16 -0.5
        (expected[2], expected[3], expected[4], expected[5], expected[6]) = (0x80, 0x8C, 0x86, 0x80, 0x8F);
        Assert.That(Encode(GgufTensorType.Q4_0, signed), Is.EqualTo(expected));

        // An all-zero block: m = 0, d = 0 / -8 = -0.0, stored as fp16 0x8000 exactly as ggml does.
        var zeros = Enumerable.Repeat((byte)0x88, 18).ToArray();
        (zeros[0], zeros[1]) = (0x00, 0x80);
        Assert.That(Encode(GgufTensorType.Q4_0, new float[32]), Is.EqualTo(zeros));
    }

    [Test]
    public void Q8_0MatchesTheRuleByHand()
    {
        // amax 127 → d = 1; -63.5 rounds half away from zero to -64; 0.49 → 0.
        var first = Encode(GgufTensorType.Q8_0, Block((0, 127f), (1, -63.5f), (2, 0.49f), (3, -127f)));
        var expected = new byte[34];
        expected[1] = 0x3C;
        (expected[2], expected[3], expected[4], expected[5]) = (0x7F, 0xC0, 0x00, 0x81);
        Assert.That(first, Is.EqualTo(expected));

        // amax 254 → d = 2: 1 → 0.5 → 1, -1 → -1, 3 → 1.5 → 2.
        var second = Encode(GgufTensorType.Q8_0, Block((0, 254f), (1, 1f), (2, -1f), (3, 3f)));
        expected = new byte[34];
        expected[1] = 0x40; // fp16 2.0
        (expected[2], expected[3], expected[4], expected[5]) = (0x7F, 0x01, 0xFF, 0x02);
        Assert.That(second, Is.EqualTo(expected));
    }

    [Test]
    public void EveryTypeDecodesCloseToItsInput()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 256).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        foreach (var (type, tolerance) in new[] { (GgufTensorType.F32, 0.0), (GgufTensorType.F16, 1e-3), (GgufTensorType.Q8_0, 1e-2), (GgufTensorType.Q4_0, 0.15) })
        {
            var back = new float[values.Length];
            GgufTypes.Decode(type, Encode(type, values), back);
            Assert.That(values.Zip(back).Max(p => Math.Abs(p.First - p.Second)), Is.LessThanOrEqualTo(tolerance), type.ToString());
        }
    }

    [Test]
    public void ByteAlphabetIsGpt2s()
    {
        Assert.That(GgufVocabulary.Encode(" \nA~"u8), Is.EqualTo("\u0120\u010AA~"));
        Assert.That(GgufVocabulary.CharOf(0), Is.EqualTo('\u0100'));
        Assert.That(GgufVocabulary.CharOf(0x7F), Is.EqualTo('\u0121'));
        Assert.That(GgufVocabulary.CharOf(0xAD), Is.EqualTo('\u0143'));
        Assert.That(GgufVocabulary.CharOf(0xAE), Is.EqualTo('\u00AE'));
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var text = GgufVocabulary.Encode(all);
        Assert.That(text.Distinct().Count(), Is.EqualTo(256));
        Assert.That(text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)), Is.False);
        Assert.That(GgufVocabulary.Decode(text), Is.EqualTo(all));
        Assert.That(GgufVocabulary.Encode(Encoding.UTF8.GetBytes("é")), Is.EqualTo("Ã©"));
    }

    [Test]
    public void WriterPlansAlignedOffsetsAndWritesThem()
    {
        var writer = new GgufWriter();
        writer.Add("general.architecture", "llama");
        writer.AddTensor("a", [32], GgufTensorType.F32, new float[32]);
        writer.AddTensor("b", [64, 3], GgufTensorType.Q4_0, Enumerable.Range(0, 192).Select(i => (float)i).ToArray());
        writer.AddTensor("c", [32, 1], GgufTensorType.F16, new float[32]);
        var layout = writer.Plan();
        Assert.That(layout.DataStart % GgufWriter.Alignment, Is.Zero);
        Assert.That(layout.Tensors.Select(t => t.Offset), Is.EqualTo(new long[] { 0, 128, 256 })); // 108 bytes of Q4_0 padded to 128
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        var bytes = stream.ToArray();
        Assert.That(bytes.Length, Is.EqualTo(layout.FileBytes).And.EqualTo(layout.DataStart + 256 + 64));
        Assert.That(Encoding.ASCII.GetString(bytes, 0, 4), Is.EqualTo("GGUF"));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)), Is.EqualTo(3u));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), Is.EqualTo(3ul));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)), Is.EqualTo(2ul)); // alignment + architecture
        Assert.That(writer.Keys.First(), Is.EqualTo("general.alignment"));

        Assert.Throws<InvalidOperationException>(() => writer.Add("late", 1u));
        var other = new GgufWriter();
        Assert.Throws<BulletArgumentException>(() => other.Add("general.alignment", 64u));
        Assert.Throws<BulletArgumentException>(() => other.AddTensor("rows", [48, 2], GgufTensorType.Q8_0, new float[96]));
        Assert.Throws<BulletArgumentException>(() => other.AddTensor("size", [32, 2], GgufTensorType.F32, new float[32]));
        Assert.Throws<BulletArgumentException>(() => GgufTypes.Parse("q5_k"));
    }
}
