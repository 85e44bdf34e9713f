using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Tokenizer;

/// <summary>
/// tokenizer.json in the Hugging Face `tokenizers` BPE layout, which other tools read: vocab {token: id}, merges
/// "a b", unk_token = the token at id 0, a pre-tokenizer that isolates each space (docs/format.md, Tokenizer block) and a Fuse decoder.
/// Only keys that library's own writer has long emitted are used: its reader fails on a key it does not know (it skips
/// the key but not its value), so newer optional keys are left to their defaults, and scores are not stored but are
/// recomputed on load by <see cref="BulletTokenizer.DefaultScores"/> (what our trainer gives); the mode follows
/// from the merges. Loading also accepts the simple layout the old builder read:
/// {"vocab": [tokens by id] or {token: id}, "merges": ["a b", ...] or [["a", "b"], ...]}.
/// </summary>
public static class TokenizerJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep non-ASCII readable; the file is not embedded in HTML
    };

    /// <summary>The tokenizer.json bytes; tokens that are not UTF-8 or that appear twice cannot be written (clear error).</summary>
    public static byte[] Write(BulletTokenizer tokenizer)
    {
        var tokens = tokenizer.Tokens.Select((t, i) => TokenText(t, $"token {i}")).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
            if (!seen.TryAdd(tokens[i], i))
                throw new BulletArgumentException(
                    $"token {i} ({Quote(tokens[i])}) repeats token {seen[tokens[i]]}; tokenizer.json maps each token to one id (save as vocab.txt or .bullet)");
        var merges = tokenizer.Merges.Select((m, i) => (A: TokenText(m.A, $"merge {i}"), B: TokenText(m.B, $"merge {i}"))).ToArray();
        var mergesAsPairs = merges.Any(m => m.A.Contains(' ') || m.B.Contains(' ') || m.A.Length == 0 || m.B.Length == 0);

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("String", " ");
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            w.WriteNull("post_processor");
            w.WriteStartObject("decoder");
            w.WriteString("type", "Fuse");
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", tokens[0]);
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteStartObject("vocab");
            for (var i = 0; i < tokens.Length; i++) w.WriteNumber(tokens[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (a, b) in merges)
            {
                if (mergesAsPairs)
                {
                    w.WriteStartArray();
                    w.WriteStringValue(a);
                    w.WriteStringValue(b);
                    w.WriteEndArray();
                }
                else w.WriteStringValue(a + " " + b);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads either layout; the message of any error names what is wrong.</summary>
    public static BulletTokenizer Read(ReadOnlySpan<byte> json, string what = "tokenizer.json")
    {
        var root = JsonFields.OfFile(what).ParseObject(Utf8Text.DecodeStrict(Utf8Text.SkipBom(json), what));
        var model = root;
        if (root["model"] is JsonObject inner)
        {
            var type = JsonFields.OfFile(what).Nested("model").OptionalString(inner, "type") ?? "BPE";
            if (type != "BPE") throw new BulletFormatException($"{what}: model type {type} is not supported (only BPE)");
            model = inner;
        }
        var tokens = ReadVocab(model["vocab"], what);
        var merges = ReadMerges(model["merges"], what);
        return BulletTokenizer.FromParts(tokens, BulletTokenizer.DefaultScores(tokens, merges), merges);
    }

    private static List<byte[]> ReadVocab(JsonNode? vocab, string what)
    {
        var read = JsonFields.OfFile(what);
        switch (vocab)
        {
            case JsonArray list:
                return list.Select((t, i) => Encoding.UTF8.GetBytes(read.String(t, $"vocab entry {i}"))).ToList();
            case JsonObject map:
            {
                var byId = new byte[map.Count][];
                foreach (var (token, idNode) in map)
                {
                    var id = read.Int(idNode, $"the id of vocab entry {Quote(token)}");
                    if (id < 0 || id >= map.Count)
                        throw new BulletFormatException($"{what}: vocab ids must run from 0 to {map.Count - 1}, but {Quote(token)} has id {id}");
                    if (byId[id] is not null)
                        throw new BulletFormatException($"{what}: id {id} is given to two tokens");
                    byId[id] = Encoding.UTF8.GetBytes(token);
                }
                return [.. byId]; // every slot is filled: ids are distinct and in range, and there are Count of them
            }
            case null:
                throw new BulletFormatException($"{what} has no \"vocab\" (expected a list of tokens or a {{token: id}} object)");
            default:
                throw new BulletFormatException($"{what}: \"vocab\" must be a list of tokens or a {{token: id}} object");
        }
    }

    private static List<(byte[] A, byte[] B)> ReadMerges(JsonNode? merges, string what)
    {
        if (merges is null) return [];
        if (merges is not JsonArray list) throw new BulletFormatException($"{what}: \"merges\" must be a list");
        var read = JsonFields.OfFile(what);
        var result = new List<(byte[] A, byte[] B)>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var entry = list[i];
            string a, b;
            if (entry is JsonArray pair)
            {
                if (pair.Count != 2) throw new BulletFormatException($"{what}: merge {i} must be a pair [a, b], not {pair.Count} items");
                a = read.String(pair[0], $"merge {i}");
                b = read.String(pair[1], $"merge {i}");
            }
            else (a, b) = SplitMerge(read.String(entry, $"merge {i}"), $"{what}: merge {i}");
            if (a.Length == 0 || b.Length == 0) throw new BulletFormatException($"{what}: merge {i} has an empty side");
            result.Add((Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b)));
        }
        return result;
    }

    /// <summary>Splits "a b" at its one space; merges are inside words, so a side never holds a space.</summary>
    internal static (string A, string B) SplitMerge(string text, string what)
    {
        var space = text.IndexOf(' ');
        if (space < 0) throw new BulletFormatException($"{what} {Quote(text)} must be two pieces separated by one space");
        if (text.IndexOf(' ', space + 1) >= 0)
            throw new BulletFormatException(
                $"{what} {Quote(text)} is ambiguous: it has more than one space, and merge pieces never contain spaces (write it as a pair [\"a\", \"b\"])");
        return (text[..space], text[(space + 1)..]);
    }

    private static string TokenText(byte[] bytes, string what)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        throw new BulletArgumentException($"{what} is not valid UTF-8 (0x{Convert.ToHexString(bytes)}); tokenizer.json holds only text (save as .bullet)");
    }

    /// <summary>A token in quotes for a message, with control characters visible as escapes.</summary>
    internal static string Quote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }
}
