using System.Globalization;
using System.Text.RegularExpressions;
using EdgeForge.Testing;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>What binutils (not our reader) says about a PE image.</summary>
internal static partial class Objdump
{
    public sealed record Section(string Name, long Size, long Vma, long FileOffset);

    public static IReadOnlyList<Section> Sections(string image) =>
        SectionLine().Matches(ExternalTool.Output("objdump", "-h", image))
            .Select(m => new Section(m.Groups["name"].Value, Hex(m.Groups["size"].Value), Hex(m.Groups["vma"].Value), Hex(m.Groups["offset"].Value)))
            .ToList();

    /// <summary>A field of <c>objdump -p</c>'s optional header dump (CheckSum, SizeOfHeaders, SizeOfImage, …).</summary>
    public static long Field(string image, string name)
    {
        var match = Regex.Match(ExternalTool.Output("objdump", "-p", image), $@"^{Regex.Escape(name)}\s+([0-9a-fA-F]+)", RegexOptions.Multiline);
        match.Success.ShouldBeTrue($"objdump -p {image} shows no {name}");
        return Hex(match.Groups[1].Value);
    }

    /// <summary>The bytes of one section as objcopy extracts them.</summary>
    public static byte[] SectionBytes(string image, string section, TestDirectory scratch)
    {
        var output = scratch.Combine($"section{section}-{Guid.NewGuid():N}");
        ExternalTool.Output("objcopy", "-O", "binary", $"--only-section={section}", image, output);
        var bytes = File.ReadAllBytes(output);
        File.Delete(output);
        return bytes;
    }

    private static long Hex(string value) => long.Parse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s*\d+\s+(?<name>\S+)\s+(?<size>[0-9a-f]+)\s+(?<vma>[0-9a-f]+)\s+[0-9a-f]+\s+(?<offset>[0-9a-f]+)\s+2\*\*\d+", RegexOptions.Multiline)]
    private static partial Regex SectionLine();
}
