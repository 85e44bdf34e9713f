using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Training;

/// <summary>Builds sessions from the JSON the C ABI receives: a config, and where the text, tokenizer and outputs are.</summary>
public static class TrainingSessionFactory
{
    private static readonly string[] s_options = ["text", "text_path", "tokenizer_path", "output_dir", "resume_from", "events_path"];

    /// <summary>
    /// A new session. <paramref name="options"/>: "text" or "text_path" (one is required), optional "tokenizer_path"
    /// (a saved tokenizer instead of training one), "output_dir" (checkpoints, exports), "resume_from" (a
    /// checkpoint folder: its config and tokenizer are used and training continues from its step) and "events_path"
    /// (a JSON-lines file the events are appended to, continuing the seq of the events already in it).
    /// </summary>
    public static TrainingSession Create(JsonObject config, JsonObject options)
    {
        var read = JsonFields.Options;
        read.RejectUnknown(options, "session option", s_options);
        var text = read.OptionalString(options, "text");
        var textPath = read.OptionalString(options, "text_path");
        if ((text is null) == (textPath is null)) throw new BulletArgumentException("give exactly one of text and text_path");
        var tokenizerPath = read.OptionalString(options, "tokenizer_path");
        var resumeFrom = read.OptionalString(options, "resume_from");

        var plan = TrainPlan.FromJson(config);
        if (resumeFrom != null)
        {
            var (_, _, state) = Checkpoint.Load(resumeFrom);
            plan = TrainPlan.Fixed(TrainConfig.ReadValid(JsonFields.OfFile(Checkpoint.StateFile).RequiredObject(state, "config")));
            var saved = Path.Combine(resumeFrom, Checkpoint.TokenizerFile);
            if (File.Exists(saved)) tokenizerPath ??= saved;
        }
        plan.Config.Validate();
        Model.TorchNatives.ThrowIfForeignLibtorch(); // now, not as a crash or an error event once training starts
        if (textPath != null && !File.Exists(textPath))
            throw new BulletException(NativeStatus.IoError, $"text file {textPath} does not exist");
        if (text is { Length: 0 }) throw new BulletArgumentException("the training text is empty");
        var eventsPath = read.OptionalString(options, "events_path");

        return new TrainingSession(plan.Config, () =>
        {
            var corpus = text ?? File.ReadAllText(textPath!);
            var tokenizer = tokenizerPath is null ? null : BulletTokenizer.Load(tokenizerPath);
            return plan.ForText(corpus, tokenizer);
        }, read.OptionalString(options, "output_dir"), resumeFrom, eventsPath is null ? null : new EventLog(eventsPath));
    }

    /// <summary>Every preset's full config, by name.</summary>
    public static JsonObject Presets()
    {
        var result = new JsonObject();
        foreach (var name in TrainConfig.PresetNames) result[name] = TrainConfig.Preset(name).ToJson();
        return result;
    }
}
