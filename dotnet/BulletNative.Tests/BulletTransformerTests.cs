using BulletNative.Format;
using BulletNative.Model;
using BulletNative.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace BulletNative.Tests;

public class BulletTransformerTests
{
    private static readonly ModelConfig Tiny = new(VocabSize: 13, HiddenSize: 32, NumLayers: 2, NumHeads: 2, MaxContext: 8);

    [OneTimeSetUp]
    public void LoadTorch() => TorchNatives.EnsureLoaded();

    [TestCase(false)]
    [TestCase(true)]
    public void Logits_and_attention_match_a_plain_forward_pass_of_the_spec(bool tied)
    {
        manual_seed(7);
        using var model = new BulletTransformer(Tiny with { TiedHead = tied });
        model.eval();
        // Larger-than-init weights so attention is far from uniform and every term matters.
        using (no_grad())
            foreach (var (_, p) in model.TrainableWeights) p.mul_(p.dim() == 1 ? 1.0 : 10.0).add_(p.dim() == 1 ? 0.1 : 0.0);
        int[] tokens = [3, 0, 12, 5, 5, 7, 1];
        var weights = model.NamedWeights.ToDictionary(w => w.Name, w => w.Weight.detach().data<float>().ToArray());
        // The definition of the forward pass, one token at a time: logits [p][v] and attention [p][layer, head, p + 1].
        var definition = new FloatForward(new ModelDimensions(Tiny.HiddenSize, Tiny.NumLayers, Tiny.NumHeads, Tiny.VocabSize, Tiny.MaxContext), weights);
        var expectedAttention = tokens.Select((_, p) => new float[Tiny.NumLayers * Tiny.NumHeads * (p + 1)]).ToArray();
        var expected = tokens.Select((token, p) => definition.Forward(token, expectedAttention[p])).ToArray();

        using var ids = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]);
        using var logits = model.forward(ids);
        var actual = logits.data<float>().ToArray();
        Assert.That(logits.shape, Is.EqualTo(new long[] { 1, tokens.Length, Tiny.VocabSize }));
        var maxError = 0.0;
        for (var p = 0; p < tokens.Length; p++)
            for (var v = 0; v < Tiny.VocabSize; v++)
                maxError = Math.Max(maxError, Math.Abs(actual[p * Tiny.VocabSize + v] - expected[p][v]));
        Assert.That(maxError, Is.LessThan(1e-4));
        Assert.That(expected.SelectMany(r => r).Max(Math.Abs), Is.GreaterThan(0.5), "logits too small to test anything");

        using var maps = model.AttentionMaps(ids[0]);
        Assert.That(maps.shape, Is.EqualTo(new long[] { Tiny.NumLayers, Tiny.NumHeads, tokens.Length, tokens.Length }));
        var probs = maps.data<float>().ToArray();
        var n = tokens.Length;
        for (var l = 0; l < Tiny.NumLayers; l++)
            for (var h = 0; h < Tiny.NumHeads; h++)
                for (var p = 0; p < n; p++)
                    for (var t = 0; t < n; t++)
                    {
                        var want = t <= p ? expectedAttention[p][(l * Tiny.NumHeads + h) * (p + 1) + t] : 0.0;
                        Assert.That(probs[((l * Tiny.NumHeads + h) * n + p) * n + t], Is.EqualTo(want).Within(1e-5));
                    }
    }

    [Test]
    public void Parameter_paths_are_the_bullet_tensor_names()
    {
        using var model = new BulletTransformer(Tiny);
        var registered = model.named_parameters().Select(p => p.name).ToHashSet();
        var named = model.NamedWeights.Select(w => w.Name).ToList();
        Assert.That(registered, Is.EquivalentTo(named));
        Assert.That(named, Does.Contain("layers.1.attention.query.weight").And.Contain("layers.0.norm.ffn.weight")
            .And.Contain("layers.1.ffn.w2.weight").And.Contain("final_layernorm.weight").And.Contain("output_head.weight"));
        Assert.That(named.Count, Is.EqualTo(3 + 9 * Tiny.NumLayers));
        Assert.That(model.TrainableWeights.Sum(w => w.Weight.numel()), Is.EqualTo(Tiny.ParameterCount));
    }

    [Test]
    public void Tied_head_shares_one_tensor_with_the_embedding()
    {
        using var model = new BulletTransformer(Tiny with { TiedHead = true });
        var byName = model.NamedWeights.ToDictionary(w => w.Name, w => w.Weight);
        Assert.That(byName["output_head.weight"], Is.SameAs(byName["tok_embeddings.weight"]));
        Assert.That(model.TrainableWeights.Count(), Is.EqualTo(model.NamedWeights.Count - 1));
    }

    [Test]
    public void Gradients_match_finite_differences()
    {
        var config = new ModelConfig(VocabSize: 7, HiddenSize: 32, NumLayers: 1, NumHeads: 2, MaxContext: 5);
        manual_seed(3);
        set_default_dtype(ScalarType.Float64);
        BulletTransformer model;
        try { model = new BulletTransformer(config); }
        finally { set_default_dtype(ScalarType.Float32); }
        using var _ = model;
        using (no_grad())
            foreach (var (_, p) in model.TrainableWeights) p.mul_(p.dim() == 1 ? 1.0 : 5.0);
        using var ids = tensor(new long[] { 1, 4, 6, 2, 0, 3, 3, 5 }, [2, 4]);
        using var targets = tensor(new long[] { 4, 6, 2, 0, 3, 3, 5, 1 }, [2, 4]);
        double Loss()
        {
            using var logits = model.forward(ids);
            using var loss = nn.functional.cross_entropy(logits.view(-1, config.VocabSize), targets.view(-1));
            return loss.item<double>();
        }
        using (var logits = model.forward(ids))
        using (var loss = nn.functional.cross_entropy(logits.view(-1, config.VocabSize), targets.view(-1)))
            loss.backward();

        var random = new Random(5);
        var checkedCount = 0;
        foreach (var (name, p) in model.TrainableWeights)
        {
            var grad = p.grad!;
            for (var sample = 0; sample < 3; sample++)
            {
                var index = random.NextInt64(p.numel());
                var flat = p.detach().view(-1);
                var original = flat[index].item<double>();
                const double h = 1e-6;
                using (no_grad()) flat[index] = original + h;
                var plus = Loss();
                using (no_grad()) flat[index] = original - h;
                var minus = Loss();
                using (no_grad()) flat[index] = original;
                var numeric = (plus - minus) / (2 * h);
                var analytic = grad.view(-1)[index].item<double>();
                Assert.That(analytic, Is.EqualTo(numeric).Within(1e-6 + 1e-4 * Math.Abs(numeric)), $"{name}[{index}]");
                checkedCount++;
            }
        }
        Assert.That(checkedCount, Is.EqualTo(3 * model.TrainableWeights.Count()));
    }
}
