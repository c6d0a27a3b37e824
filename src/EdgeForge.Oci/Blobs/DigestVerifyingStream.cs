using System.Security.Cryptography;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Blobs;

/// <summary>
/// Reads a blob through while hashing it and, when the inner stream ends, throws <see cref="DigestMismatchException"/>
/// unless exactly the expected number of bytes with the expected digest went by. Content is verified as it streams
/// (distribution-spec "Pulling blobs": clients SHOULD verify the digest), so nothing is buffered to check it.
/// </summary>
public sealed class DigestVerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly Digest _expected;
    private readonly long _expectedSize;
    private readonly string _what;
    private readonly IncrementalHash _hash;
    private readonly bool _leaveOpen;
    private long _position;
    private bool _verified;

    public DigestVerifyingStream(Stream inner, Digest expected, long expectedSize, string what, bool leaveOpen = false)
    {
        _inner = inner;
        _expected = expected;
        _expectedSize = expectedSize;
        _what = what;
        _hash = expected.CreateHash();
        _leaveOpen = leaveOpen;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _expectedSize >= 0 ? _expectedSize : throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var read = _inner.Read(buffer);
        return Account(buffer[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read]);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            Verify();
            return 0;
        }

        _position += data.Length;
        if (_expectedSize >= 0 && _position > _expectedSize)
        {
            throw new DigestMismatchException($"{_what}: more than the expected {_expectedSize} bytes of {_expected}");
        }

        _hash.AppendData(data);
        return data.Length;
    }

    private void Verify()
    {
        if (_verified)
        {
            return;
        }

        _verified = true;
        if (_expectedSize >= 0 && _position != _expectedSize)
        {
            throw new DigestMismatchException($"{_what}: {_position} bytes received, {_expectedSize} expected for {_expected}");
        }

        var actual = _expected.WithHash(_hash.GetHashAndReset());
        if (actual != _expected)
        {
            throw new DigestMismatchException($"{_what}: digest mismatch: expected {_expected}, got {actual}");
        }
    }

    /// <summary>Reads any rest of the stream so its digest is checked even when the consumer stopped early.</summary>
    public async Task VerifyToEndAsync(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[81920];
        while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (!_leaveOpen)
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Content did not match the digest or size that names it.</summary>
public sealed class DigestMismatchException(string message) : IOException(message);
