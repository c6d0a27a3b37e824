using System.Text;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// A write-through filter for a tar stream that gives every pax extended header (typeflag 'x') the same name,
/// and writes binary attribute values (passed through TarWriter as <see cref="BinaryValueMarker"/> + base64) as
/// their raw bytes, with record lengths and the header's size recomputed;
/// <c>././@PaxHeader</c>, with its checksum recomputed. System.Formats.Tar names these headers
/// <c>DIR/PaxHeaders.PID/NAME</c> (GNU tar's default pattern), so the process id would leak into every layer and
/// the same tree written twice would differ. The name of an extended header is informational only (POSIX pax,
/// "pax Header Block": readers take the path from the records); the tar stays valid for every reader.
/// </summary>
internal sealed class PaxHeaderNameNormalisingStream(Stream inner) : Stream
{
    private const int BlockSize = 512;
    /// <summary>Prefix of an attribute value that stands for the base64-encoded bytes after it.</summary>
    public const string BinaryValueMarker = "edgeforge.binary-value.base64:";

    private static readonly byte[] FixedName = Encoding.ASCII.GetBytes("././@PaxHeader");
    private readonly byte[] _header = new byte[BlockSize];
    private int _headerFill;
    private long _dataRemaining;
    private MemoryStream? _paxData;
    private long _paxDataSize;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_dataRemaining > 0)
            {
                var pass = (int)Math.Min(_dataRemaining, buffer.Length);
                if (_paxData is not null)
                {
                    _paxData.Write(buffer[..pass]);
                }
                else
                {
                    inner.Write(buffer[..pass]);
                }

                _dataRemaining -= pass;
                buffer = buffer[pass..];
                if (_dataRemaining == 0 && _paxData is not null)
                {
                    WritePaxHeader();
                }

                continue;
            }

            var take = Math.Min(BlockSize - _headerFill, buffer.Length);
            buffer[..take].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += take;
            buffer = buffer[take..];
            if (_headerFill == BlockSize)
            {
                ProcessHeader();
                _headerFill = 0;
                if (_paxData is null)
                {
                    inner.Write(_header);
                }
                else if (_dataRemaining == 0)
                {
                    WritePaxHeader();
                }
            }
        }
    }

    private void ProcessHeader()
    {
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            return; // end-of-archive block
        }

        var type = (char)_header[156];
        var size = TarHeaderFields.ParseSize(_header.AsSpan(124, 12));
        // Directories, links, devices and fifos carry no data whatever their size field says (POSIX ustar).
        _dataRemaining = type is '1' or '2' or '3' or '4' or '5' or '6' ? 0 : (size + BlockSize - 1) / BlockSize * BlockSize;
        if (type != 'x')
        {
            return;
        }

        // Hold the header and its records until all records are in: rewriting values changes the size field.
        _paxData = new MemoryStream();
        _paxDataSize = size;
    }

    private void WritePaxHeader()
    {
        var records = _paxData!.ToArray().AsSpan(0, (int)_paxDataSize);
        var rewritten = PaxAttributeValues.DecodeBinaryValues(records) ?? records.ToArray();
        _paxData = null;
        _header.AsSpan(0, 100).Clear();
        FixedName.CopyTo(_header, 0);
        _header.AsSpan(345, 155).Clear();
        TarHeaderFields.SetSize(_header, rewritten.Length);
        inner.Write(_header);
        inner.Write(rewritten);
        inner.Write(new byte[(BlockSize - (rewritten.Length % BlockSize)) % BlockSize]);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
        if (_headerFill != 0)
        {
            throw new InvalidDataException("tar stream ended inside a header block");
        }

        inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
