namespace BulletNative.Training;

/// <summary>Writes a file so a reader sees either the old file or the complete new one: temp file beside it, then rename.</summary>
internal static class AtomicWrite
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/> atomically.</summary>
    public static void Bytes(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with UTF-8 <paramref name="text"/> atomically.</summary>
    public static void Text(string path, string text) => Bytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
