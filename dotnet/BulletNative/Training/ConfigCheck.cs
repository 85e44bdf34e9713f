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
    /// (0: unknown), with "seconds_per_1000_steps" on this machine (see <see cref="TrainSpeed"/>)}.
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
            ["estimate"] = Estimate(config, textBytes),
        };
    }

    private static JsonObject Estimate(TrainConfig config, long textBytes)
    {
        var estimate = MemoryEstimate.Of(config, textBytes);
        var vocab = config.VocabSize > 0 ? config.VocabSize : MemoryEstimate.AssumedCharacterVocabulary;
        var seconds = TrainSpeed.SecondsPer1000Steps(config, vocab);
        estimate["seconds_per_1000_steps"] = Math.Round(seconds, 1);
        estimate["summary"] = $"{estimate["summary"]}, about {Duration(seconds)} per 1,000 steps here";
        return estimate;
    }

    /// <summary>"45 s", "3 min", "1.5 h".</summary>
    private static string Duration(double seconds) => seconds switch
    {
        < 90 => $"{Math.Max(1, Math.Round(seconds)):0} s",
        < 5400 => $"{Math.Round(seconds / 60):0} min",
        _ => $"{seconds / 3600:0.#} h",
    };
}
