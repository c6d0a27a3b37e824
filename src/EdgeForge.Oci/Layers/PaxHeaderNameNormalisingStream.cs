using System.Text;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// A write-through filter for a tar stream that gives every pax extended header (typeflag 'x') the same name,
/// <c>././@PaxHeader</c>, with its checksum recomputed. System.Formats.Tar names these headers
/// <c>DIR/PaxHeaders.PID/NAME</c> (GNU tar's default pattern), so the process id would leak into every layer and
/// the same tree written twice would differ. The name of an extended header is informational only (POSIX pax,
/// "pax Header Block": readers take the path from the records); the tar stays valid for every reader.
/// </summary>
internal sealed class PaxHeaderNameNormalisingStream(Stream inner) : Stream
{
    private const int BlockSize = 512;
    private static readonly byte[] FixedName = Encoding.ASCII.GetBytes("././@PaxHeader");
    private readonly byte[] _header = new byte[BlockSize];
    private int _headerFill;
    private long _dataRemaining;

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
                inner.Write(buffer[..pass]);
                _dataRemaining -= pass;
                buffer = buffer[pass..];
                continue;
            }

            var take = Math.Min(BlockSize - _headerFill, buffer.Length);
            buffer[..take].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += take;
            buffer = buffer[take..];
            if (_headerFill == BlockSize)
            {
                ProcessHeader();
                inner.Write(_header);
                _headerFill = 0;
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
        var size = ParseSize(_header.AsSpan(124, 12));
        // Directories, links, devices and fifos carry no data whatever their size field says (POSIX ustar).
        _dataRemaining = type is '1' or '2' or '3' or '4' or '5' or '6' ? 0 : (size + BlockSize - 1) / BlockSize * BlockSize;
        if (type != 'x')
        {
            return;
        }

        _header.AsSpan(0, 100).Clear();
        FixedName.CopyTo(_header, 0);
        _header.AsSpan(345, 155).Clear();
        // Checksum: the sum of all header bytes with the checksum field counted as spaces, six octal digits, NUL, space.
        _header.AsSpan(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in _header)
        {
            sum += b;
        }

        var text = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0'));
        text.CopyTo(_header, 148);
        _header[154] = 0;
        _header[155] = (byte)' ';
    }

    private static long ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            long value = field[0] & 0x7f;
            for (var i = 1; i < field.Length; i++)
            {
                value = (value << 8) | field[i];
            }

            return value;
        }

        var text = Encoding.ASCII.GetString(field).Trim(' ', '\0');
        return text.Length == 0 ? 0 : Convert.ToInt64(text, 8);
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
