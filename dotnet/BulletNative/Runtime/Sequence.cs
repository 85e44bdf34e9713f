using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace BulletNative.Runtime;

/// <summary>One step of a generation: the token drawn, the text it releases (possibly empty), and why it was chosen when asked.</summary>
public sealed record GeneratedToken(int Id, string Text, bool Done, TokenChoice? Choice = null);

/// <summary>
/// One generation in progress, apart from the forward pass that runs it: the prompt, the sampler, the tokens and
/// text produced, stop strings, max tokens and the context policy. Its owner feeds <see cref="Pending"/> through a
/// pass over <see cref="Cache"/> (alone, <see cref="Generator"/>; among many, <see cref="BatchScheduler"/>) and hands back
/// the last one's logits to <see cref="Accept"/>. Text is released as soon as it is complete UTF-8 and cannot be the
/// start of a stop string, so streamed pieces always add up to <see cref="Text"/>.
/// </summary>
public sealed class Sequence
{
    private readonly Sampler _sampler;
    private readonly int[] _prompt;
    private readonly List<int> _pending = [];
    private readonly List<int> _context = [];
    private readonly List<int> _generated = [];
    private readonly List<TokenChoice> _choices = [];
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _text = new();
    private readonly Stopwatch _clock = new();
    private int _released;
    private double _firstTokenSeconds = -1;

    /// <summary>The model the generation runs on (its tokenizer decodes the text, its max_context bounds the cache).</summary>
    public BulletModel Model { get; }
    /// <summary>The validated sampling and stopping settings.</summary>
    public GenerationOptions Options { get; }
    /// <summary>The keys and values of the tokens fed so far.</summary>
    public KvCache Cache { get; }
    /// <summary>Why generation ended: "max_tokens", "stop", "context_full", "cancelled", "error", or null while it runs.</summary>
    public string? StopReason { get; private set; }
    /// <summary>What went wrong when <see cref="StopReason"/> is "error"; null otherwise.</summary>
    public string? Error { get; private set; }
    /// <summary>True once <see cref="StopReason"/> is set; no more tokens come.</summary>
    public bool Done => StopReason != null;
    /// <summary>Prompt tokens dropped from the front because the prompt was longer than max_context.</summary>
    public int PromptTokensDropped { get; }
    /// <summary>Times the context was full and slid to its last half.</summary>
    public int Slides { get; private set; }
    /// <summary>The sampler's seed: the one asked for, or the one picked when <see cref="GenerationOptions.Seed"/> was null.</summary>
    public long Seed => _sampler.Seed;
    /// <summary>The prompt's ids as fed: without the dropped front, and a single " " token for an empty prompt.</summary>
    public IReadOnlyList<int> PromptTokens => _prompt;
    /// <summary>The generated ids in order, prompt not included; sliding the context drops none.</summary>
    public IReadOnlyList<int> Tokens => _generated;
    /// <summary>Why each token was chosen (empty unless top_logprobs was asked for).</summary>
    public IReadOnlyList<TokenChoice> Choices => _choices;
    /// <summary>The text released so far.</summary>
    public string Text => _text.ToString(0, _released);
    /// <summary>Tokens waiting to go through the pass, in order; the last one's logits decide the next token.</summary>
    public ReadOnlySpan<int> Pending => CollectionsMarshal.AsSpan(_pending);

    /// <summary>A generation continuing <paramref name="prompt"/> (token ids; empty starts after a space) with its own cache.</summary>
    public Sequence(BulletModel model, IReadOnlyList<int> prompt, GenerationOptions options)
    {
        Model = model;
        Options = options.Validate();
        _sampler = new Sampler(options);
        foreach (var id in prompt) model.CheckToken(id);
        var window = model.Dimensions.MaxContext;
        PromptTokensDropped = Math.Max(0, prompt.Count - window);
        _prompt = prompt.Skip(PromptTokensDropped).ToArray();
        if (_prompt.Length == 0) _prompt = [model.Tokenizer.IdOf(" "u8) ?? 0];
        _pending.AddRange(_prompt);
        Cache = new KvCache(model, positions: 1);
    }

    /// <summary>Positions the cache needs for the whole generation (prompt and every token, at most max_context).</summary>
    public int CachePositions => (int)Math.Min(Model.Dimensions.MaxContext, (long)_prompt.Length + Options.MaxTokens);

    /// <summary>Bytes the cache takes once reserved for the whole generation.</summary>
    public long CacheBytes => KvCache.BytesFor(Model, CachePositions);

    /// <summary>Seconds from the first <see cref="Resume"/> to the first token; -1 before it.</summary>
    public double TimeToFirstTokenSeconds => _firstTokenSeconds;

    /// <summary>Tokens per second after the first one (the decoding rate); 0 until two tokens exist.</summary>
    public double TokensPerSecond =>
        _generated.Count > 1 ? (_generated.Count - 1) / (_clock.Elapsed.TotalSeconds - _firstTokenSeconds) : 0;

    /// <summary>Starts (or continues) counting time as this generation's.</summary>
    public void Resume() => _clock.Start();
    /// <summary>Stops counting time (while the owner does other things).</summary>
    public void Pause() => _clock.Stop();

    /// <summary>
    /// Makes the pending tokens fit before they are fed: ends at max_tokens, or when the context is full either ends
    /// ("stop" policy) or keeps its last half to recompute ("slide"). Returns the final step when it ended here.
    /// </summary>
    public GeneratedToken? Prepare()
    {
        if (Done) return null;
        if (_generated.Count >= Options.MaxTokens) return Finish("max_tokens", -1);
        Cache.Reserve(CachePositions);
        var maxContext = Model.Dimensions.MaxContext;
        if (Cache.Length + _pending.Count <= maxContext) return null;
        if (Options.Context == ContextOverflow.Stop) return Finish("context_full", -1);
        var keep = Math.Max(0, maxContext / 2 - 1);
        var tail = _context.Skip(_context.Count - keep).ToArray();
        _pending.InsertRange(0, tail);
        _context.Clear();
        Cache.Reset();
        Slides++;
        return null;
    }

    /// <summary>The owner fed the first <paramref name="count"/> pending tokens.</summary>
    public void Consumed(int count)
    {
        if (count < 0 || count > _pending.Count) throw new BulletArgumentException($"{count} tokens fed of {_pending.Count} pending");
        _context.AddRange(_pending.GetRange(0, count));
        _pending.RemoveRange(0, count);
    }

    /// <summary>Draws the next token from the last pending token's logits (all pending tokens fed) and releases its text.</summary>
    public GeneratedToken Accept(ReadOnlySpan<float> logits)
    {
        if (Done) throw new BulletArgumentException("the generation has ended");
        if (_pending.Count > 0) throw new BulletArgumentException($"{_pending.Count} tokens are still to be fed before drawing");
        var token = _sampler.Next(logits, CollectionsMarshal.AsSpan(_context), Options.TopLogprobs, out var choice);
        _generated.Add(token);
        if (choice != null) _choices.Add(choice);
        if (_firstTokenSeconds < 0) _firstTokenSeconds = _clock.Elapsed.TotalSeconds;
        var bytes = Model.Tokenizer.Tokens[token];
        var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
        _decoder.GetChars(bytes, chars, flush: false);
        _text.Append(chars);

        var stopAt = FirstStop();
        if (stopAt >= 0)
        {
            _text.Length = stopAt;
            return Finish("stop", token, choice);
        }
        if (_generated.Count >= Options.MaxTokens) return Finish("max_tokens", token, choice);
        _pending.Add(token);
        var releasable = _text.Length - HeldBack();
        var piece = _text.ToString(_released, releasable - _released);
        _released = releasable;
        return new GeneratedToken(token, piece, false, choice);
    }

    /// <summary>Ends the generation early (the client went away); returns the final step.</summary>
    public GeneratedToken Cancel() => Done ? new GeneratedToken(-1, "", true) : Finish("cancelled", -1);

    /// <summary>Ends the generation because its pass failed with <paramref name="message"/>; returns the final step.</summary>
    public GeneratedToken Fail(string message)
    {
        if (Done) return new GeneratedToken(-1, "", true);
        Error = message;
        return Finish("error", -1);
    }

    private GeneratedToken Finish(string reason, int token, TokenChoice? choice = null)
    {
        StopReason = reason;
        _pending.Clear();
        if (reason != "stop")
        {
            var rest = new char[_decoder.GetCharCount([], flush: true)];
            _decoder.GetChars([], rest, flush: true);
            _text.Append(rest);
        }
        var piece = _text.ToString(_released, _text.Length - _released);
        _released = _text.Length;
        _clock.Stop();
        return new GeneratedToken(token, piece, true, choice);
    }

    /// <summary>Where the earliest stop string begins in the text, or -1.</summary>
    private int FirstStop()
    {
        var first = -1;
        foreach (var stop in Options.Stop)
        {
            var from = Math.Max(0, _released - stop.Length);
            for (var at = from; at + stop.Length <= _text.Length && (first < 0 || at < first); at++)
                if (Matches(at, stop)) { first = at; break; }
        }
        return first;
    }

    /// <summary>Length of the longest end of the text that could still grow into a stop string.</summary>
    private int HeldBack()
    {
        var held = 0;
        foreach (var stop in Options.Stop)
            for (var n = Math.Min(stop.Length - 1, _text.Length - _released); n > held; n--)
                if (Matches(_text.Length - n, stop.AsSpan(0, n))) { held = n; break; }
        return held;
    }

    private bool Matches(int at, ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
            if (_text[at + i] != value[i]) return false;
        return true;
    }
}
