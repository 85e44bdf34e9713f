using static TorchSharp.torch;

namespace BulletNative.Model;

/// <summary>
/// Fake BQ4 for quantization-aware training: each block of 32 values snaps to 16 levels between its min and max
/// (the min/max rule of docs/format.md, BQ4 block), and gradients pass straight through as if nothing had changed.
/// The exporter's quantizer searches for a better scale, so the file is at least this good.
/// </summary>
public static class FakeBq4
{
    /// <summary>The weight with its forward value replaced by its 4-bit reconstruction; the gradient is the identity.</summary>
    public static Tensor Apply(Tensor weight)
    {
        using var scope = NewDisposeScope();
        var blocks = weight.detach().reshape(-1, 32);
        var min = blocks.amin([1], keepdim: true);
        var max = blocks.amax([1], keepdim: true);
        var scale = ((max - min) / 15).clamp_min(1e-8);
        var zero = (-min / scale).round();
        var levels = (blocks / scale).round().add(zero).clamp(0, 15);
        var restored = ((levels - zero) * scale).reshape(weight.shape);
        return (weight + (restored - weight.detach())).MoveToOuterDisposeScope();
    }
}
