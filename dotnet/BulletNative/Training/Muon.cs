using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// Muon (momentum, orthogonalized by Newton–Schulz) for the hidden weight matrices, as the modded-nanogpt speedrun
/// uses it: Nesterov momentum, then each matrix's update replaced by the nearest semi-orthogonal matrix (all singular
/// values about 1), scaled by sqrt(max(1, rows/cols)), with decoupled weight decay. Matrices of one shape sit next
/// to each other in the flat buffer (see <see cref="OptimizerLayout"/>), so each shape is orthogonalized as one batch:
/// three batched iterations per step instead of one per matrix.
/// </summary>
public sealed class Muon : IDisposable
{
    // The quintic iteration's coefficients from modded-nanogpt (Keller Jordan): chosen for the steepest slope at 0,
    // so 5 iterations bring every singular value into roughly [0.7, 1.2] rather than converging exactly to 1.
    private const float A = 3.4445f, B = -4.7750f, C = 2.0315f;

    private readonly FlatSegment _parameters;
    private readonly Tensor _momentum;
    private readonly List<(long Offset, long Count, long Rows, long Cols)> _batches = [];
    private readonly double _beta, _weightDecay;

    /// <summary>Muon over the 2-D parameters of <paramref name="parameters"/>, grouped by shape.</summary>
    public Muon(FlatSegment parameters, double momentum, double weightDecay)
    {
        (_parameters, _beta, _weightDecay) = (parameters, momentum, weightDecay);
        _momentum = zeros(parameters.Length).DetachFromDisposeScope();
        foreach (var slot in parameters.Slots)
        {
            if (slot.Shape.Length != 2) throw new ArgumentException($"Muon takes matrices only, not {slot.Name}");
            var (offset, rows, cols) = (slot.Offset - parameters.Offset, slot.Shape[0], slot.Shape[1]);
            if (_batches.Count > 0 && _batches[^1] is var last && last.Rows == rows && last.Cols == cols
                && last.Offset + last.Count * rows * cols == offset)
                _batches[^1] = last with { Count = last.Count + 1 };
            else _batches.Add((offset, 1, rows, cols));
        }
    }

    /// <summary>Applies one update with learning rate <paramref name="lr"/>; the gradients are used up (zero them next).</summary>
    public void Step(double lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (w, g) = (_parameters.Weights, _parameters.Gradients);
        _momentum.lerp_(g, 1 - _beta);
        var update = g.lerp_(_momentum, _beta); // Nesterov: the gradient pulled toward the new momentum
        if (_weightDecay > 0) w.mul_(1 - lr * _weightDecay);
        foreach (var (offset, count, rows, cols) in _batches)
        {
            var size = count * rows * cols;
            var orthogonal = Orthogonalize(update.narrow(0, offset, size).view(count, rows, cols));
            var scale = Math.Sqrt(Math.Max(1.0, (double)rows / cols));
            w.narrow(0, offset, size).view(count, rows, cols).add_(orthogonal, -lr * scale);
        }
    }

    /// <summary>
    /// Five Newton–Schulz iterations on each matrix of <paramref name="g"/> [N, R, C] (or one [R, C]): about U·Vᵀ of
    /// its singular value decomposition U·S·Vᵀ. Works on the wide orientation, so the Gram matrix is the small one.
    /// </summary>
    public static Tensor Orthogonalize(Tensor g, int steps = 5)
    {
        using var scope = NewDisposeScope();
        var batched = g.dim() == 3 ? g : g.unsqueeze(0);
        var tall = batched.shape[1] > batched.shape[2];
        var x = tall ? batched.transpose(1, 2) : batched;
        // Dividing by the Frobenius norm puts every singular value at most 1, inside the iteration's basin.
        x = x / x.square().sum([1, 2], keepdim: true).sqrt().add(1e-7);
        for (var i = 0; i < steps; i++)
        {
            var gram = x.bmm(x.transpose(1, 2));
            var poly = gram.bmm(gram).mul_(C).add_(gram, B); // B·G + C·G²
            x = poly.bmm(x).add_(x, A);                       // A·X + (B·G + C·G²)·X
        }
        if (tall) x = x.transpose(1, 2);
        return (g.dim() == 3 ? x : x.squeeze(0)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The momentum as named tensors ("muon_momentum.{name}") for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() =>
        _parameters.Views(_momentum).Select(v => ("muon_momentum." + v.Name, v.View));

    /// <summary>Restores the momentum saved by <see cref="State"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> tensors)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, view) in State()) Checkpoint.CopyInto(view, tensors, name);
    }

    /// <summary>Frees the momentum buffer.</summary>
    public void Dispose() => _momentum.Dispose();
}
