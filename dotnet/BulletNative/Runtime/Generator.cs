using System.Diagnostics;
using System.Text;

namespace BulletNative.Runtime;

/// <summary>One step of a <see cref="Generator"/>: the token drawn and the text it releases (possibly empty).</summary>
public sealed record GeneratedToken(int Id, string Text, bool Done);

/// <summary>
/// Streaming generation: each <see cref="Next"/> draws one token. Text is released as soon as it is complete UTF-8
/// and cannot be the start of a stop string, so streamed pieces always add up to <see cref="Text"/>.
/// Each generator owns its forward pass and cache, so many generators over one model run in parallel.
/// </summary>
public sealed class Generator
{
    private readonly IForwardPass _pass;
    private readonly Sampler _sampler;
    private readonly GenerationOptions _options;
    private readonly int[] _prompt;
    private readonly List<int> _context = [];
    private readonly List<int> _generated = [];
    private readonly float[] _logits;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _text = new();
    private readonly Stopwatch _clock = new();
    private int _released;
    private double _firstTokenSeconds = -1;

    public BulletModel Model { get; }
    /// <summary>Why generation ended: "max_tokens", "stop", "context_full", or null while it runs.</summary>
    public string? StopReason { get; private set; }
    public bool Done => StopReason != null;
    /// <summary>Prompt tokens dropped from the front because the prompt was longer than max_context.</summary>
    public int PromptTokensDropped { get; }
    /// <summary>Times the context was full and slid to its last half.</summary>
    public int Slides { get; private set; }
    public long Seed => _sampler.Seed;
    public IReadOnlyList<int> PromptTokens => _prompt;
    public IReadOnlyList<int> Tokens => _generated;
    /// <summary>The text released so far.</summary>
    public string Text => _text.ToString(0, _released);

    /// <summary>A generator continuing <paramref name="prompt"/> (token ids; empty starts after a space).</summary>
    public Generator(BulletModel model, IReadOnlyList<int> prompt, GenerationOptions options, bool reference = false)
    {
        Model = model;
        _options = options.Validate();
        _sampler = new Sampler(options);
        foreach (var id in prompt) model.CheckToken(id);
        var window = model.Dimensions.MaxContext;
        PromptTokensDropped = Math.Max(0, prompt.Count - window);
        _prompt = prompt.Skip(PromptTokensDropped).ToArray();
        if (_prompt.Length == 0) _prompt = [model.Tokenizer.IdOf(" "u8) ?? 0];
        _pass = reference ? new ReferenceForward(model) : new FastForward(model, options.Threads);
        _logits = new float[model.Dimensions.VocabSize];
    }

    /// <summary>A generator for a text prompt, encoded with the model's tokenizer.</summary>
    public static Generator FromText(BulletModel model, string prompt, GenerationOptions options) =>
        new(model, model.Tokenizer.Encode(prompt), options);

    /// <summary>Seconds from the first call to the first token; -1 before it.</summary>
    public double TimeToFirstTokenSeconds => _firstTokenSeconds;

    /// <summary>Tokens per second after the first one (the decoding rate); 0 until two tokens exist.</summary>
    public double TokensPerSecond =>
        _generated.Count > 1 ? (_generated.Count - 1) / (_clock.Elapsed.TotalSeconds - _firstTokenSeconds) : 0;

    /// <summary>Draws one token; returns null once generation has ended.</summary>
    public GeneratedToken? Next()
    {
        if (Done) return null;
        if (_generated.Count >= _options.MaxTokens) return Finish("max_tokens", -1);
        _clock.Start();
        if (_generated.Count == 0)
        {
            foreach (var id in _prompt.AsSpan(0, _prompt.Length - 1)) Feed(id, withLogits: false);
            Feed(_prompt[^1], withLogits: true);
        }
        else if (!Feed(_generated[^1], withLogits: true))
            return Finish("context_full", -1);

        var token = _sampler.Next(_logits, _context.ToArray());
        _generated.Add(token);
        if (_firstTokenSeconds < 0) _firstTokenSeconds = _clock.Elapsed.TotalSeconds;
        var bytes = Model.Tokenizer.Tokens[token];
        var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
        _decoder.GetChars(bytes, chars, flush: false);
        _text.Append(chars);

        var stopAt = FirstStop();
        if (stopAt >= 0)
        {
            _text.Length = stopAt;
            return Finish("stop", token);
        }
        if (_generated.Count >= _options.MaxTokens) return Finish("max_tokens", token);
        var releasable = _text.Length - HeldBack();
        var piece = _text.ToString(_released, releasable - _released);
        _released = releasable;
        _clock.Stop();
        return new GeneratedToken(token, piece, false);
    }

    /// <summary>Runs to the end and returns every released piece joined (= <see cref="Text"/>).</summary>
    public string Complete()
    {
        while (Next() is { Done: false }) { }
        return Text;
    }

    /// <summary>Feeds one token at the next position, sliding or refusing when the context is full.</summary>
    private bool Feed(int token, bool withLogits)
    {
        if (_pass.Position >= Model.Dimensions.MaxContext)
        {
            if (_options.Context == ContextOverflow.Stop) return false;
            var keep = Math.Max(0, Model.Dimensions.MaxContext / 2 - 1);
            var tail = _context.Skip(_context.Count - keep).ToArray();
            _pass.Reset();
            _context.Clear();
            foreach (var id in tail)
            {
                _pass.Forward(id, default);
                _context.Add(id);
            }
            Slides++;
        }
        _pass.Forward(token, withLogits ? _logits : default);
        _context.Add(token);
        return true;
    }

    private GeneratedToken Finish(string reason, int token)
    {
        StopReason = reason;
        if (reason != "stop")
        {
            var rest = new char[_decoder.GetCharCount([], flush: true)];
            _decoder.GetChars([], rest, flush: true);
            _text.Append(rest);
        }
        var piece = _text.ToString(_released, _text.Length - _released);
        _released = _text.Length;
        _clock.Stop();
        return new GeneratedToken(token, piece, true);
    }

    /// <summary>Where the earliest stop string begins in the text, or -1.</summary>
    private int FirstStop()
    {
        if (_options.Stop.Count == 0) return -1;
        var text = _text.ToString();
        var first = -1;
        foreach (var stop in _options.Stop)
        {
            var at = text.IndexOf(stop, Math.Max(0, _released - stop.Length), StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    /// <summary>Length of the longest end of the text that could still grow into a stop string.</summary>
    private int HeldBack()
    {
        var held = 0;
        foreach (var stop in _options.Stop)
            for (var n = Math.Min(stop.Length - 1, _text.Length - _released); n > held; n--)
                if (EndsWith(stop.AsSpan(0, n))) { held = n; break; }
        return held;
    }

    private bool EndsWith(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
            if (_text[_text.Length - value.Length + i] != value[i]) return false;
        return true;
    }
}
