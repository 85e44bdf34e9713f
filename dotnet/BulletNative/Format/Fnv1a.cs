using System.Text;

namespace BulletNative.Format;

/// <summary>FNV-1a 64-bit, the hash that names tensors in the weights table (docs/format.md, Weights block).</summary>
public static class Fnv1a
{
    public const ulong OffsetBasis = 14695981039346656037UL;
    public const ulong Prime = 1099511628211UL;

    /// <summary>Hash of raw bytes.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        var h = OffsetBasis;
        foreach (var b in data)
        {
            h ^= b;
            h *= Prime;
        }
        return h;
    }

    /// <summary>Hash of a tensor name's UTF-8 bytes.</summary>
    public static ulong Hash(string name) => Hash(Encoding.UTF8.GetBytes(name));
}
