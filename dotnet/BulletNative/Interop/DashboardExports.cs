using System.Runtime.InteropServices;
using BulletNative.Format;
using BulletNative.Text;
using BulletNative.Training;

namespace BulletNative.Interop;

/// <summary>Exports the dashboard needs besides sessions and models: text statistics, document conversion and config validation.</summary>
internal static unsafe class DashboardExports
{
    /// <summary>Counts and style metrics of a text (options: "text" or "path", optional "preview_chars", default 400) as JSON.</summary>
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
        NativeCall.ReturnJson(text != null ? TextStatistics.OfText(text, preview) : TextStatistics.OfFile(path!, preview), outData, outLength);
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
