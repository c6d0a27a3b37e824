namespace EdgeForge.Testing;

/// <summary>A real Debian root filesystem from <c>debootstrap</c>, fetched from the mirror this machine's apt uses.</summary>
public static class DebianRootfs
{
    /// <summary>The release the heavy tests build on.</summary>
    public const string Suite = "bookworm";

    private static readonly Lazy<string> ConfiguredMirror = new(ReadMirror);

    /// <summary>
    /// The Debian mirror of this machine's apt sources (deb822 or one-line, the first that is not the security
    /// archive), so the tests reach what apt reaches; deb.debian.org when apt names none.
    /// </summary>
    public static string Mirror => ConfiguredMirror.Value;

    /// <summary><c>debootstrap --variant=minbase</c> of <see cref="Suite"/> into <paramref name="root"/>, with <paramref name="packages"/> added.</summary>
    public static Task CreateAsync(string root, params string[] packages) =>
        ExternalTool.RunAsync("debootstrap",
            // Downloads from the mirror on a shared machine: a bound for a stalled mirror, far above a normal run.
            new ToolOptions { Timeout = TimeSpan.FromMinutes(30) },
            ["--variant=minbase", .. packages.Length > 0 ? [$"--include={string.Join(',', packages)}"] : Array.Empty<string>(), Suite, root, Mirror]);

    private static string ReadMirror()
    {
        foreach (var file in Directory.GetFiles("/etc/apt/sources.list.d", "*.sources").Append("/etc/apt/sources.list").Where(File.Exists))
        {
            foreach (var line in File.ReadAllLines(file))
            {
                var trimmed = line.Trim();
                if (trimmed.StartsWith("URIs:", StringComparison.Ordinal) && !trimmed.Contains("security", StringComparison.Ordinal))
                {
                    return trimmed["URIs:".Length..].Trim().Split(' ')[0];
                }

                if (trimmed.StartsWith("deb ", StringComparison.Ordinal) && !trimmed.Contains("security", StringComparison.Ordinal))
                {
                    return trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(p => p.Contains("://", StringComparison.Ordinal));
                }
            }
        }

        return "http://deb.debian.org/debian";
    }
}
