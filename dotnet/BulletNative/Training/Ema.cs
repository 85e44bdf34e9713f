using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// An exponential moving average of the weights (decay d: ema = d·ema + (1-d)·w after each step). Evaluation,
/// samples and export use it, because it is smoother than the last step's weights.
/// </summary>
public sealed class Ema : IDisposable
{
    private readonly List<(string Name, Parameter Weight, Tensor Shadow)> _slots = [];
    private readonly double _decay;

    /// <summary>Starts the average at the current weights.</summary>
    public Ema(IEnumerable<(string Name, Parameter Weight)> weights, double decay)
    {
        _decay = decay;
        foreach (var (name, weight) in weights) _slots.Add((name, weight, weight.detach().clone().DetachFromDisposeScope()));
    }

    /// <summary>Folds the current weights into the average.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        foreach (var (_, weight, shadow) in _slots) shadow.mul_(_decay).add_(weight, 1 - _decay);
    }

    /// <summary>Runs <paramref name="body"/> with the averaged weights in the model, then puts the trained ones back.</summary>
    public T WithAveragedWeights<T>(Func<T> body)
    {
        using var noGrad = no_grad();
        var saved = _slots.Select(s => s.Weight.detach().clone()).ToList();
        try
        {
            foreach (var (_, weight, shadow) in _slots) weight.detach().copy_(shadow);
            return body();
        }
        finally
        {
            for (var i = 0; i < _slots.Count; i++) { _slots[i].Weight.detach().copy_(saved[i]); saved[i].Dispose(); }
        }
    }

    /// <summary>The averages as named tensors ("ema.{name}") for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() => _slots.Select(s => ("ema." + s.Name, s.Shadow));

    /// <summary>Restores the averages saved by <see cref="State"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> tensors)
    {
        using var noGrad = no_grad();
        foreach (var (name, _, shadow) in _slots) Checkpoint.CopyInto(shadow, tensors, "ema." + name);
    }

    public void Dispose()
    {
        foreach (var slot in _slots) slot.Shadow.Dispose();
    }
}
