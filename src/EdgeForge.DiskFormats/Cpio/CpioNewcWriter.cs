using System.Globalization;
using System.Text;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Cpio;

/// <summary>
/// The "new ASCII" (newc) cpio header, the only format the kernel's initramfs unpacker reads (Linux
/// Documentation/driver-api/early-userspace/buffer-format.rst): the magic, then thirteen 8-digit hexadecimal fields,
/// then the NUL-terminated name padded so header + name end on a 4-byte boundary; file data is padded the same way.
/// </summary>
internal static class CpioNewcFields
{
    public const string Magic = "070701";
    public const int HeaderLength = 110;
    public const string TrailerName = "TRAILER!!!";

    // Mode bits of the header's c_mode (POSIX <sys/stat.h> S_IF*), which carries the entry's kind.
    public const int TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymlink = 0xA000, TypeCharacter = 0x2000,
        TypeBlock = 0x6000, TypeFifo = 0x1000, TypeSocket = 0xC000;

    public static int Pad4(long length) => (int)((4 - (length & 3)) & 3);
}

public sealed record CpioWriteResult(long Length, int Entries);

/// <summary>
/// Writes a file tree as a newc cpio archive to a forward-only stream (so it can be compressed on the way), for
/// initramfs images: a unified kernel image's <c>.initrd</c> is the whole installer root filesystem.
/// </summary>
/// <remarks>
/// Directories, links and special files come first, parents before children, so the kernel can create every file's
/// directory before the file arrives; regular files follow in the order the source delivers their contents (an image's
/// layer order: its blobs are read once, front to back). A hard link set is one inode: the kernel's unpacker
/// (init/initramfs.c, maybe_link) writes the data of the first name it meets and links the later names to it, so the
/// extra names are written after all files, with no data and the same inode number.
/// </remarks>
public static class CpioNewcWriter
{
    public static async Task<CpioWriteResult> WriteAsync(IFileTreeSource source, Stream output, CancellationToken cancellationToken = default)
    {
        var entries = source.Entries.Where(e => e.Path.Length > 0).ToDictionary(e => e.Path, StringComparer.Ordinal);
        AddMissingParents(entries);

        var inodes = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint next = 1;
        foreach (var path in entries.Keys.Order(StringComparer.Ordinal))
        {
            if (entries[path].Kind != FileTreeEntryKind.Hardlink)
            {
                inodes[path] = next++;
            }
        }

        var links = new Dictionary<string, int>(StringComparer.Ordinal);
        var hardlinks = new List<(FileTreeEntry Entry, string Target)>();
        foreach (var entry in entries.Values.Where(e => e.Kind == FileTreeEntryKind.Hardlink))
        {
            var target = ResolveHardlink(entry, entries);
            hardlinks.Add((entry, target));
            links[target] = links.GetValueOrDefault(target, 1) + 1;
        }

        var writer = new HeaderWriter(output);
        var count = 0;
        foreach (var entry in entries.Values.Where(e => e.Kind is not (FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink))
                     .OrderBy(e => e.Path.Count(c => c == '/')).ThenBy(e => e.Path, StringComparer.Ordinal))
        {
            var data = entry.Kind == FileTreeEntryKind.Symlink ? Encoding.UTF8.GetBytes(entry.LinkTarget ?? "") : [];
            await writer.WriteHeaderAsync(entry, inodes[entry.Path], entry.Kind == FileTreeEntryKind.Directory ? 2 : 1, data.Length, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            await writer.PadAsync(data.Length, cancellationToken).ConfigureAwait(false);
            count++;
        }

        await source.ReadContentsAsync(async (entry, contents, token) =>
        {
            await writer.WriteHeaderAsync(entry, inodes[entry.Path], links.GetValueOrDefault(entry.Path, 1), entry.Size, token).ConfigureAwait(false);
            var copied = await CopyExactlyAsync(contents, output, entry.Size, token).ConfigureAwait(false);
            if (copied != entry.Size)
            {
                throw new IOException($"/{entry.Path}: the source delivered {copied} of {entry.Size} bytes");
            }

            await writer.PadAsync(entry.Size, token).ConfigureAwait(false);
            count++;
        }, cancellationToken).ConfigureAwait(false);

        foreach (var (entry, target) in hardlinks.OrderBy(h => h.Entry.Path, StringComparer.Ordinal))
        {
            var file = entries[target];
            await writer.WriteHeaderAsync(file with { Path = entry.Path }, inodes[target], links[target], 0, cancellationToken).ConfigureAwait(false);
            count++;
        }

        await writer.WriteTrailerAsync(cancellationToken).ConfigureAwait(false);
        return new CpioWriteResult(writer.Position, count);
    }

    private static string ResolveHardlink(FileTreeEntry entry, Dictionary<string, FileTreeEntry> entries)
    {
        var target = entry.LinkTarget?.TrimStart('/');
        for (var hops = 0; target is not null && entries.TryGetValue(target, out var t); hops++)
        {
            if (t.Kind == FileTreeEntryKind.RegularFile)
            {
                return target;
            }

            if (t.Kind != FileTreeEntryKind.Hardlink || hops > 64)
            {
                break;
            }

            target = t.LinkTarget?.TrimStart('/');
        }

        throw new InvalidDataException($"/{entry.Path} is a hard link to /{entry.LinkTarget}, which is not a regular file of the tree");
    }

    private static void AddMissingParents(Dictionary<string, FileTreeEntry> entries)
    {
        foreach (var path in entries.Keys.ToList())
        {
            for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                var parent = path[..slash];
                if (!entries.TryAdd(parent, new FileTreeEntry { Path = parent, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED }))
                {
                    break;
                }
            }
        }
    }

    private static async Task<long> CopyExactlyAsync(Stream source, Stream destination, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        while (total < length)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - total)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
        }

        return total;
    }

    private sealed class HeaderWriter(Stream output)
    {
        private static readonly byte[] Zeros = new byte[4];

        public long Position { get; private set; }

        public async Task WriteHeaderAsync(FileTreeEntry entry, uint inode, int links, long size, CancellationToken cancellationToken)
        {
            if (size > uint.MaxValue)
            {
                // c_filesize is 32 bits; the kernel could not unpack a larger file either.
                throw new InvalidDataException($"/{entry.Path} is {size:N0} bytes: a cpio (newc) archive holds files of at most 4 GiB");
            }

            var type = entry.Kind switch
            {
                FileTreeEntryKind.Directory => CpioNewcFields.TypeDirectory,
                FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink => CpioNewcFields.TypeRegular,
                FileTreeEntryKind.Symlink => CpioNewcFields.TypeSymlink,
                FileTreeEntryKind.CharacterDevice => CpioNewcFields.TypeCharacter,
                FileTreeEntryKind.BlockDevice => CpioNewcFields.TypeBlock,
                FileTreeEntryKind.Fifo => CpioNewcFields.TypeFifo,
                FileTreeEntryKind.Socket => CpioNewcFields.TypeSocket,
                _ => throw new InvalidDataException($"/{entry.Path}: {entry.Kind} cannot be stored in cpio"),
            };
            var mode = type | (entry.Mode & 0xFFF);
            await WriteRecordAsync(entry.Path, inode, mode, entry.Uid, entry.Gid, links, entry.ModificationTime, size, entry.DeviceMajor, entry.DeviceMinor, cancellationToken).ConfigureAwait(false);
        }

        public Task WriteTrailerAsync(CancellationToken cancellationToken) =>
            WriteRecordAsync(CpioNewcFields.TrailerName, 0, 0, 0, 0, 1, 0, 0, 0, 0, cancellationToken);

        public async Task PadAsync(long length, CancellationToken cancellationToken)
        {
            var pad = CpioNewcFields.Pad4(length);
            await output.WriteAsync(Zeros.AsMemory(0, pad), cancellationToken).ConfigureAwait(false);
            Position += length + pad;
        }

        private async Task WriteRecordAsync(string name, uint inode, int mode, int uid, int gid, int links, long mtime, long size, int rdevMajor, int rdevMinor, CancellationToken cancellationToken)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var header = new StringBuilder(CpioNewcFields.HeaderLength).Append(CpioNewcFields.Magic);
            foreach (var field in new[]
                     {
                         inode, (uint)mode, (uint)uid, (uint)gid, (uint)links, (uint)Math.Clamp(mtime, 0, uint.MaxValue), (uint)size,
                         0u, 0u, (uint)rdevMajor, (uint)rdevMinor, (uint)(nameBytes.Length + 1), 0u,
                     })
            {
                header.Append(field.ToString("X8", CultureInfo.InvariantCulture));
            }

            var record = new byte[CpioNewcFields.HeaderLength + nameBytes.Length + 1 + CpioNewcFields.Pad4(CpioNewcFields.HeaderLength + nameBytes.Length + 1)];
            Encoding.ASCII.GetBytes(header.ToString(), record);
            nameBytes.CopyTo(record, CpioNewcFields.HeaderLength);
            await output.WriteAsync(record, cancellationToken).ConfigureAwait(false);
            Position += record.Length;
        }
    }
}
