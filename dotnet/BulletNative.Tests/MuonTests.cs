using BulletNative.Training;
using static TorchSharp.torch;

namespace BulletNative.Tests;

public class MuonTests
{
    [TestCase(48, 96)]
    [TestCase(96, 48)]
    [TestCase(32, 128)]
    public void Orthogonalizing_a_random_matrix_brings_its_singular_values_near_1_in_the_directions_of_its_svd(int rows, int cols)
    {
        using var scope = NewDisposeScope();
        // Columns scaled over two decades: far from orthogonal. (A square Gaussian matrix is a poor case: its smallest
        // singular value is near 0, and no five iterations lift that to 1; gradients of these shapes are not like that.)
        var g = randn(rows, cols, generator: new Generator(5)) * logspace(0, 2, cols);
        var o = Muon.Orthogonalize(g);
        var (u, s, vh) = linalg.svd(g, fullMatrices: false);
        var before = s.data<float>().ToArray();
        var after = linalg.svdvals(o).data<float>().ToArray();
        Assert.That(before.Max() / before.Min(), Is.GreaterThan(8));
        // Five quintic iterations tuned for speed bring every singular value to about [0.7, 1.2], not exactly 1.
        Assert.That(after, Has.All.InRange(0.6f, 1.25f), string.Join(", ", after.Select(v => v.ToString("F3"))));
        var polar = u.matmul(vh);
        var distance = (o - polar).norm().item<float>() / polar.norm().item<float>();
        Assert.That(distance, Is.LessThan(0.3), "the same directions as U·Vᵀ of the SVD");
    }

    [Test]
    public void A_batch_is_orthogonalized_matrix_by_matrix()
    {
        using var scope = NewDisposeScope();
        var batch = randn(3, 32, 128, generator: new Generator(9));
        var together = Muon.Orthogonalize(batch);
        for (var i = 0; i < 3; i++)
            Assert.That(together[i].allclose(Muon.Orthogonalize(batch[i]), rtol: 1e-4, atol: 1e-5), $"matrix {i}");
    }

    [Test]
    public void Training_with_muon_lowers_the_loss_and_leaves_the_embedding_to_adamw()
    {
        var config = TestCodec.TinyConfig();
        config.Optimizer = "muon";
        config.TotalSteps = 40;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        var before = trainer.Evaluate()!.Value;
        var losses = Enumerable.Range(0, 40).Select(_ => trainer.TrainStep().TrainLoss).ToArray();
        Assert.That(losses[^5..].Average(), Is.LessThan(losses[..5].Average() - 0.5));
        Assert.That(trainer.Evaluate()!.Value, Is.LessThan(before - 0.5));
    }

    [Test]
    public void A_muon_run_resumes_from_its_checkpoint_on_the_same_curve()
    {
        var config = TestCodec.TinyConfig();
        config.Optimizer = "muon";
        config.TotalSteps = 8;
        var data = TestCodec.Corpus(config);
        double[] straight;
        using (var trainer = new Trainer(config, data)) straight = Enumerable.Range(0, 8).Select(_ => trainer.TrainStep().TrainLoss).ToArray();
        var folder = Path.Combine(TestPaths.NewScratch(), "step-4");
        using (var trainer = new Trainer(config, data))
        {
            for (var i = 0; i < 4; i++) trainer.TrainStep();
            trainer.SaveCheckpoint(folder);
        }
        using var resumed = new Trainer(config, data);
        resumed.LoadCheckpoint(folder);
        Assert.That(Enumerable.Range(0, 4).Select(_ => resumed.TrainStep().TrainLoss), Is.EqualTo(straight[4..]).Within(1e-6));
    }
}
