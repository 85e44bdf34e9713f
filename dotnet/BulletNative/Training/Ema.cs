using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// An exponential moving average of the weights (decay d: ema = d·ema + (1-d)·w after each step). Evaluation,
/// samples and export use it, because it is smoother than the last step's weights.
/// </summary>
public sealed class Ema : IDisposable
{
    private readonly FlatParameters _parameters;
    private readonly Tensor _shadow;
    private readonly double _decay;

    /// <summary>Starts the average at the current weights.</summary>
    public Ema(FlatParameters parameters, double decay)
    {
        (_parameters, _decay) = (parameters, decay);
        _shadow = parameters.Weights.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>Folds the current weights into the average.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        _shadow.mul_(_decay).add_(_parameters.Weights, 1 - _decay);
    }

    /// <summary>Runs <paramref name="body"/> with the averaged weights in the model, then puts the trained ones back.</summary>
    public T WithAveragedWeights<T>(Func<T> body)
    {
        using var noGrad = no_grad();
        using var saved = _parameters.Weights.clone();
        try
        {
            _parameters.Weights.copy_(_shadow);
            return body();
        }
        finally
        {
            _parameters.Weights.copy_(saved);
        }
    }

    /// <summary>The averages as named tensors ("ema.{name}") for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() => _parameters.Views(_shadow).Select(v => ("ema." + v.Name, v.View));

    /// <summary>Restores the averages saved by <see cref="State"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> tensors)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, view) in State()) Checkpoint.CopyInto(view, tensors, name);
    }

    /// <summary>Frees the averaged weights.</summary>
    public void Dispose() => _shadow.Dispose();
}
