using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Training;

/// <summary>A session's export request: the options a caller gives, turned into a verified .bullet (and optionally float weights).</summary>
internal static class SessionExport
{
    private static readonly string[] s_options = ["path", "model_name", "model_card", "float_dir", "verify_windows"];

    /// <summary>
    /// Writes and verifies the .bullet. Options: "path" (default {output_dir}/model.bullet), "model_name", "model_card",
    /// "float_dir" (an FP32 safetensors copy), "verify_windows". Returns the verification with "path" and "step".
    /// </summary>
    public static JsonObject Run(Trainer trainer, string? outputDir, JsonObject options)
    {
        var read = JsonFields.Options;
        read.RejectUnknown(options, "export option", s_options);
        var path = read.OptionalString(options, "path")
            ?? Path.Combine(outputDir ?? throw new BulletArgumentException("give a path: the session has no output folder"), "model.bullet");
        var export = new ExportOptions(read.OptionalString(options, "model_name") ?? Path.GetFileNameWithoutExtension(path),
            read.OptionalString(options, "model_card") ?? "", read.OptionalInt(options, "verify_windows") ?? 64);
        var result = ModelExporter.ExportBullet(trainer, path, export);
        if (read.OptionalString(options, "float_dir") is { } floatDir) result["float"] = ModelExporter.ExportFloat(trainer, floatDir, export.ModelName);
        return result;
    }
}
