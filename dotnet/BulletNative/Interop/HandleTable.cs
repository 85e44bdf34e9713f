using System.Collections.Concurrent;

namespace BulletNative.Interop;

/// <summary>
/// Maps opaque 64-bit handles to library objects, so a stale or forged handle from the caller is a clear
/// error rather than a wild pointer. Ids are never reused within a process.
/// </summary>
internal static class HandleTable
{
    private static readonly ConcurrentDictionary<long, object> s_objects = new();
    private static long s_next;

    /// <summary>Registers an object and returns its new handle (never 0).</summary>
    public static long Add(object value)
    {
        var id = Interlocked.Increment(ref s_next);
        s_objects[id] = value;
        return id;
    }

    /// <summary>The object behind a handle, checked to be of the expected kind.</summary>
    public static T Get<T>(long handle) where T : class
    {
        if (!s_objects.TryGetValue(handle, out var value))
            throw new BulletException(NativeStatus.InvalidHandle, $"handle {handle} is not open (never created or already freed)");
        return value as T ?? throw new BulletException(NativeStatus.InvalidHandle,
            $"handle {handle} is a {value.GetType().Name}, not a {typeof(T).Name}");
    }

    /// <summary>Removes a handle, disposing its object when it is disposable; unknown handles are an error.</summary>
    public static void Free(long handle)
    {
        if (!s_objects.TryRemove(handle, out var value))
            throw new BulletException(NativeStatus.InvalidHandle, $"handle {handle} is not open (never created or already freed)");
        (value as IDisposable)?.Dispose();
    }
}
