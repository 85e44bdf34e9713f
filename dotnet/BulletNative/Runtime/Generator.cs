namespace BulletNative.Runtime;

/// <summary>
/// Streaming generation of one <see cref="Sequence"/> on the caller's thread: each <see cref="Next"/> feeds the pending
/// tokens (the prompt in chunks) through its own pass and draws one token. Each generator owns its pass and cache, so
/// many generators over one model run in parallel; to batch many generations, use <see cref="BatchScheduler"/>.
/// </summary>
public sealed class Generator
{
    /// <summary>Prompt tokens per pass: a chunk shares each weight read among its tokens.</summary>
    public const int PromptChunk = 64;

    private readonly BatchForward _pass;
    private readonly float[] _logits;
    private readonly ForwardRow[] _rows = new ForwardRow[PromptChunk];

    /// <summary>The generation this generator drives: tokens, text and stop reason so far.</summary>
    public Sequence Sequence { get; }
    /// <summary>The model of <see cref="Sequence"/>.</summary>
    public BulletModel Model => Sequence.Model;

    /// <summary>A generator continuing <paramref name="prompt"/> (token ids; empty starts after a space).</summary>
    public Generator(BulletModel model, IReadOnlyList<int> prompt, GenerationOptions options)
    {
        Sequence = new Sequence(model, prompt, options);
        _pass = new BatchForward(model, options.Threads);
        _logits = new float[model.Dimensions.VocabSize];
    }

    /// <summary>A generator for a text prompt, encoded with the model's tokenizer.</summary>
    public static Generator FromText(BulletModel model, string prompt, GenerationOptions options) =>
        new(model, model.Tokenizer.Encode(prompt), options);

    /// <summary>Draws one token; returns null once generation has ended.</summary>
    public GeneratedToken? Next()
    {
        var sequence = Sequence;
        if (sequence.Done) return null;
        sequence.Resume();
        try
        {
            if (sequence.Prepare() is { } end) return end;
            while (sequence.Pending.Length > 0)
            {
                var pending = sequence.Pending;
                var count = Math.Min(PromptChunk, pending.Length);
                var last = count == pending.Length;
                for (var i = 0; i < count; i++) _rows[i] = new ForwardRow(sequence.Cache, pending[i], last && i == count - 1);
                _pass.Run(_rows.AsSpan(0, count), last ? _logits : default);
                sequence.Consumed(count);
            }
            return sequence.Accept(_logits);
        }
        finally
        {
            sequence.Pause();
        }
    }

    /// <summary>Runs to the end and returns every released piece joined (= the sequence's text).</summary>
    public string Complete()
    {
        while (Next() is { Done: false }) { }
        return Sequence.Text;
    }
}
