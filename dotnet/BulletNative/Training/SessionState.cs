using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>
/// Every state a training session can be in, named once here. A native session moves through the first eight; a
/// supervisor that runs sessions in worker processes adds <see cref="Queued"/> (waiting for a free slot) and
/// <see cref="Interrupted"/> (no process holds it any more and it did not finish). The Python binding and the
/// TypeScript client mirror this list (<see cref="SessionStates.Describe"/> is exported), and a test fails when the
/// three differ.
/// </summary>
public enum SessionState
{
    /// <summary>Tokenizing the text and building the model.</summary>
    Preparing,
    /// <summary>Prepared, waiting for start or a step.</summary>
    Ready,
    /// <summary>Training continuously (or through a requested number of steps).</summary>
    Running,
    /// <summary>Stopped between steps; resume or step continue from here.</summary>
    Paused,
    /// <summary>Reached its last step or its time budget.</summary>
    Completed,
    /// <summary>Stopped by the user; what was learned stays exportable.</summary>
    Stopped,
    /// <summary>Ended by early stopping (validation loss stopped improving).</summary>
    EarlyStopped,
    /// <summary>Ended by an error (or, under a supervisor, by its worker's abnormal end).</summary>
    Failed,
    /// <summary>Supervisor only: waiting for a running slot.</summary>
    Queued,
    /// <summary>Supervisor only: not finished and no longer held by a process; resumable from a checkpoint.</summary>
    Interrupted,
}

/// <summary>Names and properties of <see cref="SessionState"/> values as they appear in JSON.</summary>
public static class SessionStates
{
    /// <summary>The snake_case name used in events, summaries and every client ("early_stopped").</summary>
    public static string Name(this SessionState state) => state switch
    {
        SessionState.EarlyStopped => "early_stopped",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>True for the states after which a session trains no more.</summary>
    public static bool IsFinished(this SessionState state) =>
        state is SessionState.Completed or SessionState.Stopped or SessionState.EarlyStopped or SessionState.Failed;

    /// <summary>Every state in declaration order: name, whether it is final, and who sets it (session or supervisor).</summary>
    public static JsonArray Describe() => new(Enum.GetValues<SessionState>().Select(s => (JsonNode)new JsonObject
    {
        ["name"] = s.Name(),
        ["finished"] = s.IsFinished(),
        ["set_by"] = s is SessionState.Queued or SessionState.Interrupted ? "supervisor" : "session",
    }).ToArray());
}
