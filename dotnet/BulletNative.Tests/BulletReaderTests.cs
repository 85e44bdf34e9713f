using BulletNative.Format;

namespace BulletNative.Tests;

public class BulletReaderTests
{
    [Test]
    public void Reference597FixtureLoadsWithDocumentedValuesAndQuirks()
    {
        var file = BulletReader.ReadFile(TestPaths.Fixture("reference-597vocab.bullet"));
        var d = file.Dimensions;
        Assert.That((d.HiddenSize, d.NumLayers, d.NumHeads, d.VocabSize, d.MaxContext), Is.EqualTo((128, 4, 4, 597, 64)));
        Assert.That(file.Entries, Has.Count.EqualTo(39));
        Assert.That(file.Vocabulary.Count, Is.EqualTo(597));
        Assert.That(file.Vocabulary.Merges, Is.Empty);
        Assert.That(file.Header.TokenizerStart, Is.EqualTo(4096));
        Assert.That(file.Header.WeightsStart, Is.EqualTo(17856));
        Assert.That(file.Tensor(TensorNames.Embedding).Dims, Is.EqualTo(new[] { 2000, 128 }));
        Assert.That(file.Tensor(TensorNames.FfnGate(3)).Dims, Is.EqualTo(new[] { 512, 128 }));
        Assert.That(file.Warnings, Has.Some.Contains("\"tok_embeddings.weight\" has 2000 rows for a vocabulary of 597"));
        Assert.That(file.Warnings, Has.Some.Contains("\"output_head.weight\" has 2000 rows"));
        // The reference quantizer's scale underflow: every RMSNorm weight decodes to 0.
        Assert.That(file.Dequantize(TensorNames.AttentionNorm(0)), Is.All.EqualTo(0f));
        Assert.That(file.Dequantize(TensorNames.FinalNorm), Is.All.EqualTo(0f));
    }

    [Test]
    public void ReferenceTinyFixtureLoadsAndReportsItsUnnamedTensors()
    {
        var file = BulletReader.ReadFile(TestPaths.Fixture("reference-tiny.bullet"));
        var d = file.Dimensions;
        Assert.That((d.HiddenSize, d.NumLayers, d.NumHeads, d.VocabSize), Is.EqualTo((32, 1, 2, 100)));
        Assert.That(file.Entries, Has.Count.EqualTo(23));
        Assert.That(file.Tensors, Has.Count.EqualTo(12));
        Assert.That(file.Warnings.Count(w => w.Contains("unknown name")), Is.EqualTo(11));
        Assert.That(file.Vocabulary.TokenText(0), Is.EqualTo("token_0"));
        Assert.That(file.Vocabulary.TokenText(99), Is.EqualTo("token_99"));
        Assert.That(file.Vocabulary.Scores, Is.All.EqualTo(1f));
    }

    [Test]
    public void OurFileRoundTripsThroughTheReader()
    {
        var content = TestModels.Tiny(vocab: 45, layers: 2);
        var file = BulletReader.Read(BulletWriter.ToBytes(content));
        Assert.That(file.Warnings, Is.Empty);
        Assert.That(file.Dimensions, Is.EqualTo(content.Dimensions));
        Assert.That(file.Vocabulary.Tokens, Is.EqualTo(content.Vocabulary.Tokens));
        Assert.That(file.Vocabulary.Scores, Is.EqualTo(content.Vocabulary.Scores));
        Assert.That(file.Vocabulary.Merges.Select(m => (m.A, m.B)), Is.EqualTo(content.Vocabulary.Merges.Select(m => (m.A, m.B))));
        foreach (var t in content.Tensors)
        {
            var back = file.Dequantize(t.Name);
            var span = t.Values.Span;
            double err = 0, norm = 0;
            for (var i = 0; i < span.Length; i++) { err += Math.Pow(span[i] - back[i], 2); norm += span[i] * (double)span[i]; }
            Assert.That(Math.Sqrt(err / norm), Is.LessThan(0.12), t.Name);
        }
    }

    [Test]
    public void MissingRequiredTensorIsNamedInTheError()
    {
        var content = TestModels.Tiny();
        var bytes = BulletWriter.ToBytes(content);
        // Corrupt the name hash of the first table entry (the embedding) so it no longer names a known tensor.
        var tableStart = (int)BulletReader.Read(bytes).Header.WeightsStart + 8;
        bytes[tableStart] ^= 0xFF;
        var e = Assert.Throws<BulletFormatException>(() => BulletReader.Read(bytes))!;
        Assert.That(e.Message, Does.Contain("required tensor \"tok_embeddings.weight\" is missing"));
    }

    [TestCase(0, "too short")]
    [TestCase(7, "too short")]
    public void TruncatedFilesFailClearly(int length, string message)
    {
        var bytes = BulletWriter.ToBytes(TestModels.Tiny());
        var e = Assert.Throws<BulletFormatException>(() => BulletReader.Read(bytes.AsMemory(0, length)))!;
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void BytesAfterTheFooterAreAnError()
    {
        var bytes = BulletWriter.ToBytes(TestModels.Tiny()).Concat(new byte[] { 1, 2 }).ToArray();
        var e = Assert.Throws<BulletFormatException>(() => BulletReader.Read(bytes))!;
        Assert.That(e.Message, Does.Contain("follow the \"END!\" footer"));
    }

    [Test]
    public void VocabCountDisagreeingWithHeaderIsAnError()
    {
        var bytes = BulletWriter.ToBytes(TestModels.Tiny(vocab: 40));
        var text = System.Text.Encoding.ASCII.GetString(bytes, 0, 400);
        var at = text.IndexOf("\"vocab_size\": 40", StringComparison.Ordinal) + "\"vocab_size\": 4".Length;
        bytes[at] = (byte)'1';
        var e = Assert.Throws<BulletFormatException>(() => BulletReader.Read(bytes))!;
        Assert.That(e.Message, Does.Contain("holds 40 tokens but the header says vocab_size 41"));
    }

    [TestCase("\"num_heads\": 2", "\"num_heads\": \"2\"", "the header: dimensions.num_heads must be an integer, not \"2\"")]
    [TestCase("\"architecture\"", "\"architectur\"", "the header has no \"architecture\"")]
    [TestCase("\"quantization\": {", "\"quantization\": 4, \"q\": {", "the header: quantization must be an object, not 4")]
    public void IllTypedOrMissingHeaderFieldsAreNamed(string original, string replacement, string message)
    {
        var text = new BulletHeader("tiny", new ModelDimensions(32, 1, 2, 40, 64), 512, 1024).ToText();
        Assert.That(text, Does.Contain(original));
        var e = Assert.Throws<BulletFormatException>(() => BulletHeader.Parse(text.Replace(original, replacement), []))!;
        Assert.That(e.Message, Is.EqualTo(message));
    }
}
