using BulletNative.Model;
using BulletNative.Training;
using static TorchSharp.torch;

namespace BulletNative.Tests;

/// <summary>The flat weight/gradient buffers behind AdamW, clipping and the EMA.</summary>
public class FlatParametersTests
{
    private static BulletTransformer TinyModel(bool tied = false) =>
        new(new ModelConfig(VocabSize: 7, HiddenSize: 32, NumLayers: 1, NumHeads: 2, MaxContext: 5, TiedHead: tied), new Generator(3));

    [Test]
    public void Backward_accumulates_into_the_flat_gradients_and_zeroing_clears_them()
    {
        using var model = TinyModel(tied: true);
        var before = model.TrainableWeights.Select(w => w.Weight.detach().clone()).ToList();
        using var flat = new FlatParameters(model.TrainableWeights);
        Assert.That(flat.Weights.numel(), Is.EqualTo(model.TrainableWeights.Sum(w => w.Weight.numel())));
        foreach (var ((_, weight), original) in model.TrainableWeights.Zip(before))
            Assert.That(weight.detach().allclose(original, rtol: 0, atol: 0), "values survive the move into the buffer");

        model.forward(tensor(new long[] { 1, 2, 3 }, [1, 3])).sum().backward();
        var fromViews = model.TrainableWeights.Sum(w => w.Weight.grad!.abs().sum().item<float>());
        Assert.That(fromViews, Is.GreaterThan(0));
        Assert.That(flat.Gradients.abs().sum().item<float>(), Is.EqualTo(fromViews).Within(1e-3 * fromViews), "the views are the buffer");

        flat.ZeroGradients();
        Assert.That(model.TrainableWeights.All(w => w.Weight.grad!.abs().sum().item<float>() == 0));
        model.forward(tensor(new long[] { 1, 2, 3 }, [1, 3])).sum().backward();
        Assert.That(flat.Gradients.abs().sum().item<float>(), Is.EqualTo(fromViews).Within(1e-3 * fromViews), "a fresh backward after zeroing");
    }

    [Test]
    public void Weight_decay_shrinks_matrices_but_not_norms_or_the_embedding()
    {
        using var model = TinyModel();
        using var flat = new FlatParameters(model.TrainableWeights);
        using var optimizer = new AdamW(flat, 0.9, 0.99, 1e-8, weightDecay: 0.1);
        var before = model.TrainableWeights.ToDictionary(w => w.Name, w => w.Weight.detach().clone());
        optimizer.Step(lr: 0.5); // zero gradients: only decay moves anything

        foreach (var (name, weight) in model.TrainableWeights)
        {
            var decayed = weight.dim() >= 2 && name != "tok_embeddings.weight";
            var expected = decayed ? before[name] * 0.95 : before[name];
            Assert.That(weight.detach().allclose(expected, rtol: 1e-6, atol: 1e-7), name);
        }
    }

    [Test]
    public void Clipping_scales_the_gradient_norm_down_to_the_limit_and_reports_the_norm_before()
    {
        using var model = TinyModel();
        using var flat = new FlatParameters(model.TrainableWeights);
        using var optimizer = new AdamW(flat, 0.9, 0.99, 1e-8, 0);
        flat.Gradients.fill_(1.0);
        var norm = flat.ClipGradients(maxNorm: 2.0);
        Assert.That(norm, Is.EqualTo(Math.Sqrt(flat.Gradients.numel())).Within(1e-3));
        Assert.That(flat.Gradients.norm().item<float>(), Is.EqualTo(2.0).Within(1e-4));
        Assert.That(flat.ClipGradients(maxNorm: 5.0), Is.EqualTo(2.0).Within(1e-4), "below the limit nothing changes");
        Assert.That(flat.Gradients.norm().item<float>(), Is.EqualTo(2.0).Within(1e-4));
    }
}
