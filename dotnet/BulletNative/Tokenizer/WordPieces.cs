namespace BulletNative.Tokenizer;

/// <summary>
/// Text cut as docs/format.md (Tokenizer block) cuts it before any merge: each space is a piece of its own (<see cref="IsSpace"/>),
/// and each maximal run of other bytes is a word. Enumerate it with foreach; it allocates nothing.
/// </summary>
internal ref struct WordPieces
{
    private ReadOnlySpan<byte> _rest;

    /// <summary>The pieces of <paramref name="text"/>, in order.</summary>
    public WordPieces(ReadOnlySpan<byte> text) => _rest = text;

    /// <summary>The piece found by the last <see cref="MoveNext"/>: one space, or a word.</summary>
    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>True when <paramref name="piece"/> is a space rather than a word.</summary>
    public static bool IsSpace(ReadOnlySpan<byte> piece) => piece[0] == (byte)' ';

    public readonly WordPieces GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty) return false;
        var length = _rest[0] == (byte)' ' ? 1 : _rest.IndexOf((byte)' ');
        if (length < 0) length = _rest.Length;
        Current = _rest[..length];
        _rest = _rest[length..];
        return true;
    }
}
