namespace BulletNative.Text;

/// <summary>
/// A read-only stream that fails once more than a limit has come out of the inner stream. Counting what is actually
/// read, not a declared size, is what stops a zip entry whose header lies about its uncompressed length.
/// </summary>
internal sealed class LimitedReadStream(Stream inner, long limit, string what) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Asking for one byte past the limit tells "exactly at the limit" from "over it".
        var allowed = (int)Math.Min(buffer.Length, limit - _read + 1);
        var n = inner.Read(buffer[..allowed]);
        _read += n;
        if (_read > limit) throw new BulletFormatException($"{what} is larger than the limit of {limit:N0} bytes uncompressed");
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
