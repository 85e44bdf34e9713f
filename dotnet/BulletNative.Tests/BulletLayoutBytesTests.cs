using System.Buffers.Binary;
using System.Text;
using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>
/// Checks a written file byte by byte against docs/format.md, with parsing written here from that document
/// (own FNV-1a, own BQ4 decoding, own offsets), not with the writer's or reader's code.
/// </summary>
public class BulletLayoutBytesTests
{
    private static ulong SpecFnv1a(string name)
    {
        var h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(name)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }

    private static long RoundUp(long x, long m) => (x + m - 1) / m * m;

    private static long NumberAfter(string text, string key)
    {
        var i = text.IndexOf($"\"{key}\":", StringComparison.Ordinal) + key.Length + 3;
        while (text[i] == ' ' || text[i] == '\n') i++;
        var j = i;
        while (char.IsAsciiDigit(text[j])) j++;
        return long.Parse(text[i..j]);
    }

    [Test]
    public void WrittenFileMatchesTheSpecByteForByte()
    {
        var content = TestModels.Tiny(seed: 7, vocab: 50, hidden: 64, layers: 2, heads: 4);
        var bytes = BulletWriter.ToBytes(content);
        var span = bytes.AsSpan();

        // Header: JSON text then four NULs; required keys first, in order, in "key": form.
        var headerEnd = span.IndexOf(new byte[4]);
        var text = Encoding.UTF8.GetString(span[..headerEnd]);
        Assert.That(text, Does.StartWith("{"));
        string[] order = ["\"bullet_version\":", "\"model_name\":", "\"architecture\":", "\"hidden_size\":", "\"num_layers\":",
            "\"num_heads\":", "\"type\":", "\"vocab_size\":", "\"max_context\":", "\"tokenizer_start\":", "\"weights_start\":"];
        var positions = order.Select(k => text.IndexOf(k, StringComparison.Ordinal)).ToArray();
        Assert.That(positions, Is.All.GreaterThanOrEqualTo(0));
        Assert.That(positions, Is.Ordered);
        foreach (var k in order) Assert.That(text.IndexOf(k, positions[Array.IndexOf(order, k)] + 1, StringComparison.Ordinal), Is.EqualTo(-1), k);
        Assert.That(text, Does.Contain("\"bullet_version\": \"1.0\""));
        Assert.That(text, Does.Contain("\"architecture\": \"bullet-hybrid-transformer\""));
        Assert.That(text, Does.Contain("\"type\": \"BQ4\""));
        Assert.That((NumberAfter(text, "hidden_size"), NumberAfter(text, "num_layers"), NumberAfter(text, "num_heads")), Is.EqualTo((64L, 2L, 4L)));
        Assert.That((NumberAfter(text, "vocab_size"), NumberAfter(text, "max_context")), Is.EqualTo((50L, 64L)));

        // Layout: tokenizer_start is the first multiple of 4096 after the terminator; zeros in between.
        var tokenizerStart = NumberAfter(text, "tokenizer_start");
        var weightsStart = NumberAfter(text, "weights_start");
        Assert.That(tokenizerStart, Is.EqualTo(RoundUp(headerEnd + 4, 4096)));
        Assert.That(span[headerEnd..(int)tokenizerStart].ToArray(), Is.All.EqualTo((byte)0));

        // Tokenizer block.
        var p = (int)tokenizerStart;
        Assert.That(Encoding.ASCII.GetString(span.Slice(p, 4)), Is.EqualTo("BULK"));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(span[(p + 4)..]), Is.EqualTo(50u));
        p += 8;
        for (var id = 0; id < 50; id++)
        {
            Assert.That(BinaryPrimitives.ReadSingleLittleEndian(span[p..]), Is.EqualTo(content.Vocabulary.Scores[id]));
            var len = BinaryPrimitives.ReadUInt16LittleEndian(span[(p + 4)..]);
            Assert.That(span.Slice(p + 6, len).ToArray(), Is.EqualTo(content.Vocabulary.Tokens[id]));
            p += 6 + len;
        }
        var mergeCount = BinaryPrimitives.ReadUInt32LittleEndian(span[p..]);
        Assert.That(mergeCount, Is.EqualTo((uint)content.Vocabulary.Merges.Count));
        p += 4;
        foreach (var (a, b) in content.Vocabulary.Merges)
        {
            Assert.That(span.Slice(p + 2, BinaryPrimitives.ReadUInt16LittleEndian(span[p..])).ToArray(), Is.EqualTo(a));
            p += 2 + a.Length;
            Assert.That(span.Slice(p + 2, BinaryPrimitives.ReadUInt16LittleEndian(span[p..])).ToArray(), Is.EqualTo(b));
            p += 2 + b.Length;
        }
        Assert.That(weightsStart, Is.EqualTo(RoundUp(p, 64)));
        Assert.That(span[p..(int)weightsStart].ToArray(), Is.All.EqualTo((byte)0));

        // Weights block.
        p = (int)weightsStart;
        Assert.That(Encoding.ASCII.GetString(span.Slice(p, 4)), Is.EqualTo("BWT0"));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(span[(p + 4)..]), Is.EqualTo((uint)content.Tensors.Count));
        p += 8;
        foreach (var t in content.Tensors)
        {
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(span[p..]), Is.EqualTo(SpecFnv1a(t.Name)), t.Name);
            Assert.That(span[p + 8], Is.EqualTo((byte)t.Shape.Length));
            var shape = new int[4];
            for (var k = 0; k < 4; k++) shape[k] = BinaryPrimitives.ReadUInt16LittleEndian(span[(p + 9 + 2 * k)..]);
            Assert.That(shape, Is.EqualTo(t.Shape.Concat(Enumerable.Repeat(1, 4 - t.Shape.Length)).ToArray()));
            Assert.That(span[p + 17], Is.EqualTo((byte)0), "quant_type BQ4");
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[(p + 18)..]);
            var n = t.Values.Length;
            Assert.That(size, Is.EqualTo((uint)((n + 31) / 32 * 20)));
            var dataStart = (int)RoundUp(p + 22, 32);
            Assert.That(span[(p + 22)..dataStart].ToArray(), Is.All.EqualTo((byte)0));
            AssertBlocksDecodeClose(span.Slice(dataStart, (int)size), t.Values.Span, t.Name);
            p = dataStart + (int)size;
        }
        Assert.That(Encoding.ASCII.GetString(span[p..]), Is.EqualTo("END!"));
    }

    /// <summary>Decodes BQ4 by the formula of docs/format.md (BQ4 block) and compares with the source values.</summary>
    private static void AssertBlocksDecodeClose(ReadOnlySpan<byte> data, ReadOnlySpan<float> values, string name)
    {
        double err = 0, norm = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var block = data.Slice(i / 32 * 20, 20);
            var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var zero = (sbyte)block[2];
            Assert.That(block[3], Is.EqualTo((byte)0));
            var j = i % 32;
            var nibble = j % 2 == 0 ? block[4 + j / 2] & 0xF : block[4 + j / 2] >> 4;
            var decoded = (nibble - zero) * scale;
            err += Math.Pow(decoded - values[i], 2);
            norm += values[i] * (double)values[i];
        }
        Assert.That(Math.Sqrt(err / norm), Is.LessThan(0.1), name);
    }

    [Test]
    public void ExtraHeaderKeysComeAfterTheRequiredOnesAndMayNotReuseTheirNames()
    {
        var content = TestModels.Tiny() with { ExtraHeader = new() { ["training"] = new System.Text.Json.Nodes.JsonObject { ["steps"] = 12 } } };
        var text = Encoding.UTF8.GetString(BulletWriter.ToBytes(content).AsSpan()[..4000]).Split('\0')[0];
        Assert.That(text.IndexOf("\"training\":", StringComparison.Ordinal), Is.GreaterThan(text.IndexOf("\"weights_start\":", StringComparison.Ordinal)));
        var bad = TestModels.Tiny() with { ExtraHeader = new() { ["recipe"] = new System.Text.Json.Nodes.JsonObject { ["vocab_size"] = 3 } } };
        var e = Assert.Throws<BulletArgumentException>(() => BulletWriter.ToBytes(bad))!;
        Assert.That(e.Message, Does.Contain("vocab_size"));
    }

    [Test]
    public void WriterRejectsMissingAndMisshapedTensorsByName()
    {
        var content = TestModels.Tiny();
        var tensors = content.Tensors.Where(t => t.Name != TensorNames.FinalNorm).ToList();
        tensors[0] = tensors[0] with { Shape = [content.Dimensions.HiddenSize, content.Dimensions.VocabSize] };
        var e = Assert.Throws<BulletArgumentException>(() => BulletWriter.ToBytes(content with { Tensors = tensors }))!;
        Assert.That(e.Message, Does.Contain("required tensor \"final_layernorm.weight\" is missing"));
        Assert.That(e.Message, Does.Contain("\"tok_embeddings.weight\" has shape [32, 40], expected [40, 32]"));
    }

    [Test]
    public void WriteIsAtomicAndLeavesNoTemporaryFiles()
    {
        var dir = TestPaths.NewScratch();
        var path = Path.Combine(dir, "m.bullet");
        File.WriteAllText(path, "old");
        var bad = TestModels.Tiny() with { Tensors = [] };
        Assert.Throws<BulletArgumentException>(() => BulletWriter.Write(path, bad));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        BulletWriter.Write(path, TestModels.Tiny());
        Assert.That(BulletReader.ReadFile(path).Dimensions.VocabSize, Is.EqualTo(40));
        Assert.That(Directory.GetFiles(dir), Is.EquivalentTo(new[] { path }));
    }
}
