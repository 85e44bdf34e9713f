using BulletNative.Format;
using BulletNative.Runtime;
using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>A model from the trainer, run by the runtime, against its float weights fake-quantized to BQ4.</summary>
public class RuntimeTrainedModelTests
{
    [Test]
    public void TrainedModelGeneratesTheGreedyTextOfItsFakeQuantizedFloatModel()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 60;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        for (var i = 0; i < 60; i++) trainer.TrainStep();
        var path = Path.Combine(TestPaths.NewScratch(), "trained.bullet");
        ModelExporter.ExportBullet(trainer, path, new ExportOptions("trained", ""));

        // The float model's forward pass with every weight passed through BQ4 and back (fake quantization).
        var fake = trainer.ExportWeights().ToDictionary(w => w.Name, w =>
        {
            var bytes = new byte[Bq4.ByteCount(w.Data.Length)];
            Bq4.Quantize(w.Data, bytes);
            var values = new float[w.Data.Length];
            Bq4.Dequantize(bytes, values);
            return values;
        });
        var codec = trainer.Data.Codec;
        var model = BulletModel.Load(path);
        var prompt = codec.Encode("the c");
        var sequence = prompt.ToList();
        sequence.AddRange(new FloatForward(model.Dimensions, fake).Greedy(prompt, 10));
        // The runtime's logits stay within the stated tolerance of the definition on this trained model.
        RuntimeForwardTests.AssertSameLogits(model, sequence.ToArray(), threads: 1);

        var generator = new Generator(model, prompt, new GenerationOptions { Temperature = 0, MaxTokens = 10 });
        var text = generator.Complete();
        Assert.That(generator.Sequence.Tokens, Is.EqualTo(sequence.Skip(prompt.Length)));
        Assert.That(text, Is.EqualTo(codec.Decode(sequence.Skip(prompt.Length).ToList())));
        TestContext.Out.WriteLine($"greedy continuation of \"the c\": \"{text}\"");
    }
}
