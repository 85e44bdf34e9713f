using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Runtime;

namespace BulletNative.Tests;

/// <summary>The SIMD forward pass against the scalar definition, on random models and on both reference fixtures.</summary>
/// <remarks>
/// The stated tolerance (docs/runtime.md): int8 activations move every logit by at most 4 % of the range of the
/// definition's logits at that position (max − min); measured 0.6–1.4 % on these models.
/// </remarks>
public class RuntimeForwardTests
{
    /// <summary>Largest logit difference allowed, as a fraction of the definition's logit range.</summary>
    internal const float LogitTolerance = 0.04f;

    internal static BulletModel RandomModel(int seed, int vocab = 60, int hidden = 64, int layers = 2, int heads = 4, int context = 64)
    {
        var dims = new ModelDimensions(hidden, layers, heads, vocab, context);
        var content = new BulletModelContent("runtime-test", dims, TestModels.Vocabulary(vocab), TestModels.RandomTensors(dims, seed));
        return BulletModel.Load(BulletWriter.ToBytes(content));
    }

    [TestCase(1, 60, 64, 2, 4)]
    [TestCase(2, 97, 32, 1, 2)]
    [TestCase(3, 40, 128, 3, 8)]
    public void FastForwardEqualsReferenceOnRandomModels(int seed, int vocab, int hidden, int layers, int heads)
    {
        var model = RandomModel(seed, vocab, hidden, layers, heads);
        var tokens = Enumerable.Range(0, 12).Select(i => (i * 7 + seed) % vocab).ToArray();
        AssertSameLogits(model, tokens, threads: 1);
    }

    [Test]
    public void ThreadedFastForwardEqualsReference()
    {
        var model = RandomModel(4, vocab: 300, hidden: 256, layers: 1, heads: 4);
        AssertSameLogits(model, [5, 6, 7, 8], threads: 2);
    }

    [TestCase("reference-597vocab.bullet")]
    [TestCase("reference-tiny.bullet")]
    public void FastForwardEqualsReferenceOnFixtures(string name)
    {
        var model = BulletModel.Load(TestPaths.Fixture(name));
        var vocab = model.Dimensions.VocabSize;
        AssertSameLogits(model, Enumerable.Range(0, 10).Select(i => i * 13 % vocab).ToArray(), threads: 1);
    }

    [Test]
    public void ZeroNormFixtureGivesFiniteEqualLogits()
    {
        var model = BulletModel.Load(TestPaths.Fixture("reference-597vocab.bullet"));
        Assert.That(model.Warnings, Has.Some.Contains("decodes to all zeros"));
        var logits = new float[model.Dimensions.VocabSize];
        var pass = new FastForward(model);
        pass.Forward(3, logits);
        pass.Forward(4, logits);
        Assert.That(logits.All(float.IsFinite));
        Assert.That(logits.Distinct().Count(), Is.EqualTo(1));
    }

    [Test]
    public void AttentionWeightsAreCausalDistributionsAndMatchReference()
    {
        var model = RandomModel(5, layers: 2, heads: 4);
        var fast = new FastForward(model);
        var reference = new ReferenceForward(model);
        for (var p = 0; p < 6; p++)
        {
            var size = 2 * 4 * (p + 1);
            float[] a = new float[size], b = new float[size];
            fast.Forward(p + 1, default, a);
            reference.Forward(p + 1, default, b);
            Assert.That(a, Is.EqualTo(b).Within(5e-3f));
            for (var row = 0; row < 8; row++)
                Assert.That(a.AsSpan(row * (p + 1), p + 1).ToArray().Sum(), Is.EqualTo(1f).Within(1e-5f));
        }
    }

    [Test]
    public void InvalidTokenAndFullContextAreClearErrors()
    {
        var model = RandomModel(6, vocab: 50, context: 3);
        var pass = new FastForward(model);
        var logits = new float[50];
        Assert.That(() => pass.Forward(50, logits), Throws.TypeOf<BulletArgumentException>().With.Message.Contains("outside the vocabulary"));
        for (var i = 0; i < 3; i++) pass.Forward(i, logits);
        Assert.That(() => pass.Forward(1, logits), Throws.TypeOf<BulletArgumentException>().With.Message.Contains("context of 3 tokens is full"));
        pass.Reset();
        pass.Forward(1, logits);
        Assert.That(pass.Position, Is.EqualTo(1));
    }

    [Test]
    public void GenerationHeadIsPreferredWhenPresent()
    {
        var dims = new ModelDimensions(32, 1, 2, 30, 16);
        var tensors = TestModels.RandomTensors(dims, 7);
        var head = new float[30 * 32];
        head[5 * 32] = 1; // only row 5 sees the first hidden value
        tensors.Add(new TensorData(TensorNames.GenerationHead, [30, 32], head));
        var model = BulletModel.Load(BulletWriter.ToBytes(new BulletModelContent("gen", dims, TestModels.Vocabulary(30), tensors)));
        Assert.That(model.HeadName, Is.EqualTo(TensorNames.GenerationHead));
        var logits = new float[30];
        new FastForward(model).Forward(2, logits);
        Assert.That(logits.Count(v => v != 0), Is.EqualTo(1));
    }

    [Test]
    public void TruncatedFileFailsToLoad()
    {
        var bytes = BulletWriter.ToBytes(TestModels.Tiny());
        Assert.That(() => BulletModel.Load(bytes.AsMemory(0, bytes.Length - 100)), Throws.TypeOf<BulletFormatException>());
    }

    /// <summary>Every position's logits within <see cref="LogitTolerance"/> of the definition's logit range.</summary>
    internal static void AssertSameLogits(BulletModel model, int[] tokens, int threads)
    {
        var vocab = model.Dimensions.VocabSize;
        var fast = new FastForward(model, threads);
        var reference = new ReferenceForward(model);
        float[] a = new float[vocab], b = new float[vocab];
        foreach (var token in tokens)
        {
            fast.Forward(token, a);
            reference.Forward(token, b);
            Assert.That(a.All(float.IsFinite));
            var range = b.Max() - b.Min();
            Assert.That(a, Is.EqualTo(b).Within(LogitTolerance * range + 1e-6f), $"position {fast.Position - 1}, logit range {range}");
        }
    }
}
