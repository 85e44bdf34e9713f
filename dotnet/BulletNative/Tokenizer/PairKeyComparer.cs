namespace BulletNative.Tokenizer;

/// <summary>
/// Hashes pair keys (left &lt;&lt; 32 | right). long.GetHashCode folds the halves with XOR, so every pair with the
/// same left ^ right collides — pairs of small ids mostly do; a multiplicative mix spreads them.
/// </summary>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static readonly PairKeyComparer Instance = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 32);
}
