using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>A character codec for trainer tests, independent of the product tokenizer: id = index in the alphabet.</summary>
internal sealed class TestCodec(string alphabet) : ITextCodec
{
    public int VocabSize => alphabet.Length;

    public int[] Encode(string text) => text.Select(c => Math.Max(0, alphabet.IndexOf(c))).ToArray();

    public string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => alphabet[i]));

    public string Kind => "char";

    public BulletNative.Format.BulletVocabulary ToVocabulary() =>
        new(alphabet.Select(c => System.Text.Encoding.UTF8.GetBytes(c.ToString())).ToList(), null, []);

    /// <summary>A repetitive little corpus and its tokens split 90/10.</summary>
    public static TokenData Corpus(TrainConfig config, int repeats = 40)
    {
        var text = string.Concat(Enumerable.Repeat("the cat sat on the mat. a dog ate the hat. ", repeats));
        var codec = new TestCodec(new string(text.Distinct().Order().ToArray()));
        return new TokenData(codec.Encode(text), codec, config.ValFraction, config.MaxSeqLen);
    }

    /// <summary>A small fast config for tests.</summary>
    public static TrainConfig TinyConfig() => new()
    {
        Tokenizer = "char", VocabSize = 0, HiddenSize = 32, NumLayers = 1, NumHeads = 2, MaxSeqLen = 16,
        BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 2, TotalSteps = 20, EvalEvery = 5, EvalBatches = 2,
        SampleEvery = 10, SampleLength = 8, AttentionEvery = 10, AttentionProbe = "the cat", SamplePrompt = "the ",
    };
}
