using BulletNative.Runtime.Kernels;

namespace BulletNative.Runtime;

/// <summary>One transformer block's matrices packed for the integer kernels, with Q·K·V and gate·up stacked.</summary>
public sealed record PackedLayer(PackedQ4 QueryKeyValue, PackedQ4 Output, PackedQ4 GateUp, PackedQ4 Down);

/// <summary>
/// A model's weights packed once for one kernel's group size (<see cref="PackedQ4"/>), plus the RoPE tables every pass
/// shares. Made on first use and kept with the model (<see cref="BulletModel.Packed"/>).
/// </summary>
public sealed class PackedModel
{
    /// <summary>Rows per packed group, the kernel's G (8 or 16).</summary>
    public int GroupRows { get; }
    /// <summary>Each block's packed matrices, layer 0 first.</summary>
    public IReadOnlyList<PackedLayer> Layers { get; }
    /// <summary>The logits matrix (<see cref="BulletModel.Head"/>: gen_head or output_head), packed.</summary>
    public PackedQ4 Head { get; }
    /// <summary>cos and sin of position p · 10000^(-2i/hd) at [p · hd/2 + i], for p below max_context.</summary>
    public float[] Cos { get; }
    /// <summary>The sines matching <see cref="Cos"/>, same layout.</summary>
    public float[] Sin { get; }

    internal PackedModel(BulletModel model, int groupRows)
    {
        GroupRows = groupRows;
        Layers = model.Layers.Select(l => new PackedLayer(
            new PackedQ4(groupRows, l.Query, l.Key, l.Value), new PackedQ4(groupRows, l.Output),
            new PackedQ4(groupRows, l.Gate, l.Up), new PackedQ4(groupRows, l.Down))).ToArray();
        Head = new PackedQ4(groupRows, model.Head);
        var dims = model.Dimensions;
        var half = dims.HeadSize / 2;
        Cos = new float[dims.MaxContext * half];
        Sin = new float[dims.MaxContext * half];
        for (var i = 0; i < half; i++)
        {
            var frequency = ForwardMath.RopeFrequency(i, dims.HeadSize);
            for (var p = 0; p < dims.MaxContext; p++)
            {
                Cos[p * half + i] = (float)Math.Cos(p * frequency);
                Sin[p * half + i] = (float)Math.Sin(p * frequency);
            }
        }
    }

    /// <summary>Bytes of packed weights one token's pass reads.</summary>
    public long BytesPerToken => Layers.Sum(l => l.QueryKeyValue.ByteSize + l.Output.ByteSize + l.GateUp.ByteSize + l.Down.ByteSize) + Head.ByteSize;
}
