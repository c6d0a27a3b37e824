using System.Text.Json.Serialization;

namespace EdgeForge.Oci.Model;

/// <summary>The platform of an index entry (image-index.md "platform"): os/architecture[/variant].</summary>
public sealed record Platform
{
    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    [JsonPropertyName("os")]
    public required string Os { get; init; }

    [JsonPropertyName("os.version")]
    public string? OsVersion { get; init; }

    [JsonPropertyName("os.features")]
    public IReadOnlyList<string>? OsFeatures { get; init; }

    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    public static Platform LinuxAmd64 { get; } = new() { Os = "linux", Architecture = "amd64" };

    /// <summary>Parses <c>OS/ARCH[/VARIANT]</c>, e.g. <c>linux/arm64/v8</c>.</summary>
    public static Platform Parse(string value)
    {
        var parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_' || c == '-')))
        {
            throw new FormatException($"invalid platform \"{value}\": expected OS/ARCH[/VARIANT] such as linux/amd64 or linux/arm64/v8");
        }

        return new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length == 3 ? parts[2] : null };
    }

    /// <summary>
    /// Whether an index entry's platform satisfies this wanted platform. A wanted platform without a variant takes
    /// any variant; arm64 entries without a variant count as v8 (the same normalisation containerd's platforms
    /// package applies).
    /// </summary>
    public bool IsSatisfiedBy(Platform? candidate)
    {
        if (candidate is null || candidate.Os != Os || candidate.Architecture != Architecture)
        {
            return false;
        }

        if (Variant is null)
        {
            return true;
        }

        return NormalisedVariant(candidate) == NormalisedVariant(this);
    }

    private static string? NormalisedVariant(Platform platform) =>
        platform.Variant ?? (platform.Architecture == "arm64" ? "v8" : null);

    /// <summary>The host's platform in OCI terms (Go's GOARCH names).</summary>
    public static Platform Host => new()
    {
        Os = "linux",
        Architecture = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            System.Runtime.InteropServices.Architecture.S390x => "s390x",
            System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
            System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
            var other => other.ToString().ToLowerInvariant(),
        },
    };
}
