namespace BulletNative.Format;

/// <summary>One row of the weights table (docs/format.md, Weights block), with the name recovered from its hash when known.</summary>
public sealed record BulletTensorEntry(
    ulong NameHash,
    string? Name,
    int Rank,
    int[] Shape,
    BulletQuantType QuantType,
    long DataOffset,
    long DataBytes)
{
    /// <summary>The product of the used dimensions.</summary>
    public long ValueCount => Shape.Take(Rank).Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape's used dimensions, e.g. [128, 128].</summary>
    public int[] Dims => Shape.Take(Rank).ToArray();
}
