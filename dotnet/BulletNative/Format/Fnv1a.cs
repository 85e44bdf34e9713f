using System.Text;

namespace BulletNative.Format;

/// <summary>FNV-1a 64-bit, the hash that names tensors in the weights table (docs/format.md, Weights block).</summary>
public static class Fnv1a
{
    /// <summary>The 64-bit FNV offset basis, the hash's starting value (docs/format.md, Weights block).</summary>
    public const ulong OffsetBasis = 14695981039346656037UL;
    /// <summary>The 64-bit FNV prime each step multiplies by, modulo 2^64 (docs/format.md, Weights block).</summary>
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
