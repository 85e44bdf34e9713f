using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Training;

/// <summary>The product tokenizer seen as the trainer's codec, and the step from raw text to a split corpus.</summary>
public sealed class TokenizerCodec(BulletTokenizer tokenizer) : ITextCodec
{
    /// <summary>The wrapped tokenizer.</summary>
    public BulletTokenizer Tokenizer { get; } = tokenizer;

    public int VocabSize => Tokenizer.VocabSize;

    public string Kind => Tokenizer.Mode == TokenizerMode.Bpe ? "bpe" : "char";

    public int[] Encode(string text) => Tokenizer.Encode(text);

    public string Decode(IReadOnlyList<int> ids) => Tokenizer.Decode(ids.ToArray());

    public BulletVocabulary ToVocabulary() => new(Tokenizer.Tokens, Tokenizer.Scores, Tokenizer.Merges);

    /// <summary>
    /// Tokenizes <paramref name="text"/> with <paramref name="tokenizer"/>, or with one trained on it as the config
    /// says (bpe to vocab_size; char with every character, vocab_size 0 meaning no limit), and splits it.
    /// </summary>
    public static TokenData Prepare(TrainConfig config, string text, BulletTokenizer? tokenizer = null)
    {
        if (string.IsNullOrEmpty(text)) throw new BulletArgumentException("the training text is empty");
        tokenizer ??= TrainTokenizer(config, text);
        if (config.VocabSize > 0 && tokenizer.VocabSize > config.VocabSize && config.Tokenizer == "char")
            throw new BulletArgumentException(
                $"the text has {tokenizer.VocabSize - 1} distinct characters, more than vocab_size {config.VocabSize} allows; raise vocab_size or set it to 0");
        return new TokenData(tokenizer.Encode(text), new TokenizerCodec(tokenizer), config.ValFraction, config.MaxSeqLen);
    }

    private static BulletTokenizer TrainTokenizer(TrainConfig config, string text)
    {
        var bpe = config.Tokenizer == "bpe";
        var options = new TokenizerTrainingOptions
        {
            Mode = bpe ? TokenizerMode.Bpe : TokenizerMode.Char,
            VocabSize = bpe ? config.VocabSize : TokenizerTrainingOptions.MaxVocabSize,
        };
        var tokenizer = BpeTrainer.Train(text, options);
        if (bpe && tokenizer.VocabSize < config.VocabSize)
            throw new BulletArgumentException(
                $"vocab_size {config.VocabSize} is larger than the number of distinct tokens the text can make ({tokenizer.VocabSize}); use at most {tokenizer.VocabSize} or more text");
        return tokenizer;
    }
}
