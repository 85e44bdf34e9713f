using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// AdamW with decoupled weight decay, written out so its state (two moments per tensor and the step count) is
/// plain named tensors a checkpoint can store beside the weights. Norm weights and embeddings are not decayed:
/// decay pulls norm gains toward 0 and rare tokens' embeddings toward nothing.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<Slot> _slots = [];
    private readonly double _beta1, _beta2, _eps, _weightDecay;

    /// <summary>Optimizer steps taken so far (drives bias correction).</summary>
    public long StepCount { get; set; }

    private sealed record Slot(string Name, Parameter Weight, Tensor M, Tensor V, bool Decay);

    /// <summary>One slot per distinct parameter; decay applies to matrices other than the embedding.</summary>
    public AdamW(IEnumerable<(string Name, Parameter Weight)> weights, double beta1, double beta2, double eps, double weightDecay)
    {
        (_beta1, _beta2, _eps, _weightDecay) = (beta1, beta2, eps, weightDecay);
        foreach (var (name, weight) in weights)
        {
            var decay = weight.dim() >= 2 && name != "tok_embeddings.weight";
            _slots.Add(new Slot(name, weight, zeros_like(weight).DetachFromDisposeScope(), zeros_like(weight).DetachFromDisposeScope(), decay));
        }
    }

    /// <summary>Names of the decayed parameters (for the started event and tests).</summary>
    public IEnumerable<string> DecayedNames => _slots.Where(s => s.Decay).Select(s => s.Name);

    /// <summary>Applies one update with learning rate <paramref name="lr"/> from the gradients in place.</summary>
    public void Step(double lr)
    {
        StepCount++;
        var correction1 = 1 - Math.Pow(_beta1, StepCount);
        var correction2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, StepCount));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var slot in _slots)
        {
            var grad = slot.Weight.grad;
            if (grad is null) continue;
            if (slot.Decay && _weightDecay > 0) slot.Weight.mul_(1 - lr * _weightDecay);
            slot.M.mul_(_beta1).add_(grad, 1 - _beta1);
            slot.V.mul_(_beta2).addcmul_(grad, grad, 1 - _beta2);
            var denominator = slot.V.sqrt().div_(correction2Sqrt).add_(_eps);
            slot.Weight.addcdiv_(slot.M, denominator, -lr / correction1);
        }
    }

    /// <summary>Clears every gradient (sets it to none, so the next backward allocates fresh).</summary>
    public void ZeroGrad()
    {
        foreach (var slot in _slots) slot.Weight.grad = null;
    }

    /// <summary>The global gradient norm, after scaling the gradients down to <paramref name="maxNorm"/> if above it (0 = no clipping).</summary>
    public double ClipGradients(double maxNorm)
    {
        var withGrad = _slots.Select(s => s.Weight).Where(w => w.grad is not null).ToList();
        // Without clipping, a threshold no norm reaches (libtorch takes it as float, so not double.MaxValue).
        return nn.utils.clip_grad_norm_(withGrad, maxNorm > 0 ? maxNorm : 1e30, 2.0);
    }

    /// <summary>The moments as named tensors ("adam_m.{name}", "adam_v.{name}") for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() =>
        _slots.SelectMany(s => new[] { ("adam_m." + s.Name, s.M), ("adam_v." + s.Name, s.V) });

    /// <summary>Restores the moments saved by <see cref="State"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> tensors)
    {
        using var noGrad = no_grad();
        foreach (var slot in _slots)
        {
            Checkpoint.CopyInto(slot.M, tensors, "adam_m." + slot.Name);
            Checkpoint.CopyInto(slot.V, tensors, "adam_v." + slot.Name);
        }
    }

    public void Dispose()
    {
        foreach (var slot in _slots) { slot.M.Dispose(); slot.V.Dispose(); }
    }
}
