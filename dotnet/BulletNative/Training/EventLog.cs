using System.Text;
using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>
/// A session's events in order: JSON objects with "seq" (rising by exactly 1), "type", "time" and their fields. On a
/// file the log is the session's record that other processes follow: each event is appended as one JSON line in one
/// write and flushed, <see cref="Sync"/> forces it to disk, and a file that already holds events is continued after
/// its last seq (a torn last line, left by a crash mid-write, is dropped first). Without a file the events stay in
/// memory. Callers in this process pull with <see cref="Since"/>.
/// </summary>
public sealed class EventLog : IDisposable
{
    private readonly object _lock = new();
    private readonly FileStream? _file;
    // In memory: the events' JSON. On a file: where each event of this log starts (the text is read back from the file).
    private readonly List<string> _memory = [];
    private readonly List<long> _offsets = [];
    private long _lastSeq;

    /// <summary>An in-memory log whose first event is seq 1.</summary>
    public EventLog() { }

    /// <summary>A log appended to <paramref name="path"/>, continuing after the last event already there.</summary>
    public EventLog(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        try
        {
            _lastSeq = ContinueAfterLastWholeLine(_file);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
        FirstSeq = _lastSeq + 1;
    }

    /// <summary>The file the events go to (null in memory).</summary>
    public string? Path { get; }

    /// <summary>The seq of this log's first event (1 unless it continues a file).</summary>
    public long FirstSeq { get; } = 1;

    /// <summary>The seq of the newest event (0 when none).</summary>
    public long LastSeq { get { lock (_lock) return _lastSeq; } }

    /// <summary>Appends an event of <paramref name="type"/> with the given fields, stamping seq and time; returns its seq.</summary>
    public long Add(string type, JsonObject fields)
    {
        lock (_lock)
        {
            var e = new JsonObject { ["seq"] = _lastSeq + 1, ["type"] = type, ["time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 };
            foreach (var (key, value) in fields.ToList())
            {
                fields.Remove(key);
                e[key] = value;
            }
            var json = e.ToJsonString();
            if (_file is null) _memory.Add(json);
            else
            {
                _offsets.Add(_file.Position);
                // One write of the whole line: a follower never sees half an event unless the process dies mid-write.
                _file.Write(Encoding.UTF8.GetBytes(json + "\n"));
                _file.Flush();
            }
            _lastSeq++;
            Monitor.PulseAll(_lock);
            return _lastSeq;
        }
    }

    /// <summary>Forces the file's events to disk (called at checkpoints, so a checkpoint is never newer than the record of it).</summary>
    public void Sync()
    {
        lock (_lock) _file?.Flush(flushToDisk: true);
    }

    /// <summary>This log's events with seq greater than <paramref name="sinceSeq"/>, waiting up to <paramref name="waitMs"/> for the first one.</summary>
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
            var first = (int)Math.Max(0, sinceSeq + 1 - FirstSeq);
            var result = new JsonArray();
            foreach (var json in Texts(first)) result.Add(JsonNode.Parse(json));
            return result;
        }
    }

    /// <summary>The newest event of a type, or null.</summary>
    public JsonObject? Last(string type)
    {
        lock (_lock)
            return Texts(0).Select(json => JsonNode.Parse(json)!.AsObject()).LastOrDefault(e => (string?)e["type"] == type);
    }

    /// <summary>The JSON of this log's events from index <paramref name="first"/> on (call holding the lock).</summary>
    private IEnumerable<string> Texts(int first)
    {
        if (_file is null) return _memory.Skip(first);
        var count = _offsets.Count - first;
        if (count <= 0) return [];
        var start = _offsets[first];
        var bytes = new byte[_file.Position - start];
        RandomAccess.Read(_file.SafeFileHandle, bytes, start);
        return Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Cuts a torn last line, puts the stream at the end, and returns the seq of the last whole event (0 if none).</summary>
    private static long ContinueAfterLastWholeLine(FileStream file)
    {
        var length = file.Length;
        var end = NewlineBefore(file, length) + 1;
        if (end != length) file.SetLength(end);
        file.Seek(end, SeekOrigin.Begin);
        if (end == 0) return 0;
        var start = NewlineBefore(file, end - 1) + 1;
        var line = new byte[end - 1 - start];
        RandomAccess.Read(file.SafeFileHandle, line, start);
        var read = Format.JsonFields.OfFile($"the event log {file.Name}, last line,");
        return read.RequiredLong(read.ParseObject(line), "seq");
    }

    /// <summary>The offset of the last newline before <paramref name="position"/>, or -1.</summary>
    private static long NewlineBefore(FileStream file, long position)
    {
        var chunk = new byte[4096];
        while (position > 0)
        {
            var size = (int)Math.Min(chunk.Length, position);
            position -= size;
            var read = RandomAccess.Read(file.SafeFileHandle, chunk.AsSpan(0, size), position);
            var at = chunk.AsSpan(0, read).LastIndexOf((byte)'\n');
            if (at >= 0) return position + at;
        }
        return -1;
    }

    /// <summary>Closes the file (the events stay in it).</summary>
    public void Dispose()
    {
        lock (_lock) _file?.Dispose();
    }
}
