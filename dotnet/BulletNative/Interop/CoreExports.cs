using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BulletNative.Interop;

/// <summary>The conventions every caller needs: version, last error, freeing returned buffers.</summary>
internal static unsafe class CoreExports
{
    private static readonly byte[] s_version = GC.AllocateArray<byte>(LibraryInfo.Version.Length + 1, pinned: true);

    static CoreExports()
    {
        System.Text.Encoding.ASCII.GetBytes(LibraryInfo.Version).CopyTo(s_version, 0);
    }

    /// <summary>The library version as a static NUL-terminated string.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_version")]
    public static byte* Version() => (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(s_version, 0);

    /// <summary>The calling thread's last error message (empty after a success).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_last_error")]
    public static byte* LastError() => NativeCall.LastError();

    /// <summary>Frees a buffer this library returned.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_free_buffer")]
    public static void FreeBuffer(byte* buffer) => NativeCall.FreeBuffer(buffer);

    /// <summary>Frees any handle this library returned (model, tokenizer, session, generator).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_free_handle")]
    public static int FreeHandle(long handle) => NativeCall.Run(() => HandleTable.Free(handle));
}
