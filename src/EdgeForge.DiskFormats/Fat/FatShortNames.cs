using System.Text;

namespace EdgeForge.DiskFormats.Fat;

/// <summary>
/// 8.3 short names and VFAT long-name entries (Microsoft "FAT32 File System Specification" fatgen103, §6 "Directory
/// Structure", §7 "Long File Name Implementation": basis-name generation, numeric tail, checksum).
/// </summary>
internal static class FatShortNames
{
    public const int LongNameCharactersPerEntry = 13;
    public const byte LongNameAttribute = 0x0F;
    public const byte LastLongEntryFlag = 0x40;
    public const int MaxLongNameLength = 255;

    /// <summary>Where the 13 characters of a long-name entry go: LDIR_Name1 (5), LDIR_Name2 (6), LDIR_Name3 (2), two bytes each.</summary>
    private static readonly int[] LongNameCharacterOffsets =
    [
        .. Enumerable.Range(0, 5).Select(i => FatLongDirectoryEntryFields.Name1 + 2 * i),
        .. Enumerable.Range(0, 6).Select(i => FatLongDirectoryEntryFields.Name2 + 2 * i),
        .. Enumerable.Range(0, 2).Select(i => FatLongDirectoryEntryFields.Name3 + 2 * i),
    ];

    /// <summary>fatgen103 §6.1: characters valid in a short name besides letters and digits.</summary>
    private const string SpecialCharacters = "!#$%&'()-@^_`{}~";

    /// <summary>
    /// The 11-byte short name for <paramref name="name"/>, unique against <paramref name="taken"/>, and whether a long
    /// name must accompany it (the name is not exactly its own upper-case 8.3 form).
    /// </summary>
    public static (byte[] ShortName, bool NeedsLongName) Generate(string name, HashSet<string> taken, Dictionary<string, int>? nextTail = null)
    {
        var upper = name.ToUpperInvariant();
        var trimmed = upper.TrimStart('.').Replace(" ", "");
        var lastDot = trimmed.LastIndexOf('.');
        var baseSource = lastDot >= 0 ? trimmed[..lastDot].Replace(".", "") : trimmed;
        var extSource = lastDot >= 0 ? trimmed[(lastDot + 1)..] : "";
        var lossy = trimmed.Length != upper.Length || (lastDot >= 0 && trimmed[..lastDot].Contains('.'));
        var basePart = Map(baseSource, ref lossy);
        var ext = Map(extSource, ref lossy);
        if (basePart.Length > 8)
        {
            basePart = basePart[..8];
            lossy = true;
        }

        if (ext.Length > 3)
        {
            ext = ext[..3];
            lossy = true;
        }

        if (basePart.Length == 0)
        {
            basePart = "_";
            lossy = true;
        }

        var exact = basePart + (ext.Length > 0 ? "." + ext : "");
        var needsLong = exact != name;
        var candidate = Pad(basePart, ext);
        if (lossy || taken.Contains(candidate))
        {
            // fatgen103 §7.4 numeric-tail generation; the tail resumes after the last one of the same basis name so a
            // directory of thousands of similar long names stays linear.
            var basis = candidate;
            var n = nextTail?.GetValueOrDefault(basis, 1) ?? 1;
            for (; ; n++)
            {
                var tail = "~" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (tail.Length > 7)
                {
                    throw new ArgumentException($"{name}: no free 8.3 short name left for this basis name");
                }

                candidate = Pad(basePart[..Math.Min(basePart.Length, 8 - tail.Length)] + tail, ext);
                if (!taken.Contains(candidate))
                {
                    break;
                }
            }

            if (nextTail is not null)
            {
                nextTail[basis] = n + 1;
            }

            needsLong = true;
        }

        taken.Add(candidate);
        return (Encoding.ASCII.GetBytes(candidate), needsLong);
    }

    /// <summary>fatgen103 §7.2: the checksum of the short name that every long-name entry carries.</summary>
    public static byte Checksum(ReadOnlySpan<byte> shortName)
    {
        byte sum = 0;
        foreach (var b in shortName[..11])
        {
            sum = (byte)(((sum & 1) != 0 ? 0x80 : 0) + (sum >> 1) + b);
        }

        return sum;
    }

    /// <summary>The long-name entries for <paramref name="name"/>, in on-disk order (last part first, §7.1).</summary>
    public static List<byte[]> LongNameEntries(string name, byte checksum)
    {
        if (name.Length > MaxLongNameLength)
        {
            throw new ArgumentException($"{name}: longer than {MaxLongNameLength} characters, the VFAT limit");
        }

        var count = (name.Length + LongNameCharactersPerEntry - 1) / LongNameCharactersPerEntry;
        var entries = new List<byte[]>();
        for (var ordinal = count; ordinal >= 1; ordinal--)
        {
            var entry = new byte[FatDirectoryEntryFields.Length];
            entry[FatLongDirectoryEntryFields.Order] = (byte)(ordinal | (ordinal == count ? LastLongEntryFlag : 0));
            entry[FatLongDirectoryEntryFields.Attributes] = LongNameAttribute;
            entry[FatLongDirectoryEntryFields.Checksum] = checksum;
            for (var i = 0; i < LongNameCharactersPerEntry; i++)
            {
                var index = (ordinal - 1) * LongNameCharactersPerEntry + i;
                // §7.1: the name ends with one 0x0000 and the rest of the last entry is 0xFFFF.
                var c = index < name.Length ? name[index] : index == name.Length ? '\0' : '\uFFFF';
                entry[LongNameCharacterOffsets[i]] = (byte)c;
                entry[LongNameCharacterOffsets[i] + 1] = (byte)(c >> 8);
            }

            entries.Add(entry);
        }

        return entries;
    }

    private static string Pad(string basePart, string ext) => basePart.PadRight(8) + ext.PadRight(3);

    private static string Map(string text, ref bool lossy)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= 'A' and <= 'Z' or >= '0' and <= '9' || SpecialCharacters.Contains(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('_');
                lossy = true;
            }
        }

        return builder.ToString();
    }
}
