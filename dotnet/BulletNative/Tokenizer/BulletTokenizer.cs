using BulletNative.Format;
using System.Text;

namespace BulletNative.Tokenizer;

/// <summary>Whether a tokenizer joins characters with merges (bpe) or keeps one token per character (char).</summary>
public enum TokenizerMode
{
    /// <summary>Byte-pair encoding: characters joined by the merge list (docs/format.md, Tokenizer block).</summary>
    Bpe,
    /// <summary>One token per character, no merges.</summary>
    Char,
}

/// <summary>
/// A .bullet tokenizer: tokens as UTF-8 bytes by id, one score per token, and the merge list. Encoding follows
/// docs/format.md (Tokenizer block) exactly (spaces are pieces, words split into characters, merges in file order, unknown → 0);
/// decoding concatenates token bytes. Immutable; Encode and Decode may be called from several threads.
/// </summary>
public sealed class BulletTokenizer
{
    /// <summary>Largest token the tokenizer block can hold (its lengths are u16).</summary>
    public const int MaxTokenBytes = ushort.MaxValue;

    /// <summary>Name of the unknown token our trainer puts at id 0.</summary>
    public const string UnknownToken = "<unk>";

    private readonly byte[][] _tokens;
    private readonly float[] _scores;
    private readonly (byte[] A, byte[] B)[] _merges;
    private readonly Dictionary<byte[], int> _ids = new(ByteStringComparer.Instance);
    private readonly MergeTable _table;
    private readonly WordEncoder _sharedEncoder;

    private BulletTokenizer(byte[][] tokens, float[] scores, (byte[] A, byte[] B)[] merges, TokenizerTrainingReport? report)
    {
        _tokens = tokens;
        _scores = scores;
        _merges = merges;
        for (var id = 0; id < tokens.Length; id++) _ids.TryAdd(tokens[id], id); // a duplicated token keeps its lowest id
        _table = new MergeTable(tokens, merges, _ids);
        _sharedEncoder = new WordEncoder(_table);
        TrainingReport = report;
    }

    /// <summary>Builds a tokenizer from its parts (copied); scores must be one per token.</summary>
    public static BulletTokenizer FromParts(IReadOnlyList<byte[]> tokens, IReadOnlyList<float> scores, IReadOnlyList<(byte[] A, byte[] B)> merges) =>
        FromParts(tokens, scores, merges, null);

    internal static BulletTokenizer FromParts(IReadOnlyList<byte[]> tokens, IReadOnlyList<float> scores,
        IReadOnlyList<(byte[] A, byte[] B)> merges, TokenizerTrainingReport? report)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(merges);
        if (tokens.Count == 0) throw new BulletArgumentException("a tokenizer needs at least one token (id 0 is the unknown token)");
        if (scores.Count != tokens.Count)
            throw new BulletArgumentException($"a tokenizer needs one score per token: {tokens.Count} tokens but {scores.Count} scores");
        var tokenCopies = new byte[tokens.Count][];
        for (var i = 0; i < tokens.Count; i++)
            tokenCopies[i] = (tokens[i] ?? throw new BulletArgumentException($"token {i} is null")).ToArray();
        var mergeCopies = new (byte[] A, byte[] B)[merges.Count];
        for (var i = 0; i < merges.Count; i++)
        {
            var (a, b) = merges[i];
            if (a is null || b is null) throw new BulletArgumentException($"merge {i} has a null side");
            mergeCopies[i] = (a.ToArray(), b.ToArray());
        }
        return new BulletTokenizer(tokenCopies, [.. scores], mergeCopies, report);
    }

    /// <summary>UTF-8 bytes of each token, by id (do not modify them).</summary>
    public IReadOnlyList<byte[]> Tokens => _tokens;

    /// <summary>Score of each token, by id (stored in the tokenizer block; encoding does not use them).</summary>
    public IReadOnlyList<float> Scores => _scores;

    /// <summary>Merges in the order encoding applies them.</summary>
    public IReadOnlyList<(byte[] A, byte[] B)> Merges => _merges;

    /// <summary>Number of tokens.</summary>
    public int VocabSize => _tokens.Length;

    /// <summary>Char when there are no merges (every piece is one character), else Bpe.</summary>
    public TokenizerMode Mode => _merges.Length == 0 ? TokenizerMode.Char : TokenizerMode.Bpe;

    /// <summary>What training did, when this tokenizer was trained in this process; null when it was loaded.</summary>
    public TokenizerTrainingReport? TrainingReport { get; }

    /// <summary>The id of a token's bytes (the lowest id when a token appears twice), or null.</summary>
    public int? IdOf(ReadOnlySpan<byte> token) =>
        _ids.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(token, out var id) ? id : null;

    /// <summary>Encodes a string by the rule of docs/format.md (Tokenizer block).</summary>
    public int[] Encode(string text) => Encode(Utf8Text.EncodeStrict(text, "text"));

    /// <summary>Encodes UTF-8 text by docs/format.md's rule (Tokenizer block); invalid UTF-8 is an error naming the byte offset.</summary>
    public int[] Encode(ReadOnlySpan<byte> utf8)
    {
        var ids = new List<int>(utf8.Length / 3 + 16);
        Encode(utf8, ids);
        return [.. ids];
    }

    /// <summary>Appends the ids of UTF-8 text to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<byte> utf8, List<int> output)
    {
        Utf8Text.Validate(utf8, "text to encode");
        lock (_sharedEncoder) _sharedEncoder.Encode(utf8, output);
    }

    /// <summary>Encodes many texts, spread over <paramref name="threads"/> threads (each with its own word cache).</summary>
    public int[][] EncodeBatch(IReadOnlyList<ReadOnlyMemory<byte>> texts, int threads = 1)
    {
        if (threads < 1) throw new BulletArgumentException($"threads must be at least 1, not {threads}");
        for (var i = 0; i < texts.Count; i++) Utf8Text.Validate(texts[i].Span, $"text {i} of the batch");
        var results = new int[texts.Count][];
        if (threads == 1 || texts.Count < 2)
        {
            lock (_sharedEncoder)
                for (var i = 0; i < texts.Count; i++) results[i] = EncodeWith(_sharedEncoder, texts[i].Span);
            return results;
        }
        var next = -1;
        var workers = new Thread[Math.Min(threads, texts.Count)];
        Exception? failure = null;
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = new Thread(() =>
            {
                try
                {
                    var encoder = new WordEncoder(_table);
                    for (var i = Interlocked.Increment(ref next); i < texts.Count; i = Interlocked.Increment(ref next))
                        results[i] = EncodeWith(encoder, texts[i].Span);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = "tokenizer-encode" };
            workers[w].Start();
        }
        foreach (var worker in workers) worker.Join();
        if (failure is not null) throw failure;
        return results;
    }

    /// <summary>Encodes many strings (see the UTF-8 overload).</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, int threads = 1) =>
        EncodeBatch(texts.Select((t, i) => (ReadOnlyMemory<byte>)Utf8Text.EncodeStrict(t, $"text {i} of the batch")).ToArray(), threads);

    private static int[] EncodeWith(WordEncoder encoder, ReadOnlySpan<byte> text)
    {
        var ids = new List<int>(text.Length / 3 + 16);
        encoder.Encode(text, ids);
        return [.. ids];
    }

    /// <summary>The concatenated bytes of the tokens; an id outside the vocabulary is an error.</summary>
    public byte[] DecodeToUtf8(ReadOnlySpan<int> ids)
    {
        var length = 0;
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new BulletArgumentException($"token id {id} is outside the vocabulary (0..{_tokens.Length - 1})");
            length += _tokens[id].Length;
        }
        var bytes = new byte[length];
        var at = 0;
        foreach (var id in ids)
        {
            _tokens[id].CopyTo(bytes, at);
            at += _tokens[id].Length;
        }
        return bytes;
    }

    /// <summary>Decodes ids to text; bytes that are not valid UTF-8 (possible only with foreign tokenizers) become U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeToUtf8(ids));

    /// <summary>The tokenizer as the data of a .bullet tokenizer block.</summary>
    public BulletVocabulary ToVocabulary() => new(_tokens, _scores, _merges);

    /// <summary>A tokenizer over the tokens, scores and merges of a .bullet tokenizer block.</summary>
    public static BulletTokenizer FromVocabulary(BulletVocabulary vocabulary) =>
        FromParts(vocabulary.Tokens, vocabulary.Scores, vocabulary.Merges);

    /// <summary>The tokenizer block of a .bullet file (docs/format.md, Tokenizer block), from "BULK" to the last merge.</summary>
    public byte[] ToBulkBlock() => ToVocabulary().ToBlock();

    /// <summary>Reads a tokenizer block; bytes after its last merge (the file's zero padding) are ignored.</summary>
    public static BulletTokenizer FromBulkBlock(ReadOnlySpan<byte> block) => FromBulkBlock(block, out _);

    /// <summary>Reads a tokenizer block and says how many bytes it took.</summary>
    public static BulletTokenizer FromBulkBlock(ReadOnlySpan<byte> block, out int consumed)
    {
        var (vocabulary, end) = BulletVocabulary.Parse(block, 0, block.Length);
        consumed = (int)end;
        return FromVocabulary(vocabulary);
    }

    /// <summary>Saves by the path's form: *.json → tokenizer.json; *vocab.txt → it and merges.txt beside it; a folder → vocab.txt + merges.txt in it.</summary>
    public void Save(string path) => TokenizerFiles.Save(this, path);

    /// <summary>Loads a tokenizer.json, a vocab.txt (with the merges.txt beside it), a folder holding either, or a .bullet file's tokenizer block.</summary>
    public static BulletTokenizer Load(string path) => TokenizerFiles.Load(path);

    /// <summary>The default scores: 0 for every token no merge makes, -(1 + index of the first merge that makes it) for the rest.</summary>
    public static float[] DefaultScores(IReadOnlyList<byte[]> tokens, IReadOnlyList<(byte[] A, byte[] B)> merges)
    {
        var firstMerge = new Dictionary<byte[], int>(ByteStringComparer.Instance);
        for (var m = 0; m < merges.Count; m++) firstMerge.TryAdd([.. merges[m].A, .. merges[m].B], m);
        var scores = new float[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
            scores[i] = firstMerge.TryGetValue(tokens[i], out var m) ? -(m + 1) : 0f;
        return scores;
    }

    /// <summary>Facts about this tokenizer (and its training, when it was trained here) as JSON.</summary>
    public System.Text.Json.Nodes.JsonObject Describe()
    {
        var info = new System.Text.Json.Nodes.JsonObject
        {
            ["vocab_size"] = VocabSize,
            ["mode"] = Mode == TokenizerMode.Bpe ? "bpe" : "char",
            ["merges"] = _merges.Length,
            ["alphabet_size"] = _tokens.Count(IsSingleCharacterOtherThanSpace),
            ["unk_id"] = 0,
            ["unk_token"] = Encoding.UTF8.GetString(_tokens[0]),
            ["space_id"] = IdOf(" "u8),
        };
        if (TrainingReport is not null) info["training"] = TrainingReport.ToJson();
        return info;
    }

    private static bool IsSingleCharacterOtherThanSpace(byte[] token) =>
        token.Length > 0 && token.Length == WordEncoder.CharacterLength(token[0]) && token[0] != (byte)' '
        && System.Text.Unicode.Utf8.IsValid(token);

    /// <summary>A short description for logs and debuggers: mode, vocabulary size and merge count.</summary>
    public override string ToString() => $"BulletTokenizer({(Mode == TokenizerMode.Bpe ? "bpe" : "char")}, {VocabSize} tokens, {_merges.Length} merges)";
}
