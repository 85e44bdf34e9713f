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
        Assert.That((string?)result["verified_on"], Is.EqualTo("validation"), "this corpus holds a validation part");
    }

    [TestCase(false, 0.05)]
    [TestCase(true, 0.02)]
    public void BQ4_file_perplexity_stays_close_to_the_float_model_on_bundled_data(bool qat, double tolerance)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "python", "bullet_dashboard", "datasets", "children_stories.txt"));
        var config = new TrainConfig
        {
            Tokenizer = "char", VocabSize = 0, HiddenSize = 64, NumLayers = 2, NumHeads = 2, MaxSeqLen = 64, BatchSize = 8,
            LearningRate = 3e-3, WarmupSteps = 10, TotalSteps = 160, EvalEvery = 0, SampleEvery = 0, AttentionEvery = 0,
            Qat = qat, QatStartStep = 80,
        };
        using var trainer = new Trainer(config, TokenizerCodec.Prepare(config, text));
        for (var i = 0; i < config.TotalSteps; i++) trainer.TrainStep();

        var result = ModelExporter.ExportBullet(trainer, Path.Combine(TestPaths.NewScratch(), "stories.bullet"),
            new ExportOptions("stories", VerifyWindows: 256));
        var ratio = result["perplexity_ratio"]!.GetValue<double>();
        TestContext.Out.WriteLine($"QAT {qat}: float val perplexity {result["float_perplexity"]}, BQ4 file {result["bq4_perplexity"]}, ratio {ratio:F4}");
        Assert.That(result["float_val_loss"]!.GetValue<double>(), Is.LessThan(2.6), "the model learned something");
        Assert.That(ratio, Is.InRange(1 - tolerance, 1 + tolerance));
    }

    [Test]
    public void Float_export_is_a_folder_the_builder_packs_into_the_same_bullet()
    {
        var config = TestCodec.TinyConfig();
        var text = string.Concat(Enumerable.Repeat("the cat sat on the mat. a dog ate the hat. ", 40));
        using var trainer = new Trainer(config, TokenizerCodec.Prepare(config, text));
        for (var i = 0; i < 5; i++) trainer.TrainStep();
        var folder = TestPaths.NewScratch();
        ModelExporter.ExportFloat(trainer, folder, "tiny");
        var (tensors, _) = Safetensors.ReadFile(Path.Combine(folder, "model.safetensors"));
        Assert.That(tensors.Select(t => t.Name), Is.EqualTo(trainer.Model.NamedWeights.Select(w => w.Name)));

        var direct = Path.Combine(folder, "direct.bullet");
        ModelExporter.ExportBullet(trainer, direct, new ExportOptions("tiny"));
        var built = Path.Combine(folder, "built.bullet");
        BulletNative.Builder.BuildRequest.Run(folder, built, []);
        var a = BulletReader.ReadFile(direct);
        var b = BulletReader.ReadFile(built);
        Assert.That(b.Vocabulary.Tokens, Is.EqualTo(a.Vocabulary.Tokens));
        foreach (var (name, _) in trainer.Model.NamedWeights)
            Assert.That(b.TensorData(name).ToArray(), Is.EqualTo(a.TensorData(name).ToArray()), name);
    }
}
