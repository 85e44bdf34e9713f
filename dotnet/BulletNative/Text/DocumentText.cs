using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Text;

/// <summary>
/// Turns an uploaded document into the UTF-8 text a tokenizer trains on: JSON Lines (a "text" field per line) or a
/// Word .docx. The text is written atomically, so the destination is either the whole converted text or untouched.
/// </summary>
public static class DocumentText
{
    /// <summary>Default cap on the converted text: larger than any corpus a tiny model trains on.</summary>
    public const long DefaultMaxOutputBytes = 1L << 30;

    /// <summary>Default cap on what is read at once: a .docx's XML part uncompressed, or one .jsonl line.</summary>
    public const long DefaultMaxPartBytes = 256L << 20;

    /// <summary>The kinds of document <see cref="Convert"/> reads.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["jsonl", "docx"];

    /// <summary>
    /// Converts <paramref name="sourcePath"/> of <paramref name="kind"/> ("jsonl" or "docx") into UTF-8 text at
    /// <paramref name="destinationPath"/>; options: max_output_bytes, max_part_bytes. Returns kind, bytes, characters,
    /// lines, and records (jsonl) or paragraphs (docx).
    /// </summary>
    public static JsonObject Convert(string sourcePath, string kind, string destinationPath, JsonObject options)
    {
        if (!Kinds.Contains(kind)) throw new BulletArgumentException($"kind '{kind}' is not a document kind: use {string.Join(" or ", Kinds)}");
        var maxOutput = Limit(options, "max_output_bytes", DefaultMaxOutputBytes);
        var maxPart = Limit(options, "max_part_bytes", DefaultMaxPartBytes);
        JsonFields.Options.RejectUnknown(options, "conversion option", ["max_output_bytes", "max_part_bytes"]);
        if (!File.Exists(sourcePath)) throw new BulletException(NativeStatus.IoError, $"file {sourcePath} does not exist");

        long units = 0;
        TextSink? sink = null;
        AtomicFile.Write(destinationPath, output =>
        {
            sink = new TextSink(output, maxOutput);
            if (kind == "jsonl")
            {
                using var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                units = JsonlText.Convert(source, sink, maxPart);
            }
            else
            {
                units = DocxText.Convert(sourcePath, sink, maxPart);
            }
            sink.Finish();
        });
        return new JsonObject
        {
            ["kind"] = kind,
            ["bytes"] = sink!.Bytes,
            ["characters"] = sink.Characters,
            ["lines"] = sink.Lines,
            [kind == "jsonl" ? "records" : "paragraphs"] = units,
        };
    }

    private static long Limit(JsonObject options, string key, long fallback)
    {
        var limit = JsonFields.Options.OptionalLong(options, key) ?? fallback;
        return limit > 0 ? limit : throw new BulletArgumentException($"{key} must be a positive whole number of bytes, not {limit}");
    }
}
