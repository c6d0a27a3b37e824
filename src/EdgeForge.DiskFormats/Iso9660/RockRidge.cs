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
    /// <summary>SUSP §5.1: a CE entry is 28 bytes (block, offset, length, each both-byte-order 32-bit).</summary>
    public const int ContinuationEntryLength = ContinuationAreaFields.EntryLength;

    /// <summary>The largest entry: its length field is one byte.</summary>
    public const int MaxEntryLength = 255;


    // RRIP 1.12 §5.4 / SUSP §5.5: the extension reference naming the protocol this image follows.
    public const string ExtensionId = "IEEE_1282";
    public const string ExtensionDescriptor = "THE IEEE 1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS.";
    public const string ExtensionSource = "PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR THE 1282 SPECIFICATION.";

    // RRIP 1.12 §4.1.3.1: SL component flags.
    public const byte ComponentContinue = 0x01, ComponentCurrent = 0x02, ComponentParent = 0x04, ComponentRoot = 0x08;

    // POSIX file types (st_mode) as PX carries them (RRIP §4.1.1).
    public const int TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymlink = 0xA000, TypeCharacter = 0x2000,
        TypeBlock = 0x6000, TypeFifo = 0x1000, TypeSocket = 0xC000;

    /// <summary>SUSP §5.3: SP, check bytes BE EF, and no bytes skipped at the start of each System Use field.</summary>
    public static byte[] SharingProtocolIndicator()
    {
        var entry = new byte[SharingProtocolIndicatorFields.EntryLength];
        Header(entry, SuspSignatures.SharingProtocolIndicator);
        entry[SharingProtocolIndicatorFields.CheckBytes] = SharingProtocolIndicatorFields.Check1;
        entry[SharingProtocolIndicatorFields.CheckBytes + 1] = SharingProtocolIndicatorFields.Check2;
        entry[SharingProtocolIndicatorFields.BytesSkipped] = 0;
        return entry;
    }

    public static byte[] ExtensionReference()
    {
        var id = Encoding.ASCII.GetBytes(ExtensionId);
        var descriptor = Encoding.ASCII.GetBytes(ExtensionDescriptor);
        var source = Encoding.ASCII.GetBytes(ExtensionSource);
        var entry = new byte[ExtensionsReferenceFields.Identifier + id.Length + descriptor.Length + source.Length];
        Header(entry, SuspSignatures.ExtensionsReference);
        entry[ExtensionsReferenceFields.IdentifierLength] = (byte)id.Length;
        entry[ExtensionsReferenceFields.DescriptorLength] = (byte)descriptor.Length;
        entry[ExtensionsReferenceFields.SourceLength] = (byte)source.Length;
        entry[ExtensionsReferenceFields.ExtensionVersion] = 1;
        id.CopyTo(entry, ExtensionsReferenceFields.Identifier);
        descriptor.CopyTo(entry, ExtensionsReferenceFields.Identifier + id.Length);
        source.CopyTo(entry, ExtensionsReferenceFields.Identifier + id.Length + descriptor.Length);
        return entry;
    }

    public static byte[] PosixAttributes(int mode, int links, int uid, int gid, long serial)
    {
        var entry = new byte[PosixAttributesFields.EntryLength];
        Header(entry, SuspSignatures.PosixAttributes);
        BinaryFields.WriteBoth32(entry.AsSpan(PosixAttributesFields.FileMode), (uint)mode);
        BinaryFields.WriteBoth32(entry.AsSpan(PosixAttributesFields.Links), (uint)links);
        BinaryFields.WriteBoth32(entry.AsSpan(PosixAttributesFields.Uid), (uint)uid);
        BinaryFields.WriteBoth32(entry.AsSpan(PosixAttributesFields.Gid), (uint)gid);
        BinaryFields.WriteBoth32(entry.AsSpan(PosixAttributesFields.SerialNumber), (uint)serial);
        return entry;
    }

    /// <summary>RRIP §4.1.6: TF with modify, access and attribute-change times in the 7-byte form of ECMA-119 §9.1.5.</summary>
    public static byte[] Timestamps(long seconds)
    {
        const int times = 3;
        var entry = new byte[TimestampsFields.Times + times * DirectoryRecordFields.RecordingDateLength];
        Header(entry, SuspSignatures.Timestamps);
        entry[TimestampsFields.Flags] = TimestampsFields.Modify | TimestampsFields.Access | TimestampsFields.Attributes;
        for (var i = 0; i < times; i++)
        {
            IsoDates.WriteRecordDate(entry.AsSpan(TimestampsFields.Times + i * DirectoryRecordFields.RecordingDateLength, DirectoryRecordFields.RecordingDateLength), seconds);
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
        var entry = new byte[DeviceNumberFields.EntryLength];
        Header(entry, SuspSignatures.DeviceNumber);
        BinaryFields.WriteBoth32(entry.AsSpan(DeviceNumberFields.High), (uint)(dev >> 32));
        BinaryFields.WriteBoth32(entry.AsSpan(DeviceNumberFields.Low), (uint)(dev & 0xFFFFFFFF));
        return entry;
    }

    /// <summary>RRIP §4.1.4: NM, split into several entries with the CONTINUE flag when the name is long.</summary>
    public static IEnumerable<byte[]> AlternateName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        const int chunk = MaxEntryLength - AlternateNameFields.Name;
        for (var offset = 0; offset < bytes.Length || offset == 0; offset += chunk)
        {
            var length = Math.Min(chunk, bytes.Length - offset);
            var entry = new byte[AlternateNameFields.Name + length];
            Header(entry, SuspSignatures.AlternateName);
            entry[AlternateNameFields.Flags] = offset + length < bytes.Length ? AlternateNameFields.Continue : (byte)0;
            bytes.AsSpan(offset, length).CopyTo(entry.AsSpan(AlternateNameFields.Name));
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
                    const int piece = MaxEntryLength - SymbolicLinkFields.Components - SymbolicLinkFields.ComponentContent;
                    for (var offset = 0; offset < bytes.Length; offset += piece)
                    {
                        var length = Math.Min(piece, bytes.Length - offset);
                        var component = new byte[SymbolicLinkFields.ComponentContent + length];
                        component[SymbolicLinkFields.ComponentFlags] = (byte)(offset + length < bytes.Length ? ComponentContinue : 0);
                        component[SymbolicLinkFields.ComponentLength] = (byte)length;
                        bytes.AsSpan(offset, length).CopyTo(component.AsSpan(SymbolicLinkFields.ComponentContent));
                        components.Add(component);
                    }

                    break;
            }
        }

        // Entries are filled to the brim and split inside a text component (its CONTINUE flag set): Linux
        // (fs/isofs/rock.c) inserts "/" between SL entries unless the last component continues, libarchive never
        // does — splitting inside a component is the one layout both read the same way.
        const int room = MaxEntryLength - SymbolicLinkFields.Components;
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

            const int content = SymbolicLinkFields.ComponentContent;
            var fits = room - used - content;
            if (component[SymbolicLinkFields.ComponentFlags] is 0 or ComponentContinue && fits >= 1)
            {
                var head = new byte[content + fits];
                head[SymbolicLinkFields.ComponentFlags] = ComponentContinue;
                head[SymbolicLinkFields.ComponentLength] = (byte)fits;
                component.AsSpan(content, fits).CopyTo(head.AsSpan(content));
                groups[^1].Add(head);
                var tail = new byte[component.Length - fits];
                tail[SymbolicLinkFields.ComponentFlags] = component[SymbolicLinkFields.ComponentFlags];
                tail[SymbolicLinkFields.ComponentLength] = (byte)(component[SymbolicLinkFields.ComponentLength] - fits);
                component.AsSpan(content + fits).CopyTo(tail.AsSpan(content));
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
            var length = SymbolicLinkFields.Components + groups[g].Sum(c => c.Length);
            var entry = new byte[length];
            Header(entry, SuspSignatures.SymbolicLink);
            entry[SymbolicLinkFields.Flags] = g + 1 < groups.Count ? SymbolicLinkFields.Continue : (byte)0;
            var at = SymbolicLinkFields.Components;
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
        var entry = destination[..ContinuationAreaFields.EntryLength];
        Header(entry, SuspSignatures.ContinuationArea);
        BinaryFields.WriteBoth32(entry[ContinuationAreaFields.Block..], block);
        BinaryFields.WriteBoth32(entry[ContinuationAreaFields.Offset..], offset);
        BinaryFields.WriteBoth32(entry[ContinuationAreaFields.AreaLength..], length);
    }

    /// <summary>SUSP §4.1: signature, the entry's own length, version 1.</summary>
    private static void Header(Span<byte> entry, string signature)
    {
        entry[SuspEntryFields.Signature] = (byte)signature[0];
        entry[SuspEntryFields.Signature + 1] = (byte)signature[1];
        entry[SuspEntryFields.Length] = (byte)entry.Length;
        entry[SuspEntryFields.Version] = SuspEntryFields.CurrentVersion;
    }

    /// <summary>
    /// Reads the entries of a System Use field up to ST or its end, each whole (offsets as in <see cref="SuspEntryFields"/>);
    /// CE targets are left for the caller to follow.
    /// </summary>
    public static IEnumerable<(string Signature, byte[] Entry)> Parse(ReadOnlyMemory<byte> field)
    {
        var at = 0;
        while (at + SuspEntryFields.Data <= field.Length)
        {
            var span = field.Span;
            var length = span[at + SuspEntryFields.Length];
            if (length < SuspEntryFields.Data || at + length > field.Length)
            {
                yield break;
            }

            var signature = Encoding.ASCII.GetString(span.Slice(at + SuspEntryFields.Signature, 2));
            if (signature == SuspSignatures.Terminator)
            {
                yield break;
            }

            yield return (signature, span.Slice(at, length).ToArray());
            at += length;
        }
    }

    /// <summary>ECMA-119 §7.3.3 as SUSP uses it: the little-endian half of a both-byte-order 32-bit field.</summary>
    public static uint ReadBoth32(ReadOnlySpan<byte> field) => BinaryPrimitives.ReadUInt32LittleEndian(field);
}

/// <summary>The two date forms of ECMA-119: §9.1.5 (7 bytes, binary) and §8.4.26.1 (17 bytes, digits).</summary>
internal static class IsoDates
{
    /// <summary>§9.1.5: years since 1900, month, day, hour, minute, second, and the offset from GMT in 15-minute units.</summary>
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
