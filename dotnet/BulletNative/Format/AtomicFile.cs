namespace BulletNative.Format;

/// <summary>
/// Writes files so a reader sees either the old file or the complete new one, never a torn write:
/// data goes to a temporary file in the same folder, is flushed to disk, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="data"/>.</summary>
    public static void WriteAllBytes(string path, byte[] data) => Write(path, stream => stream.Write(data));

    /// <summary>Atomically replaces <paramref name="path"/> with UTF-8 text.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Atomically writes whatever <paramref name="write"/> puts into the stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
