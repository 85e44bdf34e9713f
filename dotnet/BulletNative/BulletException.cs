
namespace BulletNative;

/// <summary>An error with a message meant for a person, and the status it maps to at the C ABI.</summary>
public class BulletException(NativeStatus status, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The status code the C ABI returns for this error.</summary>
    public NativeStatus Status { get; } = status;
}

/// <summary>Input violates its file format; the message names the field and the offset where possible.</summary>
public sealed class BulletFormatException(string message) : BulletException(NativeStatus.FormatError, message);

/// <summary>The object cannot do this now; the message says what it is doing and what would make it possible.</summary>
public sealed class BulletStateException(string message) : BulletException(NativeStatus.InvalidState, message);

/// <summary>An argument or option is invalid; the message says which and why.</summary>
public sealed class BulletArgumentException(string message) : BulletException(NativeStatus.InvalidArgument, message);
