using System.Text;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Transports;

/// <summary>
/// The regular files of an uncompressed tar archive with the offset and length of their data, so an archive
/// transport can read any member directly (many at once, each with its own file handle) without unpacking.
/// Reads the headers per POSIX.1-2001 ustar/pax (and GNU long names): a 512-byte header, then the data padded to
/// 512 bytes; <c>x</c> records override the next header's path and size.
/// </summary>
internal sealed class TarArchiveIndex
{
    private const int BlockSize = 512;
    private readonly Dictionary<string, (long Offset, long Length)> _members;

    private TarArchiveIndex(string path, Dictionary<string, (long, long)> members)
    {
        ArchivePath = path;
        _members = members;
    }

    public string ArchivePath { get; }

    public IEnumerable<string> Names => _members.Keys;

    public static TarArchiveIndex Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such archive");
        }

        var members = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = new byte[BlockSize];
        string? paxPath = null;
        long? paxSize = null;
        string? longName = null;
        while (true)
        {
            var read = file.ReadAtLeast(header, BlockSize, throwOnEndOfStream: false);
            if (read < BlockSize || header.All(b => b == 0))
            {
                break;
            }

            var name = CString(header.AsSpan(0, 100));
            var prefix = CString(header.AsSpan(345, 155));
            var size = ParseNumber(header.AsSpan(124, 12), path);
            var type = (char)header[156];
            var dataOffset = file.Position;
            var effectiveSize = paxSize ?? size;
            switch (type)
            {
                case 'x':
                    (paxPath, paxSize) = ParsePax(file, size);
                    break;
                case 'g':
                    break;
                case 'L':
                    var buffer = new byte[size];
                    file.ReadExactly(buffer);
                    longName = CString(buffer);
                    break;
                default:
                    var fullName = paxPath ?? longName ?? (prefix.Length > 0 ? prefix + "/" + name : name);
                    if (type is '0' or '\0' or '7')
                    {
                        members[Normalise(fullName)] = (dataOffset, effectiveSize);
                    }

                    paxPath = null;
                    paxSize = null;
                    longName = null;
                    break;
            }

            var consumed = type is 'x' or 'L' ? size : 0;
            var dataSize = type is 'x' or 'L' ? size : type is 'g' ? size : (type is '0' or '\0' or '7' ? effectiveSize : 0);
            file.Position = dataOffset + Pad(dataSize);
            _ = consumed;
        }

        return new TarArchiveIndex(path, members);
    }

    public bool Contains(string name) => _members.ContainsKey(Normalise(name));

    public long LengthOf(string name) => Find(name).Length;

    /// <summary>Opens a member for reading (its own file handle, so several can be read concurrently).</summary>
    public Stream Open(string name)
    {
        var (offset, length) = Find(name);
        var file = new FileStream(ArchivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return new Registry.SliceReadStream(file, offset, length);
    }

    public Stream OpenVerified(string name, Descriptor descriptor) =>
        new DigestVerifyingStream(Open(name), descriptor.Digest, descriptor.Size, $"{ArchivePath}: {name}");

    public byte[] ReadAll(string name, long limit = 64 << 20)
    {
        var (_, length) = Find(name);
        if (length > limit)
        {
            throw new InvalidDataException($"{ArchivePath}: {name} is too large ({length} bytes)");
        }

        using var stream = Open(name);
        var buffer = new byte[length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private (long Offset, long Length) Find(string name) =>
        _members.TryGetValue(Normalise(name), out var member) ? member : throw new FileNotFoundException($"{ArchivePath}: no member {name}");

    private static string Normalise(string name) => name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name.TrimStart('/');

    private static long Pad(long size) => (size + BlockSize - 1) / BlockSize * BlockSize;

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static long ParseNumber(ReadOnlySpan<byte> field, string path)
    {
        // GNU base-256 for sizes beyond 8 GiB: high bit of the first byte set.
        if ((field[0] & 0x80) != 0)
        {
            long value = field[0] & 0x7f;
            for (var i = 1; i < field.Length; i++)
            {
                value = (value << 8) | field[i];
            }

            return value;
        }

        var text = CString(field).Trim(' ', '\0');
        try
        {
            return text.Length == 0 ? 0 : Convert.ToInt64(text, 8);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{path}: corrupt tar header (size field \"{text}\")");
        }
    }

    private static (string? Path, long? Size) ParsePax(Stream file, long size)
    {
        var buffer = new byte[size];
        file.ReadExactly(buffer);
        string? path = null;
        long? length = null;
        var position = 0;
        // Records are "LENGTH KEY=VALUE\n", LENGTH counting the whole record (POSIX pax "pax Extended Header").
        while (position < buffer.Length)
        {
            var space = Array.IndexOf(buffer, (byte)' ', position);
            if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(buffer, position, space - position), out var recordLength) || recordLength <= 0)
            {
                break;
            }

            var record = Encoding.UTF8.GetString(buffer, space + 1, position + recordLength - space - 2);
            var equals = record.IndexOf('=');
            if (equals > 0)
            {
                var key = record[..equals];
                var value = record[(equals + 1)..];
                if (key == "path")
                {
                    path = value;
                }
                else if (key == "size" && long.TryParse(value, out var parsed))
                {
                    length = parsed;
                }
            }

            position += recordLength;
        }

        return (path, length);
    }
}
