namespace BulletNative.Format;

/// <summary>
/// Writes a folder completely or not at all: its files go into a hidden sibling folder, which then replaces the
/// target (a reader sees the old folder, nothing for a moment, or the complete new one; never a partial one).
/// </summary>
public static class AtomicFolder
{
    /// <summary>The full path of a folder argument without a trailing separator ("ck/" names the folder ck, not a child of it).</summary>
    public static string Normalize(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    /// <summary>Fills a fresh temporary sibling of <paramref name="folder"/> with <paramref name="write"/>, then moves it into place; returns the full path.</summary>
    public static string Write(string folder, Action<string> write)
    {
        var full = Normalize(folder);
        var parent = Path.GetDirectoryName(full) ?? throw new BulletArgumentException($"{folder} cannot be replaced as a folder");
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            Replace(temp, full);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return full;
    }

    private static void Replace(string source, string target)
    {
        string? old = null;
        if (Directory.Exists(target))
        {
            old = target + $".old-{Guid.NewGuid():N}";
            Directory.Move(target, old);
        }
        Directory.Move(source, target);
        if (old != null) Directory.Delete(old, recursive: true);
    }
}
