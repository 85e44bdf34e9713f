using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Interop;

/// <summary>
/// The boundary rules shared by every export: run the body, catch everything, remember the message
/// per thread, return a status. No exception ever leaves an export (it would kill the host process).
/// </summary>
internal static unsafe class NativeCall
{
    [ThreadStatic] private static byte[]? s_lastError;

    /// <summary>Runs <paramref name="body"/> and turns any exception into a status plus a last-error message.</summary>
    public static int Run(Action body)
    {
        try
        {
            body();
            SetLastError(null);
            return (int)NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>Records the exception's message for bullet_last_error and returns its status.</summary>
    public static int Fail(Exception e)
    {
        var (status, message) = e switch
        {
            BulletException b => (b.Status, b.Message),
            FileNotFoundException f => (NativeStatus.IoError, f.Message),
            DirectoryNotFoundException d => (NativeStatus.IoError, d.Message),
            UnauthorizedAccessException u => (NativeStatus.IoError, u.Message),
            IOException io => (NativeStatus.IoError, io.Message),
            OperationCanceledException => (NativeStatus.Cancelled, "cancelled"),
            OutOfMemoryException => (NativeStatus.InternalError, "out of memory"),
            _ => (NativeStatus.InternalError, $"internal error ({e.GetType().Name}): {e.Message}"),
        };
        SetLastError(message);
        return (int)status;
    }

    /// <summary>The calling thread's last error as a NUL-terminated UTF-8 string, valid until its next call.</summary>
    public static byte* LastError()
    {
        // Every buffer stored here is allocated pinned, so its address stays valid until this thread's next call.
        if (s_lastError is null) SetLastError(null);
        return (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(s_lastError!, 0);
    }

    private static void SetLastError(string? message)
    {
        var bytes = Encoding.UTF8.GetBytes(message ?? "");
        var buffer = GC.AllocateArray<byte>(bytes.Length + 1, pinned: true);
        bytes.CopyTo(buffer, 0);
        s_lastError = buffer;
    }

    /// <summary>Reads a NUL-terminated UTF-8 argument; null is an error naming the argument.</summary>
    public static string Utf8(byte* text, string argument)
    {
        if (text == null) throw new BulletArgumentException($"{argument} must not be null");
        return Marshal.PtrToStringUTF8((nint)text) ?? "";
    }

    /// <summary>Reads an optional NUL-terminated UTF-8 argument (null or empty gives null).</summary>
    public static string? OptionalUtf8(byte* text)
    {
        if (text == null) return null;
        var s = Marshal.PtrToStringUTF8((nint)text);
        return string.IsNullOrEmpty(s) ? null : s;
    }

    /// <summary>Parses an optional JSON object argument; null or empty means an empty object.</summary>
    public static JsonObject JsonArgument(byte* json, string argument)
    {
        var text = OptionalUtf8(json);
        return text is null ? new JsonObject() : JsonFields.Of(argument).ParseObject(text);
    }

    /// <summary>
    /// A caller's array of <paramref name="count"/> values as a span: the count must fit a span and the pointer may be
    /// null only when the count is 0.
    /// </summary>
    public static ReadOnlySpan<T> Input<T>(T* data, long count, string argument) where T : unmanaged => Output(data, count, argument);

    /// <summary>A caller's buffer of <paramref name="count"/> values to write into (checked as <see cref="Input"/>).</summary>
    public static Span<T> Output<T>(T* data, long count, string argument) where T : unmanaged
    {
        if (count < 0 || count > Array.MaxLength) throw new BulletArgumentException($"{argument} length {count} is out of range");
        if (count > 0 && data == null) throw new BulletArgumentException($"{argument} must not be null");
        return count == 0 ? [] : new Span<T>(data, (int)count);
    }

    /// <summary>Registers <paramref name="value"/> in the handle table and writes its handle to the caller's pointer.</summary>
    public static void ReturnHandle(object value, long* outHandle)
    {
        if (outHandle == null) throw new BulletArgumentException("the handle output pointer must not be null");
        *outHandle = HandleTable.Add(value);
    }

    /// <summary>Hands bytes to the caller in a library-owned buffer, released with bullet_free_buffer.</summary>
    public static void ReturnBytes(ReadOnlySpan<byte> bytes, byte** outData, long* outLength)
    {
        if (outData == null || outLength == null) throw new BulletArgumentException("output pointers must not be null");
        var buffer = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, bytes.Length + 1));
        bytes.CopyTo(new Span<byte>(buffer, bytes.Length));
        buffer[bytes.Length] = 0; // a NUL after the data lets C callers treat JSON as a string
        *outData = buffer;
        *outLength = bytes.Length;
    }

    /// <summary>Hands a JSON value to the caller as UTF-8 in a library-owned buffer.</summary>
    public static void ReturnJson(JsonNode node, byte** outData, long* outLength) =>
        ReturnBytes(Encoding.UTF8.GetBytes(node.ToJsonString()), outData, outLength);

    /// <summary>Releases a buffer returned by ReturnBytes; null is allowed.</summary>
    public static void FreeBuffer(byte* buffer)
    {
        if (buffer != null) NativeMemory.Free(buffer);
    }
}
