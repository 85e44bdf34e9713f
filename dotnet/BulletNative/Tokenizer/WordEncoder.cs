using System.Runtime.InteropServices;

namespace BulletNative.Tokenizer;

/// <summary>
/// Encodes text by the rule of docs/format.md (Tokenizer block), exactly, and fast: words repeat, so each distinct word is encoded
/// once and its ids are cached. Not thread-safe (one per thread; the MergeTable behind it is shared).
/// </summary>
/// <remarks>
/// The rule applies every merge in file order, each over the whole word left to right without overlap. A merge
/// changes the word only when its pair occurs in it, so the next merge that changes the word is the lowest-indexed
/// merge, above the last one applied, whose pair occurs now; every other merge in between is a no-op. This class
/// keeps, for each adjacent pair, that candidate index in a heap keyed by (merge index, position), and pops entries
/// of the same merge in position order, which is the rule's left-to-right, non-overlapping pass. Why the candidates
/// stay right: (1) an unchanged pair's candidate was the first index above an older "last", and no index lies between
/// it and the current one (it would have been popped first); (2) after a pass of merge m no adjacent (a, b) of m is
/// left (for a == b a run of k pieces becomes k/2 joined pieces and at most one single), so no pair still holds m;
/// (3) pairs formed during the pass get candidates above m, as the rule never joins a piece made in the same pass
/// (a result a+b is longer than a and b, so it equals neither). Stale heap entries are recognised by their symbols: a
/// position's piece and its right neighbour only ever grow, so a pair never returns to an earlier value.
/// The tests check this against the plain per-merge loop on adversarial merge lists.
/// </remarks>
internal sealed class WordEncoder
{
    private const int Dead = -2;
    private const int CacheLimit = 1 << 18;

    private readonly MergeTable _table;
    private readonly Dictionary<byte[], int[]> _cache = new(4096, ByteStringComparer.Instance);
    private readonly Dictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheLookup;
    private long[] _heap = new long[64]; // min-heap of (merge index << 32 | position)
    private int _heapCount;
    private int[] _symbols = new int[64];
    private int[] _next = new int[64];
    private int[] _prev = new int[64];

    /// <summary>An encoder over <paramref name="table"/> with its own scratch buffers and word cache.</summary>
    public WordEncoder(MergeTable table)
    {
        _table = table;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Appends the ids of <paramref name="text"/> (valid UTF-8) to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<byte> text, List<int> output)
    {
        foreach (var word in new WordPieces(text))
        {
            if (WordPieces.IsSpace(word))
            {
                output.Add(_table.SpaceId);
                continue;
            }
            if (_table.MergeCount == 0)
            {
                AppendCharacters(word, output); // without merges a lookup per character is cheaper than the cache
                continue;
            }
            if (_cache.Count >= CacheLimit) _cache.Clear(); // bounds memory on text with endless distinct words
            ref var ids = ref CollectionsMarshal.GetValueRefOrAddDefault(_cacheLookup, word, out var cached);
            if (!cached) ids = EncodeWord(word);
            output.AddRange(ids!);
        }
    }

    private void AppendCharacters(ReadOnlySpan<byte> word, List<int> output)
    {
        var vocab = _table.VocabIdOfSymbol;
        for (var i = 0; i < word.Length;)
        {
            var length = CharacterLength(word[i]);
            var symbol = _table.SymbolOfCharacter(word.Slice(i, length));
            output.Add(symbol >= 0 ? vocab[symbol] : 0);
            i += length;
        }
    }

    private int[] EncodeWord(ReadOnlySpan<byte> word)
    {
        var n = SplitCharacters(word);
        if (n > 1) n = ApplyMerges(n);
        var ids = new int[n];
        var vocab = _table.VocabIdOfSymbol;
        for (int node = 0, k = 0; k < n; node = _next[node], k++)
            ids[k] = _symbols[node] >= 0 ? vocab[_symbols[node]] : 0;
        return ids;
    }

    // Fills the linked list with one node per UTF-8 character; returns the number of characters.
    private int SplitCharacters(ReadOnlySpan<byte> word)
    {
        if (_symbols.Length < word.Length)
        {
            var size = Math.Max(word.Length, _symbols.Length * 2);
            _symbols = new int[size];
            _next = new int[size];
            _prev = new int[size];
        }
        var n = 0;
        for (var i = 0; i < word.Length;)
        {
            var length = CharacterLength(word[i]);
            _symbols[n] = _table.SymbolOfCharacter(word.Slice(i, length));
            _prev[n] = n - 1;
            _next[n] = n + 1;
            n++;
            i += length;
        }
        _next[n - 1] = -1;
        return n;
    }

    private int ApplyMerges(int n)
    {
        _heapCount = 0;
        for (var i = 0; i + 1 < n; i++) PushCandidate(i, i + 1, -1);
        var pieces = n;
        while (_heapCount > 0)
        {
            var entry = PopMin();
            var m = (int)(entry >> 32);
            var pos = (int)entry;
            var right = _next[pos];
            if (_symbols[pos] != _table.MergeLeft[m] || right < 0 || _symbols[right] != _table.MergeRight[m]) continue; // stale
            _symbols[pos] = _table.MergeResult[m];
            _symbols[right] = Dead;
            var after = _next[right];
            _next[pos] = after;
            if (after >= 0) _prev[after] = pos;
            pieces--;
            if (_prev[pos] >= 0) PushCandidate(_prev[pos], pos, m);
            if (after >= 0) PushCandidate(pos, after, m);
        }
        return pieces;
    }

    private void PushCandidate(int left, int right, int after)
    {
        var m = _table.NextMerge(_symbols[left], _symbols[right], after);
        if (m != int.MaxValue) Push(((long)m << 32) | (uint)left);
    }

    private void Push(long entry)
    {
        if (_heapCount == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        var i = _heapCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (_heap[parent] <= entry) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = entry;
    }

    private long PopMin()
    {
        var top = _heap[0];
        var last = _heap[--_heapCount];
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= _heapCount) break;
            if (child + 1 < _heapCount && _heap[child + 1] < _heap[child]) child++;
            if (last <= _heap[child]) break;
            _heap[i] = _heap[child];
            i = child;
        }
        _heap[i] = last;
        return top;
    }

    /// <summary>Bytes in the UTF-8 character that starts with <paramref name="lead"/> (input is valid UTF-8).</summary>
    internal static int CharacterLength(byte lead) => lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}
