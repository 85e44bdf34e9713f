namespace BulletNative;

/// <summary>Version facts of this library.</summary>
public static class LibraryInfo
{
    /// <summary>Semantic version of the library and its C ABI.</summary>
    public const string Version = "0.1.0";
}
