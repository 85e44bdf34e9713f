namespace BulletNative.Tests;

/// <summary>
/// docs/format.md (Forward math) written out as plain loops in double precision, one token at a time with a growing
/// list of keys and values — independent of TorchSharp, so the trained model can be checked against the spec.
/// </summary>
internal sealed class ReferenceForward(IReadOnlyDictionary<string, float[]> w, int vocab, int d, int layers, int heads)
{
    private readonly int _hd = d / heads;

    /// <summary>Logits [T][V] for every position of the sequence; attention[layer][head][p][t] is filled alongside.</summary>
    public double[][] Run(int[] tokens, out double[][][][] attention)
    {
        var keys = new List<double[]>[layers];
        var values = new List<double[]>[layers];
        for (var l = 0; l < layers; l++) { keys[l] = []; values[l] = []; }
        attention = new double[layers][][][];
        for (var l = 0; l < layers; l++)
        {
            attention[l] = new double[heads][][];
            for (var h = 0; h < heads; h++) attention[l][h] = new double[tokens.Length][];
        }

        var logits = new double[tokens.Length][];
        for (var p = 0; p < tokens.Length; p++)
        {
            var x = Row(w["tok_embeddings.weight"], tokens[p], d);
            for (var l = 0; l < layers; l++)
            {
                var pre = $"layers.{l}.";
                var h = Norm(x, w[pre + "norm.attn.weight"]);
                var q = Rotate(MatVec(w[pre + "attention.query.weight"], h, d, d), p);
                var k = Rotate(MatVec(w[pre + "attention.key.weight"], h, d, d), p);
                var v = MatVec(w[pre + "attention.value.weight"], h, d, d);
                keys[l].Add(k);
                values[l].Add(v);
                var concat = new double[d];
                for (var head = 0; head < heads; head++)
                {
                    var o = head * _hd;
                    var scores = new double[p + 1];
                    for (var t = 0; t <= p; t++)
                    {
                        double s = 0;
                        for (var i = 0; i < _hd; i++) s += q[o + i] * keys[l][t][o + i];
                        scores[t] = s / Math.Sqrt(_hd);
                    }
                    var max = scores.Max();
                    var sum = 0.0;
                    for (var t = 0; t <= p; t++) { scores[t] = Math.Exp(scores[t] - max); sum += scores[t]; }
                    for (var t = 0; t <= p; t++) scores[t] /= sum;
                    attention[l][head][p] = scores;
                    for (var t = 0; t <= p; t++)
                        for (var i = 0; i < _hd; i++) concat[o + i] += scores[t] * values[l][t][o + i];
                }
                Add(x, MatVec(w[pre + "attention.output.weight"], concat, d, d));
                h = Norm(x, w[pre + "norm.ffn.weight"]);
                var gate = MatVec(w[pre + "ffn.w1.weight"], h, 4 * d, d);
                var up = MatVec(w[pre + "ffn.w3.weight"], h, 4 * d, d);
                for (var i = 0; i < gate.Length; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                Add(x, MatVec(w[pre + "ffn.w2.weight"], gate, d, 4 * d));
            }
            logits[p] = MatVec(w["output_head.weight"], Norm(x, w["final_layernorm.weight"]), vocab, d);
        }
        return logits;
    }

    private double[] Rotate(double[] v, int p)
    {
        var r = (double[])v.Clone();
        for (var head = 0; head < heads; head++)
            for (var i = 0; i < _hd / 2; i++)
            {
                var angle = p * Math.Pow(10000, -2.0 * i / _hd);
                var a = v[head * _hd + 2 * i];
                var b = v[head * _hd + 2 * i + 1];
                r[head * _hd + 2 * i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                r[head * _hd + 2 * i + 1] = a * Math.Sin(angle) + b * Math.Cos(angle);
            }
        return r;
    }

    private static double[] Norm(double[] x, float[] weight)
    {
        var ms = x.Sum(v => v * v) / x.Length;
        var inv = 1 / Math.Sqrt(ms + 1e-5);
        return x.Select((v, i) => v * inv * weight[i]).ToArray();
    }

    private static double[] MatVec(float[] m, double[] x, int rows, int cols)
    {
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var c = 0; c < cols; c++) s += m[r * cols + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    private static double[] Row(float[] m, int row, int cols) =>
        Enumerable.Range(0, cols).Select(c => (double)m[row * cols + c]).ToArray();

    private static void Add(double[] x, double[] y)
    {
        for (var i = 0; i < x.Length; i++) x[i] += y[i];
    }
}
