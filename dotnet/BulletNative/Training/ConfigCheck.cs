using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BulletNative.Training;

/// <summary>
/// Validates a training config without creating a session, reporting every field that fails rather than the first:
/// after each failure the field it names is dropped (back to the preset or default) and validation runs again.
/// </summary>
public static class ConfigCheck
{
    private static readonly string[] s_keys = ["preset", .. TrainConfig.Preset("tiny").ToJson().Select(kv => kv.Key)];

    /// <summary>{"valid", "errors": [{"field", "message"}], "config": the full config with the failing fields left at their defaults}.</summary>
    public static JsonObject Check(JsonObject config)
    {
        var remaining = config.DeepClone().AsObject();
        var errors = new JsonArray();
        TrainConfig? resolved = null;
        for (var attempt = 0; attempt <= s_keys.Length && resolved == null; attempt++)
        {
            try
            {
                var candidate = TrainConfig.FromJson(remaining);
                candidate.Validate();
                resolved = candidate;
            }
            catch (BulletArgumentException e)
            {
                var named = FieldsNamedIn(e.Message, remaining);
                var field = named.FirstOrDefault(remaining.ContainsKey) ?? named.FirstOrDefault();
                errors.Add((JsonNode)new JsonObject { ["field"] = field, ["message"] = e.Message });
                if (field is null || !remaining.Remove(field)) break;
            }
        }
        return new JsonObject
        {
            ["valid"] = errors.Count == 0,
            ["errors"] = errors,
            ["config"] = resolved?.ToJson(),
        };
    }

    /// <summary>The config keys (and unknown keys of <paramref name="config"/>) a message mentions, in order of appearance.</summary>
    private static List<string> FieldsNamedIn(string message, JsonObject config) =>
        s_keys.Concat(config.Select(kv => kv.Key)).Distinct()
            .Select(key => (key, match: Regex.Match(message, $@"(?<![A-Za-z0-9_]){Regex.Escape(key)}(?![A-Za-z0-9_])")))
            .Where(m => m.match.Success)
            .OrderBy(m => m.match.Index)
            .Select(m => m.key)
            .ToList();
}
