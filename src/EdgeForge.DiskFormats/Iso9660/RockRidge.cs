using System.Buffers.Binary;
using System.Text;
using EdgeForge.DiskFormats.IO;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// System Use Sharing Protocol entries (IEEE P1281 SUSP 1.12) and the Rock Ridge entries (IEEE P1282 RRIP 1.12) built
/// on it. Each entry is signature (2), length (1), version (1), data.
/// </summary>
internal static class RockRidge
{
    /// <summary>SUSP §5.3: the SP entry's check bytes; it must open the root's "." record.</summary>
    public const byte SpCheck1 = 0xBE, SpCheck2 = 0xEF;

    /// <summary>SUSP §5.1: a CE entry is 28 bytes (block, offset, length, each both-byte-order 32-bit).</summary>
    public const int ContinuationEntryLength = 28;

    /// <summary>The largest entry: its length field is one byte.</summary>
    public const int MaxEntryLength = 255;

    /// <summary>RRIP 1.12 §4.1.1: PX with the file serial number is 44 bytes (RRIP 1.10's was 36).</summary>
    public const int PosixAttributesLength = 44;

    // RRIP 1.12 §5.4 / SUSP §5.5: the extension reference naming the protocol this image follows.
    public const string ExtensionId = "IEEE_1282";
    public const string ExtensionDescriptor = "THE IEEE 1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS.";
    public const string ExtensionSource = "PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR THE 1282 SPECIFICATION.";

    // RRIP 1.12 §4.1.3.1: SL component flags.
    public const byte ComponentContinue = 0x01, ComponentCurrent = 0x02, ComponentParent = 0x04, ComponentRoot = 0x08;

    // POSIX file types (st_mode) as PX carries them (RRIP §4.1.1).
    public const int TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymlink = 0xA000, TypeCharacter = 0x2000,
        TypeBlock = 0x6000, TypeFifo = 0x1000, TypeSocket = 0xC000;

    public static byte[] SharingProtocolIndicator() => [(byte)'S', (byte)'P', 7, 1, SpCheck1, SpCheck2, 0];

    public static byte[] ExtensionReference()
    {
        var id = Encoding.ASCII.GetBytes(ExtensionId);
        var descriptor = Encoding.ASCII.GetBytes(ExtensionDescriptor);
        var source = Encoding.ASCII.GetBytes(ExtensionSource);
        var entry = new byte[8 + id.Length + descriptor.Length + source.Length];
        Header(entry, 'E', 'R');
        entry[4] = (byte)id.Length;
        entry[5] = (byte)descriptor.Length;
        entry[6] = (byte)source.Length;
        entry[7] = 1;
        id.CopyTo(entry, 8);
        descriptor.CopyTo(entry, 8 + id.Length);
        source.CopyTo(entry, 8 + id.Length + descriptor.Length);
        return entry;
    }

    public static byte[] PosixAttributes(int mode, int links, int uid, int gid, long serial)
    {
        var entry = new byte[PosixAttributesLength];
        Header(entry, 'P', 'X');
        BinaryFields.WriteBoth32(entry.AsSpan(4), (uint)mode);
        BinaryFields.WriteBoth32(entry.AsSpan(12), (uint)links);
        BinaryFields.WriteBoth32(entry.AsSpan(20), (uint)uid);
        BinaryFields.WriteBoth32(entry.AsSpan(28), (uint)gid);
        BinaryFields.WriteBoth32(entry.AsSpan(36), (uint)serial);
        return entry;
    }

    /// <summary>RRIP §4.1.6: TF with modify, access and attribute-change times in the 7-byte form of ECMA-119 §9.1.5.</summary>
    public static byte[] Timestamps(long seconds)
    {
        var entry = new byte[5 + 3 * 7];
        Header(entry, 'T', 'F');
        entry[4] = 0x0E;
        for (var i = 0; i < 3; i++)
        {
            IsoDates.WriteRecordDate(entry.AsSpan(5 + i * 7, 7), seconds);
        }

        return entry;
    }

    /// <summary>
    /// RRIP §4.1.2: PN. Like libisofs, the high and low words are the two halves of the 64-bit glibc dev_t: libarchive
    /// decodes exactly that, and Linux (fs/isofs/rock.c) reads a zero high word with the old major·256+minor low word.
    /// </summary>
    public static byte[] DeviceNumber(int major, int minor)
    {
        var m = (ulong)(uint)major;
        var n = (ulong)(uint)minor;
        var dev = ((m & 0xFFFFF000) << 32) | ((m & 0xFFF) << 8) | ((n & 0xFFFFFF00) << 12) | (n & 0xFF);
        var entry = new byte[20];
        Header(entry, 'P', 'N');
        BinaryFields.WriteBoth32(entry.AsSpan(4), (uint)(dev >> 32));
        BinaryFields.WriteBoth32(entry.AsSpan(12), (uint)(dev & 0xFFFFFFFF));
        return entry;
    }

    /// <summary>RRIP §4.1.4: NM, split into several entries with the CONTINUE flag when the name is long.</summary>
    public static IEnumerable<byte[]> AlternateName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        const int chunk = MaxEntryLength - 5;
        for (var offset = 0; offset < bytes.Length || offset == 0; offset += chunk)
        {
            var length = Math.Min(chunk, bytes.Length - offset);
            var entry = new byte[5 + length];
            Header(entry, 'N', 'M');
            entry[4] = (byte)(offset + length < bytes.Length ? 0x01 : 0x00);
            bytes.AsSpan(offset, length).CopyTo(entry.AsSpan(5));
            yield return entry;
            if (bytes.Length == 0)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// RRIP §4.1.3: SL for a symlink target, one component record per path component ("/" ROOT, "." CURRENT,
    /// ".." PARENT), long components split with the component CONTINUE flag, and several SL entries chained by the
    /// entry's CONTINUE flag when the whole does not fit in one.
    /// </summary>
    public static IEnumerable<byte[]> SymbolicLink(string target)
    {
        var components = new List<byte[]>();
        if (target.StartsWith('/'))
        {
            components.Add([ComponentRoot, 0]);
        }

        foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (part)
            {
                case ".":
                    components.Add([ComponentCurrent, 0]);
                    break;
                case "..":
                    components.Add([ComponentParent, 0]);
                    break;
                default:
                    var bytes = Encoding.UTF8.GetBytes(part);
                    const int piece = MaxEntryLength - 5 - 2;
                    for (var offset = 0; offset < bytes.Length; offset += piece)
                    {
                        var length = Math.Min(piece, bytes.Length - offset);
                        var component = new byte[2 + length];
                        component[0] = (byte)(offset + length < bytes.Length ? ComponentContinue : 0);
                        component[1] = (byte)length;
                        bytes.AsSpan(offset, length).CopyTo(component.AsSpan(2));
                        components.Add(component);
                    }

                    break;
            }
        }

        // Entries are filled to the brim and split inside a text component (its CONTINUE flag set): Linux
        // (fs/isofs/rock.c) inserts "/" between SL entries unless the last component continues, libarchive never
        // does — splitting inside a component is the one layout both read the same way.
        const int room = MaxEntryLength - 5;
        var groups = new List<List<byte[]>> { new() };
        var used = 0;
        var queue = new Queue<byte[]>(components);
        while (queue.Count > 0)
        {
            var component = queue.Dequeue();
            if (used + component.Length <= room)
            {
                groups[^1].Add(component);
                used += component.Length;
                continue;
            }

            var fits = room - used - 2;
            if (component[0] is 0 or ComponentContinue && fits >= 1)
            {
                var head = new byte[2 + fits];
                head[0] = ComponentContinue;
                head[1] = (byte)fits;
                component.AsSpan(2, fits).CopyTo(head.AsSpan(2));
                groups[^1].Add(head);
                var tail = new byte[component.Length - fits];
                tail[0] = component[0];
                tail[1] = (byte)(component[1] - fits);
                component.AsSpan(2 + fits).CopyTo(tail.AsSpan(2));
                var rest = new List<byte[]> { tail };
                rest.AddRange(queue);
                queue = new Queue<byte[]>(rest);
            }
            else
            {
                queue = new Queue<byte[]>(new[] { component }.Concat(queue));
            }

            groups.Add([]);
            used = 0;
        }

        for (var g = 0; g < groups.Count; g++)
        {
            var length = 5 + groups[g].Sum(c => c.Length);
            var entry = new byte[length];
            Header(entry, 'S', 'L');
            entry[4] = (byte)(g + 1 < groups.Count ? 0x01 : 0x00);
            var at = 5;
            foreach (var component in groups[g])
            {
                component.CopyTo(entry, at);
                at += component.Length;
            }

            yield return entry;
        }
    }

    /// <summary>SUSP §5.1: CE, where the rest of this record's entries continue.</summary>
    public static void WriteContinuation(Span<byte> destination, long block, int offset, int length)
    {
        destination[0] = (byte)'C';
        destination[1] = (byte)'E';
        destination[2] = ContinuationEntryLength;
        destination[3] = 1;
        BinaryFields.WriteBoth32(destination[4..], block);
        BinaryFields.WriteBoth32(destination[12..], offset);
        BinaryFields.WriteBoth32(destination[20..], length);
    }

    private static void Header(Span<byte> entry, char a, char b)
    {
        entry[0] = (byte)a;
        entry[1] = (byte)b;
        entry[2] = (byte)entry.Length;
        entry[3] = 1;
    }

    /// <summary>Reads the entries of a System Use field; CE targets are returned for the caller to follow.</summary>
    public static IEnumerable<(string Signature, byte[] Data)> Parse(ReadOnlyMemory<byte> field)
    {
        var at = 0;
        while (at + 4 <= field.Length)
        {
            var span = field.Span;
            var length = span[at + 2];
            if (length < 4 || at + length > field.Length)
            {
                yield break;
            }

            var signature = Encoding.ASCII.GetString(span.Slice(at, 2));
            if (signature == "ST")
            {
                yield break;
            }

            yield return (signature, span.Slice(at + 4, length - 4).ToArray());
            at += length;
        }
    }

    public static uint ReadBoth32(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt32LittleEndian(data);
}

/// <summary>The two date forms of ECMA-119: §9.1.5 (7 bytes, binary) and §8.4.26.1 (17 bytes, digits).</summary>
internal static class IsoDates
{
    public static void WriteRecordDate(Span<byte> destination, long seconds)
    {
        var t = ToDate(seconds);
        destination[0] = (byte)Math.Clamp(t.Year - 1900, 0, 255);
        destination[1] = (byte)t.Month;
        destination[2] = (byte)t.Day;
        destination[3] = (byte)t.Hour;
        destination[4] = (byte)t.Minute;
        destination[5] = (byte)t.Second;
        destination[6] = 0;
    }

    public static void WriteVolumeDate(Span<byte> destination, long seconds)
    {
        var t = ToDate(seconds);
        Encoding.ASCII.GetBytes(t.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "00").CopyTo(destination);
        destination[16] = 0;
    }

    /// <summary>ECMA-119 §8.4.26.1: "not specified" is sixteen '0' digits and a zero offset.</summary>
    public static void WriteUnspecifiedVolumeDate(Span<byte> destination)
    {
        destination[..16].Fill((byte)'0');
        destination[16] = 0;
    }

    public static long ReadRecordDate(ReadOnlySpan<byte> source)
    {
        try
        {
            var t = new DateTimeOffset(1900 + source[0], Math.Max((int)source[1], 1), Math.Max((int)source[2], 1), source[3], source[4], source[5], TimeSpan.Zero);
            return t.ToUnixTimeSeconds() - (sbyte)source[6] * 15 * 60;
        }
        catch (ArgumentOutOfRangeException)
        {
            return 0;
        }
    }

    private static DateTime ToDate(long seconds)
    {
        // Years 1900..2155 are all a 7-byte date can say; clamp rather than wrap.
        var clamped = Math.Clamp(seconds, -2208988800L, 5996851199L);
        return DateTimeOffset.FromUnixTimeSeconds(clamped).UtcDateTime;
    }
}
