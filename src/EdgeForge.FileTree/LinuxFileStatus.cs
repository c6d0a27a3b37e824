using System.Runtime.InteropServices;
using System.Text;

namespace EdgeForge.FileTree;

/// <summary>What lstat(2) tells about a path: the fields .NET's FileSystemInfo does not expose (owner, device numbers, inode, nanosecond times).</summary>
public readonly record struct LinuxFileStatus(
    int Mode, int Uid, int Gid, long Size, long ModificationTime, uint LinkCount,
    ulong Inode, uint DeviceMajor, uint DeviceMinor, uint RdevMajor, uint RdevMinor,
    uint ModificationNanoseconds = 0, long ChangeTime = 0, uint ChangeNanoseconds = 0)
{
    public const int TypeMask = 0xF000;
    public const int TypeSocket = 0xC000, TypeSymlink = 0xA000, TypeRegular = 0x8000, TypeBlock = 0x6000,
        TypeDirectory = 0x4000, TypeCharacter = 0x2000, TypeFifo = 0x1000;

    public int Type => Mode & TypeMask;

    /// <summary>statx(2) rather than lstat(2): its struct layout is the same on every architecture.</summary>
    public static LinuxFileStatus Get(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (Native.statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"{path}: cannot read file status ({Marshal.GetPInvokeErrorMessage(errno)})");
        }

        // Field offsets of struct statx (include/uapi/linux/stat.h).
        return new LinuxFileStatus(
            Mode: BitConverter.ToUInt16(buffer[28..]),
            Uid: (int)BitConverter.ToUInt32(buffer[20..]),
            Gid: (int)BitConverter.ToUInt32(buffer[24..]),
            Size: (long)BitConverter.ToUInt64(buffer[40..]),
            ModificationTime: BitConverter.ToInt64(buffer[112..]),
            LinkCount: BitConverter.ToUInt32(buffer[16..]),
            Inode: BitConverter.ToUInt64(buffer[32..]),
            DeviceMajor: BitConverter.ToUInt32(buffer[136..]),
            DeviceMinor: BitConverter.ToUInt32(buffer[140..]),
            RdevMajor: BitConverter.ToUInt32(buffer[128..]),
            RdevMinor: BitConverter.ToUInt32(buffer[132..]),
            ModificationNanoseconds: BitConverter.ToUInt32(buffer[120..]),
            ChangeTime: BitConverter.ToInt64(buffer[96..]),
            ChangeNanoseconds: BitConverter.ToUInt32(buffer[104..]));
    }

    /// <summary>Extended attributes of the path itself (not of a symlink's target).</summary>
    public static IReadOnlyDictionary<string, byte[]> GetExtendedAttributes(string path)
    {
        var size = Native.llistxattr(path, null, 0);
        if (size <= 0)
        {
            return new Dictionary<string, byte[]>();
        }

        var names = new byte[size];
        size = Native.llistxattr(path, names, (nuint)names.Length);
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in Encoding.UTF8.GetString(names, 0, (int)Math.Max(size, 0)).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var length = Native.lgetxattr(path, name, null, 0);
            if (length < 0)
            {
                continue;
            }

            var value = new byte[length];
            length = Native.lgetxattr(path, name, value, (nuint)value.Length);
            result[name] = length == value.Length ? value : value[..(int)Math.Max(length, 0)];
        }

        return result;
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);

        [DllImport("libc", SetLastError = true)]
        public static extern nint llistxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[]? list, nuint size);

        [DllImport("libc", SetLastError = true)]
        public static extern nint lgetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[]? value, nuint size);
    }
}
