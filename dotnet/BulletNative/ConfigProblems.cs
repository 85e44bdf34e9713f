using System.Text.Json.Nodes;

namespace BulletNative;

/// <summary>One field of a config that cannot work, and why, in words a person understands.</summary>
public sealed record ConfigProblem(string? Field, string Message)
{
    /// <summary>{"field", "message"} as the C ABI and the dashboard report it.</summary>
    public JsonObject ToJson() => new() { ["field"] = Field, ["message"] = Message };
}

/// <summary>
/// Collects every problem of a config instead of stopping at the first, so a form can mark all its wrong fields at
/// once; <see cref="ThrowIfAny"/> turns them into one error for callers that only need to refuse.
/// </summary>
public sealed class ConfigProblems
{
    private readonly List<ConfigProblem> _problems = [];

    /// <summary>The problems found so far, in the order they were found.</summary>
    public IReadOnlyList<ConfigProblem> List => _problems;

    /// <summary>Records a problem of <paramref name="field"/> (null when no single field is at fault).</summary>
    public void Add(string? field, string message) => _problems.Add(new ConfigProblem(field, message));

    /// <summary>Records <paramref name="message"/> for <paramref name="field"/> unless <paramref name="ok"/>.</summary>
    public void Require(bool ok, string field, string message)
    {
        if (!ok) Add(field, message);
    }

    /// <summary>Whether <paramref name="field"/> already has a problem (a later rule that depends on it stays quiet).</summary>
    public bool Has(string field) => _problems.Any(p => p.Field == field);

    /// <summary>Throws a BulletArgumentException whose message lists every problem, if there are any.</summary>
    public void ThrowIfAny()
    {
        if (_problems.Count > 0) throw new BulletArgumentException(string.Join("; ", _problems.Select(p => p.Message)));
    }
}
