using TorchSharp.Modules;

namespace BulletNative.Training;

/// <summary>
/// Which optimizer trains each weight, and the flat-buffer order that gives each optimizer one contiguous run:
/// with Muon, the embedding, norms and output head first (AdamW's), then the hidden matrices grouped by shape
/// (Muon's, orthogonalized one shape at a time); with AdamW alone, file order.
/// </summary>
public static class OptimizerLayout
{
    /// <summary>The 2-D weights inside the blocks (attention projections, feed-forward matrices): Muon's.</summary>
    public static bool IsHiddenMatrix(string name, long[] shape) => shape.Length == 2 && name.StartsWith("layers.", StringComparison.Ordinal);

    /// <summary>The weights in flat-buffer order for <paramref name="optimizer"/> ("adamw" or "muon").</summary>
    public static IEnumerable<(string Name, Parameter Weight)> Order(IEnumerable<(string Name, Parameter Weight)> weights, string optimizer)
    {
        var list = weights.ToList();
        if (optimizer != "muon") return list;
        var hidden = list.Where(w => IsHiddenMatrix(w.Name, w.Weight.shape)).OrderBy(w => w.Weight.shape[0]).ThenBy(w => w.Weight.shape[1]);
        return list.Where(w => !IsHiddenMatrix(w.Name, w.Weight.shape)).Concat(hidden);
    }
}
