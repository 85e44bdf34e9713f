namespace BulletNative.Runtime;

/// <summary>Perplexity of a text under a model: exp of the mean negative log-likelihood of each token after the first.</summary>
public sealed record PerplexityResult(double Perplexity, double MeanNegativeLogLikelihood, int TokensScored, int Windows)
{
    /// <summary>The geometric mean of the probabilities the model gave each scored token: exp(-mean NLL) = 1 / perplexity.</summary>
    public double AverageTokenProbability => Math.Exp(-MeanNegativeLogLikelihood);
}

/// <summary>Attention weights for a prompt, laid out [layer, head, query position, key position] (zeros above the diagonal).</summary>
public sealed record AttentionResult(int[] Tokens, int Layers, int Heads, int Length, float[] Weights);

/// <summary>Scoring a text and reading attention patterns with the SIMD forward pass.</summary>
public static class ModelAnalysis
{
    /// <summary>
    /// Perplexity over sliding windows of max_context tokens moving by half a window: every token after the first is
    /// scored exactly once, with at least half a window of history once the text is longer than one window.
    /// </summary>
    public static PerplexityResult Perplexity(BulletModel model, IReadOnlyList<int> tokens, int threads = 1)
    {
        if (tokens.Count < 2) throw new BulletArgumentException($"perplexity needs at least 2 tokens; the text has {tokens.Count}");
        foreach (var id in tokens) model.CheckToken(id);
        var window = model.Dimensions.MaxContext;
        if (window < 2) throw new BulletArgumentException("perplexity needs a max_context of at least 2");
        var stride = Math.Max(1, window / 2);
        var pass = new FastForward(model, threads);
        var logits = new float[model.Dimensions.VocabSize];
        double total = 0;
        int scored = 0, windows = 0, lastScored = 0;
        for (var start = 0; lastScored < tokens.Count - 1; start += stride)
        {
            var end = Math.Min(tokens.Count, start + window);
            pass.Reset();
            windows++;
            for (var i = start; i < end - 1; i++)
            {
                var target = i + 1;
                var needed = target > lastScored;
                pass.Forward(tokens[i], needed ? logits : default);
                if (!needed) continue;
                total += NegativeLogLikelihood(logits, tokens[target]);
                scored++;
            }
            lastScored = end - 1;
        }
        var mean = total / scored;
        return new PerplexityResult(Math.Exp(mean), mean, scored, windows);
    }

    /// <summary>Attention of every layer and head over the first max_context tokens of a prompt.</summary>
    public static AttentionResult Attention(BulletModel model, IReadOnlyList<int> tokens)
    {
        if (tokens.Count == 0) throw new BulletArgumentException("attention needs at least one token; the text is empty");
        var dims = model.Dimensions;
        var length = Math.Min(tokens.Count, dims.MaxContext);
        int layers = dims.NumLayers, heads = dims.NumHeads;
        var weights = new float[(long)layers * heads * length * length];
        var pass = new FastForward(model);
        var row = new float[layers * heads * length];
        for (var p = 0; p < length; p++)
        {
            var span = row.AsSpan(0, layers * heads * (p + 1));
            pass.Forward(tokens[p], default, span);
            for (var lh = 0; lh < layers * heads; lh++)
                span.Slice(lh * (p + 1), p + 1).CopyTo(weights.AsSpan((lh * length + p) * length, p + 1));
        }
        return new AttentionResult(tokens.Take(length).ToArray(), layers, heads, length, weights);
    }

    private static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return max + Math.Log(sum) - logits[target];
    }
}
