using System.Text;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// The read-side twin of <see cref="PaxHeaderNameNormalisingStream"/>: a tar stream filter that rewrites
/// <c>SCHILY.xattr.*</c> pax records whose values are not valid UTF-8 (binary attributes such as
/// <c>security.capability</c>, stored raw by GNU tar, Go and containerd) to <see cref="PaxHeaderNameNormalisingStream.BinaryValueMarker"/>
/// + base64, fixing the record lengths, size field and checksum. System.Formats.Tar decodes pax values as UTF-8 and
/// would replace those bytes; behind this filter <see cref="PaxAttributeValues.Decode"/> recovers them exactly.
/// Everything else, file data included, streams through untouched.
/// </summary>
internal sealed class PaxBinaryValueReadStream(Stream inner) : Stream
{
    private const int BlockSize = 512;
    private byte[] _pending = [];
    private int _pendingOffset;
    private long _dataRemaining;
    private bool _ended;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_pendingOffset < _pending.Length)
            {
                var n = Math.Min(buffer.Length, _pending.Length - _pendingOffset);
                _pending.AsSpan(_pendingOffset, n).CopyTo(buffer.Span);
                _pendingOffset += n;
                return n;
            }

            if (_dataRemaining > 0)
            {
                var want = (int)Math.Min(buffer.Length, _dataRemaining);
                var read = await inner.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException("tar stream ended inside an entry's data");
                }

                _dataRemaining -= read;
                return read;
            }

            if (_ended)
            {
                return 0;
            }

            var header = new byte[BlockSize];
            var got = await inner.ReadAtLeastAsync(header, BlockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (got == 0)
            {
                _ended = true;
                return 0;
            }

            if (got < BlockSize || header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                // End-of-archive blocks or a short tail: pass on as they are; TarReader judges them.
                _pending = header[..got];
                _pendingOffset = 0;
                continue;
            }

            var type = (char)header[156];
            var size = TarHeaderFields.ParseSize(header.AsSpan(124, 12));
            var padded = (size + BlockSize - 1) / BlockSize * BlockSize;
            if (type != 'x' || size > 1 << 20)
            {
                _pending = header;
                _pendingOffset = 0;
                _dataRemaining = type is '1' or '2' or '3' or '4' or '5' or '6' ? 0 : padded;
                continue;
            }

            var data = new byte[padded];
            await inner.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
            var records = data.AsSpan(0, (int)size);
            var rewritten = PaxAttributeValues.EncodeBinaryValues(records);
            if (rewritten is null)
            {
                _pending = [.. header, .. data];
            }
            else
            {
                TarHeaderFields.SetSize(header, rewritten.Length);
                var paddedLength = (rewritten.Length + BlockSize - 1) / BlockSize * BlockSize;
                var block = new byte[BlockSize + paddedLength];
                header.CopyTo(block, 0);
                rewritten.CopyTo(block, BlockSize);
                _pending = block;
            }

            _pendingOffset = 0;
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
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Fields of a POSIX ustar header block (POSIX.1-2001 "ustar Interchange Format") this code rewrites.</summary>
internal static class TarHeaderFields
{
    public static long ParseSize(ReadOnlySpan<byte> field)
    {
        // GNU base-256 for sizes beyond the 11 octal digits: high bit of the first byte set.
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

    /// <summary>Writes the size (11 octal digits + NUL) and recomputes the checksum.</summary>
    public static void SetSize(byte[] header, long size)
    {
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0')).CopyTo(header, 124);
        header[135] = 0;
        UpdateChecksum(header);
    }

    /// <summary>The sum of all header bytes with the checksum field counted as spaces: six octal digits, NUL, space.</summary>
    public static void UpdateChecksum(byte[] header)
    {
        header.AsSpan(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in header.AsSpan(0, 512))
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0')).CopyTo(header, 148);
        header[154] = 0;
        header[155] = (byte)' ';
    }
}

/// <summary>
/// Pax records (<c>LENGTH KEY=VALUE\n</c>, LENGTH counting the whole record including its own digits) and the
/// marker encoding that carries binary attribute values through System.Formats.Tar's string API.
/// </summary>
internal static class PaxAttributeValues
{
    private static readonly byte[] MarkerBytes = Encoding.ASCII.GetBytes(PaxHeaderNameNormalisingStream.BinaryValueMarker);
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>The bytes an attribute value read through TarReader stands for.</summary>
    public static byte[] Decode(string value) =>
        value.StartsWith(PaxHeaderNameNormalisingStream.BinaryValueMarker, StringComparison.Ordinal)
            ? Convert.FromBase64String(value[PaxHeaderNameNormalisingStream.BinaryValueMarker.Length..])
            : Encoding.UTF8.GetBytes(value);

    /// <summary>Records with binary xattr values re-encoded as marker + base64; null when nothing needed it.</summary>
    public static byte[]? EncodeBinaryValues(ReadOnlySpan<byte> records) => Rewrite(records, (key, value) =>
    {
        if (!key.StartsWith("SCHILY.xattr."u8))
        {
            return null;
        }

        try
        {
            var text = StrictUtf8.GetString(value);
            if (!text.StartsWith(PaxHeaderNameNormalisingStream.BinaryValueMarker, StringComparison.Ordinal) && !text.Contains('\0'))
            {
                return null;
            }
        }
        catch (DecoderFallbackException)
        {
        }

        return [.. MarkerBytes, .. Encoding.ASCII.GetBytes(Convert.ToBase64String(value))];
    });

    /// <summary>Records with marker + base64 values replaced by the raw bytes; null when there were none.</summary>
    public static byte[]? DecodeBinaryValues(ReadOnlySpan<byte> records) => records.IndexOf(MarkerBytes) < 0 ? null : Rewrite(records, (_, value) =>
        value.StartsWith(MarkerBytes) ? Convert.FromBase64String(Encoding.ASCII.GetString(value[MarkerBytes.Length..])) : null);

    private delegate byte[]? ValueRewriter(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    private static byte[]? Rewrite(ReadOnlySpan<byte> records, ValueRewriter rewrite)
    {
        var output = new MemoryStream();
        var changed = false;
        var position = 0;
        while (position < records.Length)
        {
            var space = records[position..].IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(Encoding.ASCII.GetString(records.Slice(position, space)), out var length) || length <= space + 1 || position + length > records.Length)
            {
                throw new InvalidDataException("malformed pax extended header record");
            }

            var record = records.Slice(position + space + 1, length - space - 2);
            var equals = record.IndexOf((byte)'=');
            var key = equals < 0 ? record : record[..equals];
            ReadOnlySpan<byte> value = equals < 0 ? [] : record[(equals + 1)..];
            var replacement = equals < 0 ? null : rewrite(key, value);
            if (replacement is not null)
            {
                changed = true;
                value = replacement;
            }

            var body = key.Length + 1 + value.Length + 1;
            var total = body + 2;
            while (total != body + 1 + Digits(total))
            {
                total = body + 1 + Digits(total);
            }

            output.Write(Encoding.ASCII.GetBytes(total.ToString(System.Globalization.CultureInfo.InvariantCulture) + " "));
            output.Write(key);
            output.WriteByte((byte)'=');
            output.Write(value);
            output.WriteByte((byte)'\n');
            position += length;
        }

        return changed ? output.ToArray() : null;
    }

    private static int Digits(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
}
