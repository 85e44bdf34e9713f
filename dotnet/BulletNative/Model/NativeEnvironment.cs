using System.Runtime.InteropServices;

namespace BulletNative.Model;

/// <summary>
/// The C library's environment. On Unix .NET keeps its own copy of the variables, so what native libraries
/// (libgomp, MKL) and later child processes read, and what a host (Python) changed after start, live only here.
/// </summary>
internal static class NativeEnvironment
{
    /// <summary>The variable's value, or null when unset.</summary>
    public static string? Get(string name) => Marshal.PtrToStringUTF8(getenv(name));

    /// <summary>Sets the variable unless it is set already (an empty value counts as set).</summary>
    public static void SetDefault(string name, string value) => setenv(name, value, overwrite: 0);

    [DllImport("libc.so.6")]
    private static extern nint getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc.so.6")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
