using System.Text;

namespace EdgeForge.TrustedBoot.Uki;

/// <summary>
/// The .sbat section of a UKI (shim's SBAT.md: CSV, one component generation a line, the "sbat" self-description
/// first). systemd's ukify merges the stub's and the kernel's component lines with the UKI's own under one header,
/// so that a revocation of any of them reaches the UKI; we merge the same way.
/// </summary>
internal static class SbatText
{
    public const string SectionName = ".sbat";

    public const string HeaderLine = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md";

    public const string DefaultUkiLine = "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/";

    /// <summary>
    /// The merged section: the header line, then the component lines of each part in order (duplicates kept once),
    /// newline-terminated, then a NUL as ukify writes it (shim stops at the NUL or the section's end).
    /// </summary>
    public static byte[] Merge(IEnumerable<(string Source, string Text)> parts)
    {
        var lines = new List<string>();
        foreach (var (source, text) in parts)
        {
            foreach (var raw in text.TrimEnd('\0').Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length == 0 || line.StartsWith("sbat,", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = line.Split(',');
                if (fields.Length < 2 || fields[0].Length == 0 || !uint.TryParse(fields[1], out var generation) || generation == 0)
                {
                    throw new UkiException($"{source}: SBAT line \"{line}\" is not \"component_name,component_generation,…\" with a generation of 1 or more");
                }

                if (!lines.Contains(line, StringComparer.Ordinal))
                {
                    lines.Add(line);
                }
            }
        }

        var merged = new StringBuilder(HeaderLine).Append('\n');
        foreach (var line in lines)
        {
            merged.Append(line).Append('\n');
        }

        return [.. Encoding.UTF8.GetBytes(merged.ToString()), 0];
    }
}
