using System.Formats.Tar;
using System.Runtime.InteropServices;

namespace EdgeForge.Oci.Layers;

/// <summary>What an extraction did not reproduce exactly (device nodes or attributes an unprivileged user cannot create).</summary>
public sealed record ExtractionResult(int EntriesWritten, IReadOnlyList<string> Warnings);

/// <summary>
/// Applies layer tars to a directory the way a container runtime does (image-spec layer.md "Applying Changesets",
/// whiteouts and opaque directories included), refusing every entry that would write outside the root: absolute
/// names, <c>..</c> components, and paths whose parent resolves through a symlink that leads out of the root.
/// Symlinks are resolved with chroot semantics (an absolute target is taken relative to the root, as
/// <c>/var/run -> /run</c> in Debian images must be), so only targets that climb above the root are refused.
/// </summary>
public static class SafeExtractor
{
    private const int MaxSymlinkHops = 40;

    public static async Task<ExtractionResult> ExtractImageAsync(IImage image, string root, CancellationToken cancellationToken = default)
    {
        var total = 0;
        var warnings = new List<string>();
        foreach (var layer in image.Layers)
        {
            await using var tar = await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false);
            var result = await ExtractLayerAsync(tar, root, cancellationToken).ConfigureAwait(false);
            total += result.EntriesWritten;
            warnings.AddRange(result.Warnings);
        }

        return new ExtractionResult(total, warnings);
    }

    /// <summary>Applies one uncompressed layer tar on top of what <paramref name="root"/> already holds.</summary>
    public static async Task<ExtractionResult> ExtractLayerAsync(Stream tar, string root, CancellationToken cancellationToken = default)
    {
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        var isRoot = Native.geteuid() == 0;
        var warnings = new List<string>();
        var writtenThisLayer = new HashSet<string>(StringComparer.Ordinal);
        var opaque = new List<string>();
        var count = 0;
        // Binary attribute values (security.capability) survive TarReader only behind this filter.
        await using var filtered = new PaxBinaryValueReadStream(new NonDisposingStream(tar));
        await using var reader = new TarReader(filtered, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
            {
                continue;
            }

            var path = TarPaths.Normalise(entry.Name);
            if (path.Length == 0)
            {
                continue;
            }

            var parentFull = SecureJoin(root, TarPaths.ParentOf(path), entry.Name);
            var name = TarPaths.NameOf(path);
            if (name == ".wh..wh..opq")
            {
                opaque.Add(TarPaths.ParentOf(path));
                continue;
            }

            if (name.StartsWith(".wh.", StringComparison.Ordinal))
            {
                RemoveIfExists(Path.Combine(parentFull, name[4..]));
                continue;
            }

            Directory.CreateDirectory(parentFull);
            var full = Path.Combine(parentFull, name);
            await WriteEntryAsync(entry, full, root, isRoot, warnings, cancellationToken).ConfigureAwait(false);
            writtenThisLayer.Add(path);
            count++;
        }

        // Opaque directories hide what lower layers put there, not this layer's own entries, whatever their order.
        foreach (var directory in opaque)
        {
            var full = SecureJoin(root, directory, directory + "/.wh..wh..opq");
            if (Directory.Exists(full))
            {
                ClearLowerEntries(full, directory, writtenThisLayer);
            }
        }

        return new ExtractionResult(count, warnings);
    }

    private static void ClearLowerEntries(string full, string relative, HashSet<string> keep)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries(full).ToList())
        {
            var childRelative = relative.Length == 0 ? Path.GetFileName(child) : relative + "/" + Path.GetFileName(child);
            if (!keep.Contains(childRelative))
            {
                RemoveIfExists(child);
            }
            else if (new FileInfo(child) is { LinkTarget: null } && Directory.Exists(child))
            {
                ClearLowerEntries(child, childRelative, keep);
            }
        }
    }

    private static async Task WriteEntryAsync(TarEntry entry, string full, string root, bool isRoot, List<string> warnings, CancellationToken cancellationToken)
    {
        var mode = (UnixFileMode)((int)entry.Mode & 0xFFF);
        var existingIsDirectory = Directory.Exists(full) && new DirectoryInfo(full).LinkTarget is null;
        if (entry.EntryType == TarEntryType.Directory && existingIsDirectory)
        {
            File.SetUnixFileMode(full, mode);
        }
        else
        {
            RemoveIfExists(full);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(full);
                    File.SetUnixFileMode(full, mode);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    await using (var file = new FileStream(full, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode, Options = FileOptions.Asynchronous }))
                    {
                        if (entry.DataStream is { } data)
                        {
                            await data.CopyToAsync(file, 1 << 16, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    File.SetUnixFileMode(full, mode);
                    File.SetLastWriteTimeUtc(full, entry.ModificationTime.UtcDateTime);
                    break;
                case TarEntryType.SymbolicLink:
                    File.CreateSymbolicLink(full, entry.LinkName);
                    break;
                case TarEntryType.HardLink:
                    var targetRelative = TarPaths.Normalise(entry.LinkName);
                    var target = Path.Combine(SecureJoin(root, TarPaths.ParentOf(targetRelative), entry.Name), TarPaths.NameOf(targetRelative));
                    if (Native.link(target, full) != 0)
                    {
                        throw new IOException($"layer entry {entry.Name}: cannot hardlink to {entry.LinkName}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                    }

                    break;
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                    var type = entry.EntryType switch { TarEntryType.CharacterDevice => 0x2000u, TarEntryType.BlockDevice => 0x6000u, _ => 0x1000u };
                    var posix = (PosixTarEntry)entry;
                    var device = entry.EntryType == TarEntryType.Fifo ? 0UL : MakeDevice((uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
                    if (Native.mknod(full, type | (uint)mode, device) != 0)
                    {
                        warnings.Add($"{entry.Name}: cannot create {entry.EntryType} ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
                        return;
                    }

                    break;
                default:
                    warnings.Add($"{entry.Name}: skipped unsupported tar entry type {entry.EntryType}");
                    return;
            }
        }

        if (isRoot && Native.lchown(full, entry.Uid, entry.Gid) != 0)
        {
            warnings.Add($"{entry.Name}: cannot set owner {entry.Uid}:{entry.Gid}");
        }

        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes.Where(a => a.Key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)))
            {
                var bytes = PaxAttributeValues.Decode(value);
                if (Native.lsetxattr(full, key["SCHILY.xattr.".Length..], bytes, (nuint)bytes.Length, 0) != 0)
                {
                    warnings.Add($"{entry.Name}: cannot set extended attribute {key["SCHILY.xattr.".Length..]}");
                }
            }
        }
    }

    /// <summary>
    /// The host path of <paramref name="relative"/> under <paramref name="root"/>, following symlinks met on the
    /// way with <paramref name="root"/> as their root; throws when the walk would leave the root.
    /// </summary>
    internal static string SecureJoin(string root, string relative, string entryName)
    {
        var resolved = new List<string>();
        var pending = new LinkedList<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var hops = 0;
        while (pending.First is { } first)
        {
            var part = first.Value;
            pending.RemoveFirst();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count == 0)
                {
                    throw new UnsafeLayerEntryException(entryName, "path leaves the extraction root");
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = Path.Combine(root, string.Join('/', resolved.Append(part)));
            var info = new FileInfo(candidate);
            if (info.Exists || Directory.Exists(candidate))
            {
                if (info.LinkTarget is { } target)
                {
                    if (++hops > MaxSymlinkHops)
                    {
                        throw new UnsafeLayerEntryException(entryName, "too many levels of symbolic links");
                    }

                    if (target.StartsWith('/'))
                    {
                        resolved.Clear();
                    }
                    else if (!StaysInside(resolved.Count, target))
                    {
                        throw new UnsafeLayerEntryException(entryName, $"writes through symlink {string.Join('/', resolved.Append(part))} -> {target}, which points outside the root");
                    }

                    foreach (var component in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                    {
                        pending.AddFirst(component);
                    }

                    continue;
                }
            }

            resolved.Add(part);
        }

        return resolved.Count == 0 ? root : Path.Combine(root, string.Join('/', resolved));
    }

    private static bool StaysInside(int depth, string relativeTarget)
    {
        foreach (var component in relativeTarget.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            depth += component switch { ".." => -1, "." => 0, _ => 1 };
            if (depth < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static void RemoveIfExists(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || info.Exists)
        {
            info.Delete();
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else if (Native.unlink(path) == 0)
        {
            // A dangling special file (fifo, device) that FileInfo does not report.
        }
    }

    /// <summary>Keeps the caller's stream open when the filter over it is disposed.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern uint geteuid();

        [DllImport("libc", SetLastError = true)]
        public static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

        [DllImport("libc", SetLastError = true)]
        public static extern int unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);

        [DllImport("libc", SetLastError = true)]
        public static extern int mknod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode, ulong device);

        [DllImport("libc", SetLastError = true)]
        public static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

        [DllImport("libc", SetLastError = true)]
        public static extern int lsetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size, int flags);
    }
}
