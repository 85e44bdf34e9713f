using BulletNative.Model;
using static TorchSharp.torch;

namespace BulletNative.Tests;

public class FakeBq4Tests
{
    [Test]
    public void Forward_snaps_each_block_to_16_levels_and_the_gradient_passes_straight_through()
    {
        TorchNatives.EnsureLoaded();
        using var weight = randn(4, 64).requires_grad_();
        using var quantized = FakeBq4.Apply(weight);
        var values = quantized.detach().data<float>().ToArray();
        var original = weight.detach().data<float>().ToArray();
        for (var block = 0; block < values.Length / 32; block++)
        {
            var slice = values.Skip(block * 32).Take(32).ToArray();
            Assert.That(slice.Distinct().Count(), Is.LessThanOrEqualTo(16));
            var range = original.Skip(block * 32).Take(32).Max() - original.Skip(block * 32).Take(32).Min();
            for (var i = 0; i < 32; i++)
                Assert.That(Math.Abs(slice[i] - original[block * 32 + i]), Is.LessThanOrEqualTo(range / 15 * 0.51 + 1e-6));
        }
        using var scale = arange(256, dtype: ScalarType.Float32).view(4, 64);
        (quantized * scale).sum().backward();
        Assert.That(weight.grad!.data<float>().ToArray(), Is.EqualTo(scale.data<float>().ToArray()));
    }
}
