using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>Where one parameter lives in the flat buffers.</summary>
public sealed record FlatSlot(string Name, long Offset, long[] Shape)
{
    /// <summary>Number of values.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Every trainable weight as a view into one flat buffer, and its gradient as a view into a second one. Clipping,
/// the optimizers and the EMA then run a few whole-buffer operations per step instead of several per tensor (38
/// tensors in shakespeare-char), which cut their share of a step from ~5 ms to ~1 ms (bench train_step_profile).
/// Backward accumulates into the gradient views in place, so <see cref="ZeroGradients"/> replaces setting them to none.
/// The order of the weights is the caller's: an optimizer that owns a contiguous run of them works on one
/// <see cref="Segment"/> of the buffers.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly List<FlatSlot> _slots = [];

    /// <summary>All weights, end to end, in the order given.</summary>
    public Tensor Weights { get; }

    /// <summary>All gradients, in the same layout as <see cref="Weights"/>.</summary>
    public Tensor Gradients { get; }

    /// <summary>Each parameter's place, in buffer order.</summary>
    public IReadOnlyList<FlatSlot> Slots => _slots;

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
            var slot = new FlatSlot(name, offset, weight.shape);
            var view = Slice(Weights, slot.Offset, slot.Shape);
            view.copy_(weight);
            weight.set_(view);
            weight.grad = Slice(Gradients, slot.Offset, slot.Shape);
            _slots.Add(slot);
            offset += slot.Count;
        }
    }

    /// <summary>The whole buffer as one segment.</summary>
    public FlatSegment All => new(this, _slots);

    /// <summary>The contiguous run of slots for which <paramref name="select"/> holds; throws when they are not contiguous.</summary>
    public FlatSegment Segment(Func<FlatSlot, bool> select)
    {
        var chosen = _slots.Where(select).ToList();
        for (var i = 1; i < chosen.Count; i++)
            if (chosen[i].Offset != chosen[i - 1].Offset + chosen[i - 1].Count)
                throw new InvalidOperationException($"{chosen[i].Name} does not follow {chosen[i - 1].Name} in the flat buffer");
        return new FlatSegment(this, chosen);
    }

    /// <summary>Per-parameter views (by name) into <paramref name="flat"/>, a buffer laid out like <see cref="Weights"/>.</summary>
    public IEnumerable<(string Name, Tensor View)> Views(Tensor flat) => All.Views(flat);

    /// <summary>Clears every gradient for the next step (in place: the parameters keep their views).</summary>
    public void ZeroGradients() => Gradients.zero_();

    /// <summary>The global gradient norm, after scaling the gradients down to <paramref name="maxNorm"/> if above it (0 = no clipping).</summary>
    public double ClipGradients(double maxNorm)
    {
        using var noGrad = no_grad();
        var norm = Gradients.norm().item<float>();
        // The same coefficient as torch.nn.utils.clip_grad_norm_ (with its 1e-6 guard).
        if (maxNorm > 0 && norm > maxNorm) Gradients.mul_(maxNorm / (norm + 1e-6));
        return norm;
    }

    internal static Tensor Slice(Tensor flat, long offset, long[] shape) =>
        flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).view(shape);

    /// <summary>Frees the flat weight and gradient buffers the model's parameters are views into.</summary>
    public void Dispose()
    {
        Weights.Dispose();
        Gradients.Dispose();
    }
}

/// <summary>A contiguous run of slots of a <see cref="FlatParameters"/>: what one optimizer owns.</summary>
public sealed class FlatSegment
{
    private readonly FlatParameters _owner;

    /// <summary>The slots, in buffer order.</summary>
    public IReadOnlyList<FlatSlot> Slots { get; }

    /// <summary>Offset of the first value in the whole buffer.</summary>
    public long Offset { get; }

    /// <summary>Number of values.</summary>
    public long Length { get; }

    internal FlatSegment(FlatParameters owner, IReadOnlyList<FlatSlot> slots)
    {
        _owner = owner;
        Slots = slots;
        Offset = slots.Count > 0 ? slots[0].Offset : 0;
        Length = slots.Sum(s => s.Count);
    }

    /// <summary>This segment's weights (a view of the flat buffer).</summary>
    public Tensor Weights => _owner.Weights.narrow(0, Offset, Length);

    /// <summary>This segment's gradients (a view of the flat buffer).</summary>
    public Tensor Gradients => _owner.Gradients.narrow(0, Offset, Length);

    /// <summary>Per-parameter views (by name) into <paramref name="buffer"/>, laid out like this segment.</summary>
    public IEnumerable<(string Name, Tensor View)> Views(Tensor buffer) =>
        Slots.Select(s => (s.Name, FlatParameters.Slice(buffer, s.Offset - Offset, s.Shape)));

    /// <summary>A 0/1 mask over this segment, 1 where <paramref name="select"/> holds for the parameter's name and shape.</summary>
    public Tensor Mask(Func<string, long[], bool> select)
    {
        var mask = zeros(Length).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        foreach (var slot in Slots)
            if (select(slot.Name, slot.Shape)) mask.narrow(0, slot.Offset - Offset, slot.Count).fill_(1);
        return mask;
    }
}
