namespace BulletNative.Training;

/// <summary>Turns text into token ids and back; what the trainer needs from a tokenizer.</summary>
public interface ITextCodec
{
    /// <summary>Number of tokens (the model's vocabulary size).</summary>
    int VocabSize { get; }

    /// <summary>The ids of a text.</summary>
    int[] Encode(string text);

    /// <summary>The text of a sequence of ids.</summary>
    string Decode(IReadOnlyList<int> ids);

    /// <summary>"bpe" or "char", recorded in exported files.</summary>
    string Kind { get; }

    /// <summary>The tokenizer block a .bullet file stores (docs/format.md, Tokenizer block).</summary>
    Format.BulletVocabulary ToVocabulary();

    /// <summary>The id that stands for characters the tokenizer does not know, if it has one.</summary>
    int? UnknownId => null;
}

/// <summary>A tokenized corpus split into a training part (the first tokens) and a validation part (the rest), as nanoGPT splits.</summary>
public sealed class TokenData
{
    /// <summary>Training token ids.</summary>
    public int[] Train { get; }

    /// <summary>Validation token ids (empty when val_fraction is 0).</summary>
    public int[] Val { get; }

    /// <summary>The tokenizer that made the ids.</summary>
    public ITextCodec Codec { get; }

    /// <summary>Characters and bytes each token spells (for bits per character).</summary>
    public TokenLengths Lengths => _lengths ??= new TokenLengths(Codec);

    private TokenLengths? _lengths;

    /// <summary>Splits <paramref name="ids"/>: the last <paramref name="valFraction"/> is validation. Checks both parts hold a window.</summary>
    public TokenData(int[] ids, ITextCodec codec, double valFraction, int window)
        : this(ids[..^ValCount(ids, valFraction)], ids[^ValCount(ids, valFraction)..], codec, window, valFraction)
    {
    }

    /// <summary>A corpus already split (the text cut by characters, each part tokenized). Checks both parts hold a window.</summary>
    public TokenData(int[] train, int[] val, ITextCodec codec, int window, double valFraction)
    {
        if (train.Length + val.Length == 0) throw new BulletArgumentException("the training text is empty");
        Train = train;
        Val = val;
        Codec = codec;
        if (Train.Length < window + 1)
            throw new BulletArgumentException(
                $"the text is too short: its training part makes {Train.Length} tokens, fewer than one window of max_seq_len + 1 = {window + 1}");
        if (Val.Length > 0 && Val.Length < window + 1)
            throw new BulletArgumentException(
                $"the validation part ({valFraction:P0} of the text) makes {Val.Length} tokens, fewer than one window of max_seq_len + 1 = {window + 1}; use more text, a larger val_fraction, or val_fraction 0");
        foreach (var id in train.Concat(val))
            if ((uint)id >= (uint)codec.VocabSize)
                throw new BulletArgumentException($"token id {id} is outside the vocabulary of {codec.VocabSize}");
    }

    private static int ValCount(int[] ids, double valFraction)
    {
        if (ids.Length == 0) throw new BulletArgumentException("the training text is empty");
        return (int)Math.Round(ids.Length * valFraction);
    }
}
