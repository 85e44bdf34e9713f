namespace BulletNative.Tokenizer;

/// <summary>
/// The merges of a tokenizer compiled for encoding. Every byte string that can ever be a piece of a word and take part
/// in a merge (each token, each merge side, each merge result) gets a symbol number, so pieces compare as ints; a
/// character outside this table can never equal a merge side, so it stays a piece on its own and maps to id 0.
/// Immutable after construction: one table is shared by every thread that encodes.
/// </summary>
internal sealed class MergeTable
{
    /// <summary>Symbol of a character that is in no token and no merge.</summary>
    public const int Foreign = -1;

    private readonly Dictionary<byte[], int> _symbols = new(ByteStringComparer.Instance);
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _symbolLookup;
    private readonly int[] _asciiSymbol = new int[128];
    // Pair key → first merge index, open addressing (this lookup is the hot spot of encoding a new word); pairs that
    // appear in more than one merge also keep all their indices in _allMergesOfPair.
    private const long EmptySlot = -1; // real keys are never negative: symbols are >= 0
    private readonly long[] _pairKeys;
    private readonly int[] _firstMerge;
    private readonly int _slotMask;
    private readonly Dictionary<long, int[]> _allMergesOfPair = new(PairKeyComparer.Instance);

    /// <summary>Vocabulary id of each symbol (the lowest id with those bytes), or 0 when the bytes are no token.</summary>
    public int[] VocabIdOfSymbol { get; }

    /// <summary>Left side, right side and result symbol of each merge, in file order.</summary>
    public int[] MergeLeft { get; }
    /// <summary>Right side symbol of each merge, in file order (pairs with <see cref="MergeLeft"/>).</summary>
    public int[] MergeRight { get; }
    /// <summary>Symbol each merge produces (left bytes then right bytes), in file order.</summary>
    public int[] MergeResult { get; }

    /// <summary>Vocabulary id of the piece " " (0 when the vocabulary has no space token).</summary>
    public int SpaceId { get; }

    /// <summary>Compiles <paramref name="tokens"/> and <paramref name="merges"/> (file order); <paramref name="tokenIds"/> maps token bytes to their lowest id.</summary>
    public MergeTable(IReadOnlyList<byte[]> tokens, IReadOnlyList<(byte[] A, byte[] B)> merges, Dictionary<byte[], int> tokenIds)
    {
        _symbolLookup = _symbols.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var token in tokens) Intern(token);
        MergeLeft = new int[merges.Count];
        MergeRight = new int[merges.Count];
        MergeResult = new int[merges.Count];
        var pairLists = new Dictionary<long, List<int>>(PairKeyComparer.Instance);
        for (var m = 0; m < merges.Count; m++)
        {
            var (a, b) = merges[m];
            MergeLeft[m] = Intern(a);
            MergeRight[m] = Intern(b);
            MergeResult[m] = Intern([.. a, .. b]);
            var key = PairKey(MergeLeft[m], MergeRight[m]);
            if (!pairLists.TryGetValue(key, out var list)) pairLists[key] = list = [];
            list.Add(m); // ascending, because m ascends
        }
        var capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, pairLists.Count * 2));
        _pairKeys = new long[capacity];
        _firstMerge = new int[capacity];
        _slotMask = capacity - 1;
        Array.Fill(_pairKeys, EmptySlot);
        foreach (var (key, list) in pairLists)
        {
            var slot = Slot(key);
            while (_pairKeys[slot] != EmptySlot) slot = (slot + 1) & _slotMask;
            _pairKeys[slot] = key;
            _firstMerge[slot] = list[0];
            if (list.Count > 1) _allMergesOfPair[key] = [.. list];
        }

        VocabIdOfSymbol = new int[_symbols.Count];
        foreach (var (bytes, symbol) in _symbols)
            VocabIdOfSymbol[symbol] = tokenIds.GetValueOrDefault(bytes, 0);
        for (var c = 0; c < 128; c++)
            _asciiSymbol[c] = _symbolLookup.TryGetValue([(byte)c], out var s) ? s : Foreign;
        SpaceId = tokenIds.GetValueOrDefault([(byte)' '], 0);
    }

    /// <summary>Number of merges.</summary>
    public int MergeCount => MergeLeft.Length;

    /// <summary>Symbol of one UTF-8 character (Foreign when it is in no token and no merge).</summary>
    public int SymbolOfCharacter(ReadOnlySpan<byte> character) =>
        character.Length == 1 && character[0] < 128 ? _asciiSymbol[character[0]]
        : _symbolLookup.TryGetValue(character, out var s) ? s : Foreign;

    /// <summary>The first merge with index greater than <paramref name="after"/> that joins (left, right), or int.MaxValue.</summary>
    public int NextMerge(int left, int right, int after)
    {
        if (left < 0 || right < 0) return int.MaxValue;
        var key = PairKey(left, right);
        for (var slot = Slot(key); _pairKeys[slot] != EmptySlot; slot = (slot + 1) & _slotMask)
        {
            if (_pairKeys[slot] != key) continue;
            if (_firstMerge[slot] > after) return _firstMerge[slot];
            if (_allMergesOfPair.TryGetValue(key, out var indices))
                foreach (var m in indices)
                    if (m > after) return m;
            return int.MaxValue;
        }
        return int.MaxValue;
    }

    private int Slot(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 32) & _slotMask;

    private int Intern(byte[] bytes)
    {
        if (_symbols.TryGetValue(bytes, out var s)) return s;
        s = _symbols.Count;
        _symbols[bytes] = s;
        return s;
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
