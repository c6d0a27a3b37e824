using System.Formats.Tar;
using System.Text;
using EdgeForge.FileTree;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// Writes file-tree entries as a reproducible PAX tar: every entry gets the same modification time
/// (<c>SOURCE_DATE_EPOCH</c>, reproducible-builds.org, default 0), explicit numeric owner and mode with empty user and
/// group names, no access or change times, pax header blocks all named alike (<see cref="PaxHeaderNameNormalisingStream"/>); long names and extended attributes go into PAX records, attributes as
/// <c>SCHILY.xattr.NAME</c> (the convention GNU tar, Go's archive/tar and containerd read).
/// </summary>
public sealed class DeterministicTarWriter : IAsyncDisposable
{
    private readonly TarWriter _writer;
    private readonly DateTimeOffset _modificationTime;
    private readonly bool _keepModificationTimes;

    /// <remarks>The output stream is left open: the caller owns it and finishes compression after the tar ends.</remarks>
    public DeterministicTarWriter(Stream output, long sourceDateEpoch)
        : this(output, sourceDateEpoch, keepModificationTimes: false)
    {
    }

    /// <param name="keepModificationTimes">
    /// Write each entry's own <see cref="FileTreeEntry.ModificationTime"/> instead of <paramref name="sourceDateEpoch"/>:
    /// for trees that are already fixed content (another image's files re-layered), whose times are part of what is
    /// copied and are as reproducible as the content itself.
    /// </param>
    public DeterministicTarWriter(Stream output, long sourceDateEpoch, bool keepModificationTimes)
    {
        _writer = new TarWriter(new PaxHeaderNameNormalisingStream(output), TarEntryFormat.Pax, leaveOpen: false);
        _modificationTime = DateTimeOffset.FromUnixTimeSeconds(sourceDateEpoch);
        _keepModificationTimes = keepModificationTimes;
    }

    /// <summary><c>SOURCE_DATE_EPOCH</c> from the environment, or 0.</summary>
    public static long SourceDateEpochFromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), out var epoch) && epoch >= 0 ? epoch : 0;

    /// <summary>Writes one entry; <paramref name="content"/> (exactly <c>entry.Size</c> bytes) for regular files only.</summary>
    public async Task WriteEntryAsync(FileTreeEntry entry, Stream? content, CancellationToken cancellationToken = default)
    {
        var type = entry.Kind switch
        {
            FileTreeEntryKind.Directory => TarEntryType.Directory,
            FileTreeEntryKind.RegularFile => TarEntryType.RegularFile,
            FileTreeEntryKind.Symlink => TarEntryType.SymbolicLink,
            FileTreeEntryKind.Hardlink => TarEntryType.HardLink,
            FileTreeEntryKind.CharacterDevice => TarEntryType.CharacterDevice,
            FileTreeEntryKind.BlockDevice => TarEntryType.BlockDevice,
            FileTreeEntryKind.Fifo => TarEntryType.Fifo,
            _ => throw new NotSupportedException($"{entry.Path}: a {entry.Kind} cannot be stored in a tar layer"),
        };
        var attributes = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in entry.ExtendedAttributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            attributes.Add(new("SCHILY.xattr." + name, DecodeAttributeValue(entry.Path, name, value)));
        }

        var tarEntry = new PaxTarEntry(type, entry.Kind == FileTreeEntryKind.Directory ? entry.Path + "/" : entry.Path, attributes)
        {
            Mode = (UnixFileMode)(entry.Mode & 0xFFF),
            Uid = entry.Uid,
            Gid = entry.Gid,
            UserName = "",
            GroupName = "",
            ModificationTime = _keepModificationTimes ? DateTimeOffset.FromUnixTimeSeconds(entry.ModificationTime) : _modificationTime,
        };
        switch (entry.Kind)
        {
            case FileTreeEntryKind.Symlink:
            case FileTreeEntryKind.Hardlink:
                tarEntry.LinkName = entry.LinkTarget ?? throw new InvalidDataException($"{entry.Path}: link without a target");
                break;
            case FileTreeEntryKind.CharacterDevice:
            case FileTreeEntryKind.BlockDevice:
                tarEntry.DeviceMajor = entry.DeviceMajor;
                tarEntry.DeviceMinor = entry.DeviceMinor;
                break;
            case FileTreeEntryKind.RegularFile:
                tarEntry.DataStream = content is null ? null : new ExactLengthReadStream(content, entry.Size, entry.Path);
                break;
        }

        await _writer.WriteEntryAsync(tarEntry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// PAX record values are meant to be UTF-8 (POSIX pax "Extended header keywords") and System.Formats.Tar only
    /// writes strings, but xattr values such as <c>security.capability</c> are binary and GNU tar, Go and containerd
    /// store them as raw bytes. Such values travel through TarWriter base64-encoded behind a marker, and
    /// <see cref="PaxHeaderNameNormalisingStream"/> writes their raw bytes into the record.
    /// </summary>
    private static string DecodeAttributeValue(string path, string name, byte[] value)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
            if (!text.StartsWith(PaxHeaderNameNormalisingStream.BinaryValueMarker, StringComparison.Ordinal) && !text.Contains('\0'))
            {
                return text;
            }
        }
        catch (DecoderFallbackException)
        {
        }

        return PaxHeaderNameNormalisingStream.BinaryValueMarker + Convert.ToBase64String(value);
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}

/// <summary>Presents exactly <c>length</c> bytes of a stream with a known Length, so TarWriter can size the entry without seeking.</summary>
/// <remarks>
/// TarWriter takes an entry's size from a seekable data stream and refuses unseekable ones when its output cannot
/// seek (a compressor never can), so this stream reports itself seekable but allows only "seeks" to where it is.
/// </remarks>
internal sealed class ExactLengthReadStream(Stream inner, long length, string what) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var want = (int)Math.Min(buffer.Length, length - _position);
        if (want == 0)
        {
            return 0;
        }

        var read = inner.Read(buffer[..want]);
        return Advance(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var want = (int)Math.Min(buffer.Length, length - _position);
        if (want == 0)
        {
            return 0;
        }

        var read = await inner.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Advance(int read)
    {
        if (read == 0)
        {
            throw new IOException($"{what}: ended after {_position} of {length} bytes (changed while being read?)");
        }

        _position += read;
        return read;
    }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
        return target == _position ? _position : throw new NotSupportedException($"{what}: content is streamed once and cannot seek");
    }

    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
