using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// Every trainable weight as a view into one flat buffer, and its gradient as a view into a second one. Clipping,
/// AdamW and the EMA then run a few whole-buffer operations per step instead of several per tensor (38 tensors in
/// shakespeare-char), which cut their share of a step from ~5 ms to ~1 ms (bench train_step_profile).
/// Backward accumulates into the gradient views in place, so <see cref="ZeroGradients"/> replaces setting them to none.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly List<(string Name, long Offset, long[] Shape)> _slots = [];

    /// <summary>All weights, end to end, in the order given.</summary>
    public Tensor Weights { get; }

    /// <summary>All gradients, in the same layout as <see cref="Weights"/>.</summary>
    public Tensor Gradients { get; }

    /// <summary>Moves each parameter's values into the flat buffer and makes the parameter (and its gradient) a view of it.</summary>
    public FlatParameters(IEnumerable<(string Name, Parameter Weight)> weights)
    {
        var list = weights.ToList();
        var total = list.Sum(w => w.Weight.numel());
        Weights = empty(total).DetachFromDisposeScope();
        Gradients = zeros(total).DetachFromDisposeScope();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long offset = 0;
        foreach (var (name, weight) in list)
        {
            var shape = weight.shape;
            var view = Slice(Weights, offset, shape);
            view.copy_(weight);
            weight.set_(view);
            weight.grad = Slice(Gradients, offset, shape);
            _slots.Add((name, offset, shape));
            offset += weight.numel();
        }
    }

    /// <summary>Per-parameter views (by name) into <paramref name="flat"/>, a buffer laid out like <see cref="Weights"/>.</summary>
    public IEnumerable<(string Name, Tensor View)> Views(Tensor flat) =>
        _slots.Select(s => (s.Name, Slice(flat, s.Offset, s.Shape)));

    /// <summary>A flat 0/1 mask, 1 where <paramref name="select"/> holds for the parameter's name and shape.</summary>
    public Tensor Mask(Func<string, long[], bool> select)
    {
        var mask = zeros(Weights.numel()).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        foreach (var (name, offset, shape) in _slots)
            if (select(name, shape)) mask.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).fill_(1);
        return mask;
    }

    /// <summary>Clears every gradient for the next step (in place: the parameters keep their views).</summary>
    public void ZeroGradients() => Gradients.zero_();

    private static Tensor Slice(Tensor flat, long offset, long[] shape) =>
        flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).view(shape);

    public void Dispose()
    {
        Weights.Dispose();
        Gradients.Dispose();
    }
}
