using System.Text;

namespace BulletNative.Tests.Tokenizer;

/// <summary>
/// docs/format.md's encoding rule (Tokenizer block) written the plainest way, on strings, independently of the library: split at spaces, split
/// words into characters, apply every merge in order over the whole word left to right, look pieces up (first id wins).
/// </summary>
internal static class ReferenceEncoder
{
    public static List<int> Encode(string text, IReadOnlyList<string> vocab, IReadOnlyList<(string A, string B)> merges)
    {
        var idOf = new Dictionary<string, int>();
        for (var i = 0; i < vocab.Count; i++) idOf.TryAdd(vocab[i], i);
        int Lookup(string piece) => idOf.TryGetValue(piece, out var id) ? id : 0;

        var ids = new List<int>();
        var word = new StringBuilder();
        void FinishWord()
        {
            if (word.Length == 0) return;
            var pieces = word.ToString().EnumerateRunes().Select(r => r.ToString()).ToList();
            foreach (var (a, b) in merges)
            {
                var next = new List<string>();
                var i = 0;
                while (i < pieces.Count)
                {
                    if (i + 1 < pieces.Count && pieces[i] == a && pieces[i + 1] == b)
                    {
                        next.Add(a + b);
                        i += 2;
                    }
                    else
                    {
                        next.Add(pieces[i]);
                        i += 1;
                    }
                }
                pieces = next;
            }
            foreach (var piece in pieces) ids.Add(Lookup(piece));
            word.Clear();
        }

        foreach (var c in text)
        {
            if (c == ' ')
            {
                FinishWord();
                ids.Add(Lookup(" "));
            }
            else word.Append(c);
        }
        FinishWord();
        return ids;
    }

    /// <summary>The reference encoding of a library tokenizer's parts (its tokens must be UTF-8 text).</summary>
    public static List<int> Encode(string text, BulletNative.Tokenizer.BulletTokenizer tokenizer) =>
        Encode(text, tokenizer.Tokens.Select(t => Encoding.UTF8.GetString(t)).ToList(),
            tokenizer.Merges.Select(m => (Encoding.UTF8.GetString(m.A), Encoding.UTF8.GetString(m.B))).ToList());
}
