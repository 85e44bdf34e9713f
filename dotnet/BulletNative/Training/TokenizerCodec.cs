using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Training;

/// <summary>The product tokenizer seen as the trainer's codec, and the step from raw text to a split corpus.</summary>
public sealed class TokenizerCodec(BulletTokenizer tokenizer) : ITextCodec
{
    /// <summary>The wrapped tokenizer.</summary>
    public BulletTokenizer Tokenizer { get; } = tokenizer;

    /// <inheritdoc/>
    public int VocabSize => Tokenizer.VocabSize;

    /// <inheritdoc/>
    public string Kind => Tokenizer.Mode == TokenizerMode.Bpe ? "bpe" : "char";

    /// <inheritdoc/>
    public int[] Encode(string text) => Tokenizer.Encode(text);

    /// <inheritdoc/>
    public string Decode(IReadOnlyList<int> ids) => Tokenizer.Decode(ids.ToArray());

    /// <inheritdoc/>
    public BulletVocabulary ToVocabulary() => new(Tokenizer.Tokens, Tokenizer.Scores, Tokenizer.Merges);

    /// <summary>0: the tokenizer block's first token, which every unknown character encodes to (docs/format.md, Tokenizer block).</summary>
    public int? UnknownId => 0;

    /// <summary>
    /// Tokenizes <paramref name="text"/> with <paramref name="tokenizer"/>, or with one trained on it as the config
    /// says (bpe to vocab_size; char with every character, vocab_size 0 meaning no limit), and splits it.
    /// </summary>
    public static TokenData Prepare(TrainConfig config, string text, BulletTokenizer? tokenizer = null)
    {
        if (string.IsNullOrEmpty(text)) throw new BulletArgumentException("the training text is empty");
        if (tokenizer is null)
        {
            tokenizer = TrainTokenizer(config, text);
            if (config.Tokenizer == "bpe" && tokenizer.VocabSize < config.VocabSize)
                throw new BulletArgumentException(
                    $"vocab_size {config.VocabSize} is larger than the number of distinct tokens the text can make ({tokenizer.VocabSize}); use at most {tokenizer.VocabSize} or more text");
        }
        if (config.VocabSize > 0 && tokenizer.VocabSize > config.VocabSize && config.Tokenizer == "char")
            throw new BulletArgumentException(
                $"the text has {tokenizer.VocabSize - 1} distinct characters, more than vocab_size {config.VocabSize} allows; raise vocab_size or set it to 0");
        return Split(text, tokenizer, config.ValFraction, config.MaxSeqLen);
    }

    /// <summary>
    /// Cuts <paramref name="text"/> by characters (the last <paramref name="valFraction"/> is validation, so the
    /// validation part is the same text whatever the tokenizer) and tokenizes each part.
    /// </summary>
    public static TokenData Split(string text, BulletTokenizer tokenizer, double valFraction, int window)
    {
        var cut = ValidationStart(text, valFraction);
        var codec = new TokenizerCodec(tokenizer);
        return new TokenData(tokenizer.Encode(text[..cut]), cut < text.Length ? tokenizer.Encode(text[cut..]) : [], codec, window, valFraction);
    }

    /// <summary>Where the validation part of <paramref name="text"/> starts (never inside a surrogate pair).</summary>
    public static int ValidationStart(string text, double valFraction)
    {
        var cut = text.Length - (int)Math.Round(text.Length * valFraction);
        if (cut > 0 && cut < text.Length && char.IsLowSurrogate(text[cut])) cut--;
        return cut;
    }

    /// <summary>A tokenizer trained on <paramref name="text"/> as the config says (bpe: up to vocab_size tokens; char: every character).</summary>
    public static BulletTokenizer TrainTokenizer(TrainConfig config, string text)
    {
        var bpe = config.Tokenizer == "bpe";
        var options = new TokenizerTrainingOptions
        {
            Mode = bpe ? TokenizerMode.Bpe : TokenizerMode.Char,
            VocabSize = bpe ? config.VocabSize : TokenizerTrainingOptions.MaxVocabSize,
        };
        return BpeTrainer.Train(text, options);
    }
}
