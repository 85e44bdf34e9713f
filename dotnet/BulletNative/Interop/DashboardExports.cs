using System.Runtime.InteropServices;
using BulletNative.Format;
using BulletNative.Text;
using BulletNative.Training;

namespace BulletNative.Interop;

/// <summary>Exports the dashboard needs besides sessions and models: text statistics, document conversion and config validation.</summary>
internal static unsafe class DashboardExports
{
    /// <summary>
    /// Counts and style metrics of a text (options: "text" or "path", optional "preview_chars", default 400) as JSON;
    /// with "reference_text" or "reference_path" also how much of the text is copied from that original ("copied",
    /// sequences of "ngram" words, default 8).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_text_stats")]
    public static int TextStats(byte* optionsJson, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var options = NativeCall.JsonArgument(optionsJson, "options");
        var read = JsonFields.Options;
        var preview = read.OptionalInt(options, "preview_chars") ?? 400;
        if (preview is < 0 or > 100_000) throw new BulletArgumentException($"preview_chars {preview} must be between 0 and 100000");
        var text = read.OptionalString(options, "text");
        var path = read.OptionalString(options, "path");
        if ((text is null) == (path is null)) throw new BulletArgumentException("give exactly one of text and path");
        var stats = text != null ? TextStatistics.OfText(text, preview) : TextStatistics.OfFile(path!, preview);
        var referenceText = read.OptionalString(options, "reference_text");
        var referencePath = read.OptionalString(options, "reference_path");
        var ngram = read.OptionalInt(options, "ngram") ?? CopiedShare.DefaultWords;
        if (referenceText != null && referencePath != null) throw new BulletArgumentException("give at most one of reference_text and reference_path");
        if (referenceText != null || referencePath != null)
        {
            var passage = text ?? throw new BulletArgumentException("the copied share is measured for a text: give text, not path, with a reference");
            stats["copied"] = referenceText != null ? CopiedShare.Of(passage, new StringReader(referenceText), ngram)
                : CopiedShare.OfFile(passage, referencePath!, ngram);
        }
        NativeCall.ReturnJson(stats, outData, outLength);
    });

    /// <summary>
    /// Converts a document (kind "jsonl" or "docx") into UTF-8 text at dst_path, written atomically; options
    /// max_output_bytes, max_part_bytes; returns {kind, bytes, characters, lines, records | paragraphs} as JSON.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_text_convert")]
    public static int TextConvert(byte* sourcePath, byte* kind, byte* destinationPath, byte* optionsJson, byte** outData, long* outLength) =>
        NativeCall.Run(() => NativeCall.ReturnJson(DocumentText.Convert(NativeCall.Utf8(sourcePath, "src_path"), NativeCall.Utf8(kind, "kind"),
            NativeCall.Utf8(destinationPath, "dst_path"), NativeCall.JsonArgument(optionsJson, "options")), outData, outLength));

    /// <summary>
    /// Validates a training config (options: "text_bytes", the size of the text it will train on), returning every
    /// failing field with its message, the resolved config and the estimate of its peak memory.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_train_validate")]
    public static int ValidateConfig(byte* configJson, byte* optionsJson, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var options = NativeCall.JsonArgument(optionsJson, "options");
        JsonFields.Options.RejectUnknown(options, "validation option", ["text_bytes"]);
        var textBytes = JsonFields.Options.OptionalLong(options, "text_bytes") ?? 0;
        if (textBytes < 0) throw new BulletArgumentException($"text_bytes {textBytes} must not be negative");
        NativeCall.ReturnJson(ConfigCheck.Check(NativeCall.JsonArgument(configJson, "config"), textBytes), outData, outLength);
    });
}
