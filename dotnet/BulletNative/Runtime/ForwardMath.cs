using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// The pieces of the forward pass that do not depend on how weights are stored, as plain scalar code with double
/// sums: the parts of the definition, <see cref="FloatForward"/>.
/// </summary>
internal static class ForwardMath
{
    /// <summary>The ε inside rmsnorm's square root.</summary>
    public const double RmsEpsilon = 1e-5;

    /// <summary>The turn per position of RoPE pair i in a head of <paramref name="headSize"/>: 10000^(-2i/hd).</summary>
    public static double RopeFrequency(int i, int headSize) => Math.Pow(10000, -2.0 * i / headSize);

    /// <summary>Fails unless the pass can take one more token at <paramref name="position"/> and the spans fit it.</summary>
    public static void CheckStep(BulletModel model, int token, int position, Span<float> logits, Span<float> attention)
    {
        model.CheckToken(token);
        var dims = model.Dimensions;
        if (position >= dims.MaxContext)
            throw new BulletArgumentException($"the context of {dims.MaxContext} tokens is full");
        if (!logits.IsEmpty && logits.Length != dims.VocabSize)
            throw new BulletArgumentException($"logits need room for {dims.VocabSize} values, got {logits.Length}");
        var needed = dims.NumLayers * dims.NumHeads * (position + 1);
        if (!attention.IsEmpty && attention.Length != needed)
            throw new BulletArgumentException($"attention weights at position {position} need room for {needed} values, got {attention.Length}");
    }

    /// <summary>rmsnorm(v) * weight with rmsnorm(v) = v / sqrt(mean(v²) + 1e-5).</summary>
    public static float[] RmsNorm(float[] v, float[] weight)
    {
        double squares = 0;
        foreach (var value in v) squares += (double)value * value;
        var inverse = 1 / Math.Sqrt(squares / v.Length + RmsEpsilon);
        var result = new float[v.Length];
        for (var i = 0; i < v.Length; i++) result[i] = (float)(v[i] * inverse * weight[i]);
        return result;
    }

    /// <summary>Interleaved RoPE in place: per head, pair (2i, 2i+1) turns by p · 10000^(-2i/hd).</summary>
    public static void Rotate(float[] v, int p, int hd)
    {
        for (var offset = 0; offset < v.Length; offset += hd)
            for (var i = 0; i < hd / 2; i++)
            {
                var angle = p * RopeFrequency(i, hd);
                double cos = Math.Cos(angle), sin = Math.Sin(angle);
                double a = v[offset + 2 * i], b = v[offset + 2 * i + 1];
                v[offset + 2 * i] = (float)(a * cos - b * sin);
                v[offset + 2 * i + 1] = (float)(a * sin + b * cos);
            }
    }

    /// <summary>
    /// Causal attention of the newest position: per head, softmax(q·k / √hd) over the T cached keys weights the cached
    /// values; returns the heads' outputs side by side [d]. Writes the probabilities [heads, T] to
    /// <paramref name="weights"/> unless it is empty.
    /// </summary>
    public static float[] Attend(float[] q, List<float[]> keys, List<float[]> values, int heads, Span<float> weights)
    {
        int hd = q.Length / heads, positions = keys.Count;
        var concat = new float[q.Length];
        var scores = new double[positions];
        for (var head = 0; head < heads; head++)
        {
            var offset = head * hd;
            for (var t = 0; t < positions; t++)
            {
                double dot = 0;
                for (var i = 0; i < hd; i++) dot += (double)q[offset + i] * keys[t][offset + i];
                scores[t] = dot / Math.Sqrt(hd);
            }
            Softmax(scores);
            for (var i = 0; i < hd; i++)
            {
                double sum = 0;
                for (var t = 0; t < positions; t++) sum += scores[t] * values[t][offset + i];
                concat[offset + i] = (float)sum;
            }
            if (!weights.IsEmpty)
                for (var t = 0; t < positions; t++) weights[head * positions + t] = (float)scores[t];
        }
        return concat;
    }

    /// <summary>The SwiGLU product in place: gate becomes silu(gate) * up.</summary>
    public static void SwiGlu(float[] gate, float[] up)
    {
        for (var i = 0; i < gate.Length; i++) gate[i] = (float)(gate[i] / (1 + Math.Exp(-gate[i])) * up[i]);
    }

    private static void Softmax(double[] scores)
    {
        var max = scores.Max();
        double sum = 0;
        for (var i = 0; i < scores.Length; i++) sum += scores[i] = Math.Exp(scores[i] - max);
        for (var i = 0; i < scores.Length; i++) scores[i] /= sum;
    }
}
