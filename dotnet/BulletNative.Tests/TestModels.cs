using System.Text;
using BulletNative.Builder;
using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>Small random models and vocabularies for format tests.</summary>
internal static class TestModels
{
    /// <summary>A vocabulary of `&lt;unk&gt;`, " ", the given characters and a few merges.</summary>
    public static BulletVocabulary Vocabulary(int size)
    {
        var tokens = new List<byte[]> { "<unk>"u8.ToArray(), " "u8.ToArray() };
        for (var c = 'a'; tokens.Count < size && c <= 'z'; c++) tokens.Add(Encoding.UTF8.GetBytes(c.ToString()));
        var merges = new List<(byte[], byte[])>();
        for (var i = 2; tokens.Count < size; i++)
        {
            var a = tokens[i];
            var b = tokens[i + 1];
            merges.Add((a, b));
            tokens.Add([.. a, .. b]);
        }
        var scores = Enumerable.Range(0, tokens.Count).Select(i => -(float)i).ToArray();
        return new BulletVocabulary(tokens, scores, merges);
    }

    /// <summary>Random Gaussian-ish tensors for every required name of <paramref name="dims"/>, norms near 1.</summary>
    public static List<TensorData> RandomTensors(ModelDimensions dims, int seed)
    {
        var random = new Random(seed);
        var list = new List<TensorData>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            var isNorm = shape.Length == 1;
            for (var i = 0; i < values.Length; i++)
                values[i] = isNorm ? 1f + 0.01f * (float)RandomWeights.Gaussian(random) : 0.05f * (float)RandomWeights.Gaussian(random);
            list.Add(new TensorData(name, shape, values));
        }
        return list;
    }

    /// <summary>A complete tiny model content.</summary>
    public static BulletModelContent Tiny(int seed = 1, int vocab = 40, int hidden = 32, int layers = 1, int heads = 2)
    {
        var dims = new ModelDimensions(hidden, layers, heads, vocab, 64);
        return new BulletModelContent("tiny-test", dims, Vocabulary(vocab), RandomTensors(dims, seed));
    }
}
