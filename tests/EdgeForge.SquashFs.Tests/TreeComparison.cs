using System.Text;

namespace EdgeForge.SquashFs.Tests;

/// <summary>What a tree looks like through lstat, readlink and getfattr: the facts an image must carry over.</summary>
internal static class TreeComparison
{
    /// <summary>
    /// path → type, permissions, owner, mtime, link count, size (not for directories, whose size is the
    /// filesystem's own business) and device numbers, as stat(1) reports them.
    /// </summary>
    public static SortedDictionary<string, string> Describe(string root)
    {
        var (exitCode, output, error) = ExternalTool.Run("find", new ToolOptions { WorkingDirectory = root }, ".", "-mindepth", "1", "-exec", "stat", "-c", "%n|%F|%a|%u|%g|%Y|%h|%s|%t:%T", "{}", "+");
        exitCode.ShouldBe(0, error);
        var description = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('|');
            var path = fields[0][2..];
            var isDirectory = fields[1] == "directory";
            var isDevice = fields[1].EndsWith("special file", StringComparison.Ordinal) && fields[1] != "fifo";
            description[path] = string.Join('|', fields[1], fields[2], fields[3], fields[4], fields[5], fields[6],
                isDirectory ? "-" : fields[7], isDevice ? fields[8] : "-");
        }

        return description;
    }

    /// <summary>path → (permission string as ls shows it, "uid/gid"), for comparing with unsquashfs listings.</summary>
    public static Dictionary<string, (string Permissions, string Owner)> Listing(string root)
    {
        var (exitCode, output, error) = ExternalTool.Run("find", new ToolOptions { WorkingDirectory = root }, ".", "-mindepth", "1", "-exec", "stat", "-c", "%n|%A|%u/%g", "{}", "+");
        exitCode.ShouldBe(0, error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('|'))
            .ToDictionary(fields => fields[0][2..], fields => (fields[1], fields[2]), StringComparer.Ordinal);
    }

    /// <summary>Every regular file's bytes and every symlink's target must match (types come from <see cref="Describe"/>).</summary>
    public static void ContentsShouldMatch(string expectedRoot, string actualRoot, SortedDictionary<string, string> expectedDescription)
    {
        foreach (var (relative, facts) in expectedDescription)
        {
            var expected = Path.Combine(expectedRoot, relative);
            var actual = Path.Combine(actualRoot, relative);
            if (facts.StartsWith("symbolic link|", StringComparison.Ordinal))
            {
                new FileInfo(actual).LinkTarget.ShouldBe(new FileInfo(expected).LinkTarget, relative);
            }
            else if (facts.StartsWith("regular", StringComparison.Ordinal))
            {
                File.ReadAllBytes(actual).AsSpan().SequenceEqual(File.ReadAllBytes(expected)).ShouldBeTrue($"contents of {relative}");
            }
        }
    }

    /// <summary>All extended attributes of one path, as getfattr prints them (hex values, sorted by name).</summary>
    public static string ExtendedAttributes(string path)
    {
        var output = ExternalTool.Output("getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", path);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("# file:", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
