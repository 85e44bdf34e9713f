using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>Validates a training config without creating a session, reporting every field that fails rather than the first.</summary>
public static class ConfigCheck
{
    /// <summary>
    /// {"valid", "errors": [{"field", "message"}], "config": the config as the trainer reads it (a key that cannot be
    /// read is left at its default; a readable one resolved as <see cref="TrainPlan.FromJson"/> does), "notes": what
    /// that resolution chose or dropped (choices that depend on the text come later, in the "started" event),
    /// "estimate": its peak memory (see <see cref="MemoryEstimate"/>) for a text of <paramref name="textBytes"/> bytes
    /// (0: unknown)}.
    /// </summary>
    public static JsonObject Check(JsonObject json, long textBytes = 0)
    {
        var problems = new ConfigProblems();
        var config = TrainConfig.FromJson(json, problems);
        IReadOnlyList<string> notes = [];
        if (problems.List.Count == 0)
        {
            var plan = TrainPlan.FromJson(json);
            (config, notes) = (plan.Config, plan.Notes);
        }
        config.Check(problems);
        return new JsonObject
        {
            ["valid"] = problems.List.Count == 0,
            ["errors"] = new JsonArray(problems.List.Select(p => (JsonNode)p.ToJson()).ToArray()),
            ["config"] = config.ToJson(),
            ["notes"] = new JsonArray(notes.Select(n => (JsonNode)n).ToArray()),
            ["estimate"] = MemoryEstimate.Of(config, textBytes),
        };
    }
}
