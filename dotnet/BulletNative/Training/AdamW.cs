using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// AdamW with decoupled weight decay over a segment of <see cref="FlatParameters"/> (all of it, or what Muon leaves),
/// written out so its state (two moments and the step count) is plain named tensors a checkpoint can store beside
/// the weights. Norm weights and embeddings are not decayed: decay pulls norm gains toward 0 and rare tokens'
/// embeddings toward nothing.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly FlatSegment _parameters;
    private readonly Tensor _m, _v, _decayMask;
    private readonly double _beta1, _beta2, _eps, _weightDecay;

    /// <summary>Optimizer steps taken so far (drives bias correction).</summary>
    public long StepCount { get; set; }

    /// <summary>Over every parameter; decay applies to matrices other than the embedding.</summary>
    public AdamW(FlatParameters parameters, double beta1, double beta2, double eps, double weightDecay)
        : this(parameters.All, beta1, beta2, eps, weightDecay)
    {
    }

    /// <summary>Over the parameters of <paramref name="parameters"/>; decay applies to matrices other than the embedding.</summary>
    public AdamW(FlatSegment parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        (_parameters, _beta1, _beta2, _eps, _weightDecay) = (parameters, beta1, beta2, eps, weightDecay);
        _m = zeros(parameters.Length).DetachFromDisposeScope();
        _v = zeros(parameters.Length).DetachFromDisposeScope();
        _decayMask = parameters.Mask(IsDecayed);
    }

    private static bool IsDecayed(string name, long[] shape) => shape.Length >= 2 && name != "tok_embeddings.weight";

    /// <summary>Applies one update with learning rate <paramref name="lr"/> from the gradients in place.</summary>
    public void Step(double lr)
    {
        StepCount++;
        var correction1 = 1 - Math.Pow(_beta1, StepCount);
        var correction2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, StepCount));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (w, g) = (_parameters.Weights, _parameters.Gradients);
        if (_weightDecay > 0) w.addcmul_(w, _decayMask, -lr * _weightDecay);
        _m.mul_(_beta1).add_(g, 1 - _beta1);
        _v.mul_(_beta2).addcmul_(g, g, 1 - _beta2);
        var denominator = _v.sqrt().div_(correction2Sqrt).add_(_eps);
        w.addcdiv_(_m, denominator, -lr / correction1);
    }

    /// <summary>The moments as named tensors ("adam_m.{name}", "adam_v.{name}") for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() =>
        _parameters.Views(_m).Select(v => ("adam_m." + v.Name, v.View))
            .Concat(_parameters.Views(_v).Select(v => ("adam_v." + v.Name, v.View)));

    /// <summary>Restores the moments saved by <see cref="State"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> tensors)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, view) in State()) Checkpoint.CopyInto(view, tensors, name);
    }

    /// <summary>Frees the moment tensors and the weight-decay mask.</summary>
    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        _decayMask.Dispose();
    }
}
