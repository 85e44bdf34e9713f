namespace BulletNative.Tests;

/// <summary>Locations the tests read: the shared fixtures beside the repository, and scratch folders.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding build.sh).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared fixtures folder (../shared/fixtures beside the repository).</summary>
    public static string Fixtures => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures"));

    /// <summary>A shared fixture by file name.</summary>
    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    /// <summary>A new empty scratch folder under the system temp folder.</summary>
    public static string NewScratch()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bullet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (build.sh) above " + AppContext.BaseDirectory);
    }
}
