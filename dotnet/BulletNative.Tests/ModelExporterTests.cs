using BulletNative.Format;
using BulletNative.Training;

namespace BulletNative.Tests;

public class ModelExporterTests
{
    [Test]
    public void Exported_bullet_reloads_and_matches_the_float_model()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 60;
        config.TiedHead = true;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        for (var i = 0; i < 60; i++) trainer.TrainStep();
        var path = Path.Combine(TestPaths.NewScratch(), "tiny.bullet");

        var result = ModelExporter.ExportBullet(trainer, path, new ExportOptions("tiny-test", "a test model"));
        TestContext.Out.WriteLine(result.ToJsonString());

        var file = BulletReader.ReadFile(path);
        Assert.That(file.Dimensions.VocabSize, Is.EqualTo(trainer.Data.Codec.VocabSize));
        Assert.That(file.Header.Extra!["training_metrics"]!["top1_agreement"]!.GetValue<double>(), Is.EqualTo(result["top1_agreement"]!.GetValue<double>()));
        Assert.That(file.Dequantize("output_head.weight"), Is.EqualTo(file.Dequantize("tok_embeddings.weight")), "a tied head is stored under both names");
        var ratio = result["perplexity_ratio"]!.GetValue<double>();
        Assert.That(ratio, Is.InRange(0.95, 1.05));
        Assert.That(result["top1_agreement"]!.GetValue<double>(), Is.GreaterThan(0.9));
        Assert.That(result["float_val_loss"]!.GetValue<double>(), Is.LessThan(2.0), "the model trained");
    }

    [Test]
    public void Float_export_writes_safetensors_with_the_bullet_names()
    {
        var config = TestCodec.TinyConfig();
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        var folder = TestPaths.NewScratch();
        ModelExporter.ExportFloat(trainer, folder);
        var (tensors, _) = Safetensors.ReadFile(Path.Combine(folder, "model.safetensors"));
        Assert.That(tensors.Select(t => t.Name), Is.EqualTo(trainer.Model.NamedWeights.Select(w => w.Name)));
        Assert.That(File.ReadAllText(Path.Combine(folder, "config.json")), Does.Contain("\"hidden_size\": 32"));
    }
}
