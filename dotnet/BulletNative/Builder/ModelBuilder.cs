using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Builder;

/// <summary>
/// Packs weights trained elsewhere into a .bullet file (the old bullet-builder's job): checks every required
/// tensor by name and shape, quantizes to BQ4, writes atomically, then reads the file back and reports.
/// </summary>
public static class ModelBuilder
{
    /// <summary>
    /// Builds <paramref name="outPath"/> from named tensors; every missing or mis-shaped tensor is listed in one error.
    /// Returns the build report (tensors, sizes, BQ4 error, warnings).
    /// </summary>
    public static JsonObject Build(
        string modelName, ModelDimensions dims, BulletVocabulary vocabulary,
        IReadOnlyDictionary<string, TensorData> weights, string outPath, JsonObject? extraHeader = null)
    {
        dims.Validate();
        var problems = new List<string>();
        var tensors = new List<TensorData>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            if (!weights.TryGetValue(name, out var t))
                problems.Add($"missing tensor \"{name}\" (expected shape [{string.Join(", ", shape)}])");
            else if (!t.Shape.SequenceEqual(shape))
                problems.Add($"tensor \"{name}\": expected shape [{string.Join(", ", shape)}], found [{string.Join(", ", t.Shape)}]");
            else
                tensors.Add(t);
        }
        var warnings = new List<string>();
        foreach (var (name, t) in weights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (tensors.Any(x => x.Name == name) || problems.Any(p => p.Contains($"\"{name}\"", StringComparison.Ordinal))) continue;
            if (TensorNames.IsTaskHead(name) && t.Shape.Length == 2 && t.Shape[1] == dims.HiddenSize)
                tensors.Add(t);
            else if (TensorNames.IsTaskHead(name))
                problems.Add($"task head \"{name}\": expected shape [classes, {dims.HiddenSize}], found [{string.Join(", ", t.Shape)}]");
            else
                warnings.Add($"tensor \"{name}\" is not part of the model and was not packed");
        }
        if (problems.Count > 0) throw new BulletArgumentException(string.Join("; ", problems));
        foreach (var t in tensors) CheckFinite(t);

        BulletWriter.Write(outPath, new BulletModelContent(modelName, dims, vocabulary, tensors, extraHeader));
        var file = BulletReader.ReadFile(outPath);
        var report = BulletInspector.Describe(file);
        report["path"] = Path.GetFullPath(outPath);
        report["quantization_error"] = QuantizationError(file, tensors);
        var all = report["warnings"]!.AsArray();
        foreach (var w in warnings) all.Add((JsonNode)w);
        return report;
    }

    private static void CheckFinite(TensorData t)
    {
        var span = t.Values.Span;
        for (var i = 0; i < span.Length; i++)
            if (!float.IsFinite(span[i]))
                throw new BulletArgumentException($"tensor \"{t.Name}\" holds {span[i]} at index {i}; weights must be finite");
    }

    /// <summary>
    /// Relative RMS error between the given weights and what the written file decodes to, overall and for the
    /// worst tensor, so a user sees what 4 bits cost (and the file is checked against its source).
    /// </summary>
    private static JsonObject QuantizationError(BulletFile file, List<TensorData> tensors)
    {
        double errSum = 0, refSum = 0, worst = 0;
        var worstName = "";
        foreach (var t in tensors)
        {
            var back = file.Dequantize(t.Name);
            double e = 0, r = 0;
            var span = t.Values.Span;
            for (var i = 0; i < span.Length; i++)
            {
                var diff = (double)span[i] - back[i];
                e += diff * diff;
                r += (double)span[i] * span[i];
            }
            errSum += e;
            refSum += r;
            var relative = r > 0 ? Math.Sqrt(e / r) : 0;
            if (relative > worst) (worst, worstName) = (relative, t.Name);
        }
        return new JsonObject
        {
            ["relative_rmse"] = refSum > 0 ? Math.Round(Math.Sqrt(errSum / refSum), 6) : 0,
            ["worst_tensor"] = worstName,
            ["worst_relative_rmse"] = Math.Round(worst, 6),
        };
    }
}
