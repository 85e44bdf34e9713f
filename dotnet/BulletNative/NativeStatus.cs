namespace BulletNative;

/// <summary>Status codes every export returns; 0 is success, the message of a failure is read with bullet_last_error.</summary>
public enum NativeStatus
{
    /// <summary>0: the call succeeded; outputs are set.</summary>
    Ok = 0,
    /// <summary>An argument was null, out of range or malformed (bad JSON, bad option).</summary>
    InvalidArgument = 1,
    /// <summary>A file could not be read or written.</summary>
    IoError = 2,
    /// <summary>Input data (a .bullet, .npy, safetensors, tokenizer file) violates its format.</summary>
    FormatError = 3,
    /// <summary>A handle is unknown, already freed, or of another kind.</summary>
    InvalidHandle = 4,
    /// <summary>The operation was stopped by the caller.</summary>
    Cancelled = 5,
    /// <summary>The operation is not possible in the object's current state (stepping a running session, starting a finished one).</summary>
    InvalidState = 6,
    /// <summary>A bug: an unexpected exception inside the library.</summary>
    InternalError = 99,
}
