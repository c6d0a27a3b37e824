using System.IO.Compression;
using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// One-shot zlib (RFC 1950: deflate with the 2-byte header and Adler-32 trailer) over System.IO.Compression — the
/// format SquashFS calls "gzip" and the kernel's zlib_inflate reads.
/// </summary>
public static class ZLib
{
    /// <summary>zlib's levels: 0 (store) to 9 (smallest).</summary>
    public const int MinLevel = 0, MaxLevel = 9;

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/> at zlib <paramref name="level"/>.
    /// Returns false when the result does not fit — how block formats detect data better stored raw.
    /// </summary>
    public static bool TryCompress(ReadOnlySpan<byte> source, Memory<byte> destination, int level, out int bytesWritten)
    {
        ValidateLevel(level);
        var sink = new BoundedMemoryStream(destination);
        using (var deflater = new ZLibStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            deflater.Write(source);
        }

        bytesWritten = sink.Overflowed ? 0 : sink.Written;
        return !sink.Overflowed;
    }

    /// <summary>Decompresses one zlib stream into <paramref name="destination"/>; returns the byte count.</summary>
    /// <exception cref="InvalidDataException">The input is not a complete zlib stream or does not fit.</exception>
    public static int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
    {
        using var input = AsStream(source);
        using var inflater = new ZLibStream(input, CompressionMode.Decompress);
        var total = 0;
        while (total < destination.Length)
        {
            var read = inflater.Read(destination[total..]);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }

        Span<byte> probe = stackalloc byte[1];
        return inflater.Read(probe) == 0 ? total : throw new InvalidDataException("zlib: the data does not fit the destination");
    }

    internal static void ValidateLevel(int level)
    {
        if (level is < MinLevel or > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"zlib levels run from {MinLevel} to {MaxLevel}");
        }
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> source) =>
        MemoryMarshal.TryGetArray(source, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(source.ToArray(), writable: false);

    /// <summary>A write-only sink over a fixed buffer that records, instead of throwing, when it would overflow.</summary>
    private sealed class BoundedMemoryStream(Memory<byte> buffer) : Stream
    {
        public int Written { get; private set; }

        public bool Overflowed { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] bytes, int offset, int count) => Write(bytes.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            if (Overflowed || Written + bytes.Length > buffer.Length)
            {
                Overflowed = true;
                return;
            }

            bytes.CopyTo(buffer.Span[Written..]);
            Written += bytes.Length;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] bytes, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>gzip (RFC 1952) streams over System.IO.Compression, with zlib's numeric levels.</summary>
public static class Gzip
{
    /// <summary>A write-only stream that gzip-compresses into <paramref name="inner"/> at zlib <paramref name="level"/> (0–9).</summary>
    public static Stream CreateCompressStream(Stream inner, int level = 6, bool leaveOpen = false)
    {
        ZLib.ValidateLevel(level);
        return new GZipStream(inner, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen);
    }

    /// <summary>A read-only stream of the decompressed gzip members read from <paramref name="inner"/>.</summary>
    public static Stream CreateDecompressStream(Stream inner, bool leaveOpen = false) =>
        new GZipStream(inner, CompressionMode.Decompress, leaveOpen);
}
