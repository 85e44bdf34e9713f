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

    /// <summary>Splits <paramref name="ids"/>: the last <paramref name="valFraction"/> is validation. Checks both parts hold a window.</summary>
    public TokenData(int[] ids, ITextCodec codec, double valFraction, int window)
    {
        if (ids.Length == 0) throw new BulletArgumentException("the training text is empty");
        var valCount = (int)Math.Round(ids.Length * valFraction);
        Train = ids[..^valCount];
        Val = ids[^valCount..];
        Codec = codec;
        if (Train.Length < window + 1)
            throw new BulletArgumentException(
                $"the text is too short: its training part makes {Train.Length} tokens, fewer than one window of max_seq_len + 1 = {window + 1}");
        if (valCount > 0 && Val.Length < window + 1)
            throw new BulletArgumentException(
                $"the validation part ({valFraction:P0} of the text) makes {Val.Length} tokens, fewer than one window of max_seq_len + 1 = {window + 1}; use more text, a larger val_fraction, or val_fraction 0");
        foreach (var id in ids)
            if ((uint)id >= (uint)codec.VocabSize)
                throw new BulletArgumentException($"token id {id} is outside the vocabulary of {codec.VocabSize}");
    }
}
