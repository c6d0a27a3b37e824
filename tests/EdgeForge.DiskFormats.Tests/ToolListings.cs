using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>One line of a tool's listing: what the tool says about a name.</summary>
internal sealed record ListedEntry(string Path, string Mode, int Links, int Uid, int Gid, string SizeOrDevice, string? LinkTarget, string? HardlinkTarget);

/// <summary>Parses the listings of isoinfo and bsdtar, and predicts them from a source tree.</summary>
internal static partial class ToolListings
{
    /// <summary><c>isoinfo -l [-R|-J]</c>: "Directory listing of /dir/" headers, then ls-like lines (uid/gid printed in octal).</summary>
    public static Dictionary<string, ListedEntry> ParseIsoinfo(string output)
    {
        var result = new Dictionary<string, ListedEntry>(StringComparer.Ordinal);
        var directory = "";
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("Directory listing of /", StringComparison.Ordinal))
            {
                directory = line["Directory listing of /".Length..].TrimEnd('/');
                continue;
            }

            var m = IsoinfoLine().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var name = m.Groups["name"].Value.TrimEnd(' ');
            if (name is "." or "..")
            {
                continue;
            }

            string? target = null;
            if (m.Groups["mode"].Value[0] == 'l')
            {
                var arrow = name.IndexOf(" -> ", StringComparison.Ordinal);
                target = name[(arrow + 4)..];
                name = name[..arrow];
            }

            var path = directory.Length == 0 ? name : directory + "/" + name;
            result[path] = new ListedEntry(path, m.Groups["mode"].Value, int.Parse(m.Groups["links"].Value, CultureInfo.InvariantCulture),
                Convert.ToInt32(m.Groups["uid"].Value, 8), Convert.ToInt32(m.Groups["gid"].Value, 8), m.Groups["size"].Value, target, null);
        }

        return result;
    }

    /// <summary><c>bsdtar -tvf</c>: ls -l style with "name -> target" for symlinks and "name link to first" for hardlinks.</summary>
    public static Dictionary<string, ListedEntry> ParseBsdtar(string output)
    {
        var result = new Dictionary<string, ListedEntry>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var m = BsdtarLine().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var name = m.Groups["name"].Value;
            string? target = null, hardlink = null;
            if (m.Groups["mode"].Value[0] == 'l')
            {
                var arrow = name.IndexOf(" -> ", StringComparison.Ordinal);
                target = name[(arrow + 4)..];
                name = name[..arrow];
            }
            else if (name.IndexOf(" link to ", StringComparison.Ordinal) is var at and >= 0)
            {
                hardlink = name[(at + 9)..];
                name = name[..at];
            }

            if (name == ".")
            {
                continue;
            }

            result[name] = new ListedEntry(name, m.Groups["mode"].Value, int.Parse(m.Groups["links"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["uid"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["gid"].Value, CultureInfo.InvariantCulture),
                m.Groups["size"].Value, target, hardlink);
        }

        return result;
    }

    /// <summary>The ls-style mode string; <paramref name="withSpecialBits"/> false gives isoinfo's, which shows only rwx.</summary>
    public static string ModeString(FileTreeEntry entry, bool withSpecialBits, char fifoCharacter)
    {
        var type = entry.Kind switch
        {
            FileTreeEntryKind.Directory => 'd',
            FileTreeEntryKind.Symlink => 'l',
            FileTreeEntryKind.CharacterDevice => 'c',
            FileTreeEntryKind.BlockDevice => 'b',
            FileTreeEntryKind.Fifo => fifoCharacter,
            FileTreeEntryKind.Socket => 's',
            _ => '-',
        };
        var mode = entry.Kind == FileTreeEntryKind.Symlink ? 0x1FF : entry.Mode;
        var builder = new StringBuilder().Append(type);
        for (var shift = 6; shift >= 0; shift -= 3)
        {
            var bits = (mode >> shift) & 7;
            builder.Append((bits & 4) != 0 ? 'r' : '-').Append((bits & 2) != 0 ? 'w' : '-');
            var execute = (bits & 1) != 0;
            var special = withSpecialBits && shift switch { 6 => (mode & 0x800) != 0, 3 => (mode & 0x400) != 0, _ => (mode & 0x200) != 0 };
            var specialChar = shift == 0 ? 't' : 's';
            builder.Append(special ? (execute ? specialChar : char.ToUpperInvariant(specialChar)) : execute ? 'x' : '-');
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^(?<mode>[-dlcbfps][-rwxsStT]{9})\s+(?<links>\d+)\s+(?<uid>\d+)\s+(?<gid>\d+)\s+(?<size>\d+)\s+\w{3}\s+\d+\s+\d{4}\s+\[\s*\d+\s+\d+\]\s\s(?<name>.*)$")]
    private static partial Regex IsoinfoLine();

    [GeneratedRegex(@"^(?<mode>[-dlcbps][-rwxsStT]{9})\s+(?<links>\d+)\s+(?<uid>\d+)\s+(?<gid>\d+)\s+(?<size>\d+|\d+,\d+)\s+\w{3}\s+\d+\s+[\d:]+\s(?<name>.*)$")]
    private static partial Regex BsdtarLine();
}
