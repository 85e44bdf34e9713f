using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>
/// A session's events in order, each a JSON object with a monotonically increasing "seq" (from 1). Callers pull
/// with <see cref="Since"/>; nothing is pushed across the C ABI from the training thread.
/// </summary>
public sealed class EventLog
{
    private readonly List<JsonObject> _events = [];
    private readonly object _lock = new();
    private long _lastSeq;

    /// <summary>The seq of the newest event (0 when none).</summary>
    public long LastSeq { get { lock (_lock) return _lastSeq; } }

    /// <summary>Appends an event of <paramref name="type"/> with the given fields, stamping seq and time; returns its seq.</summary>
    public long Add(string type, JsonObject fields)
    {
        lock (_lock)
        {
            var e = new JsonObject { ["seq"] = ++_lastSeq, ["type"] = type, ["time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 };
            foreach (var (key, value) in fields.ToList())
            {
                fields.Remove(key);
                e[key] = value;
            }
            _events.Add(e);
            Monitor.PulseAll(_lock);
            return _lastSeq;
        }
    }

    /// <summary>Events with seq greater than <paramref name="sinceSeq"/>, waiting up to <paramref name="waitMs"/> for the first one.</summary>
    public JsonArray Since(long sinceSeq, int waitMs = 0)
    {
        lock (_lock)
        {
            var deadline = Environment.TickCount64 + waitMs;
            while (_lastSeq <= sinceSeq && waitMs > 0)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0) break;
                Monitor.Wait(_lock, (int)remaining);
            }
            var result = new JsonArray();
            // seq n sits at index n-1, so a reconnecting reader starts where it left off without a scan.
            for (var i = (int)Math.Max(0, sinceSeq); i < _events.Count; i++) result.Add(_events[i].DeepClone());
            return result;
        }
    }

    /// <summary>The newest event of a type, or null.</summary>
    public JsonObject? Last(string type)
    {
        lock (_lock)
            return _events.LastOrDefault(e => (string?)e["type"] == type)?.DeepClone().AsObject();
    }
}
