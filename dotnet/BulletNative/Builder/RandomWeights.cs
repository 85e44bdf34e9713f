using BulletNative.Format;

namespace BulletNative.Builder;

/// <summary>A correctly shaped, untrained model for testing readers and runtimes (the old builder's test mode).</summary>
public static class RandomWeights
{
    /// <summary>Matrices drawn from N(0, 0.02²) (GPT-2's init scale), norm weights 1.0; same seed, same weights.</summary>
    public static List<TensorData> Create(ModelDimensions dims, int seed)
    {
        var random = new Random(seed);
        var tensors = new List<TensorData>();
        foreach (var (name, shape) in dims.RequiredTensors())
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            if (shape.Length == 1) Array.Fill(values, 1f);
            else
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)Gaussian(random, 0.02);
            tensors.Add(new TensorData(name, shape, values));
        }
        return tensors;
    }

    /// <summary>A draw from N(0, std²) by Box–Muller (two uniform draws from <paramref name="random"/>).</summary>
    public static double Gaussian(Random random, double std = 1) =>
        std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
