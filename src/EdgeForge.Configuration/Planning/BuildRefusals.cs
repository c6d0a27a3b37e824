using EdgeForge.Configuration.Arguments;

namespace EdgeForge.Configuration.Planning;

/// <summary>
/// Settings valid for some artifacts but not others: the one place that says so, read by validation (a warning) and by
/// the build commands that would have to refuse them (an error before anything is pulled).
/// </summary>
public static class BuildRefusals
{
    /// <summary>Why the installer ISO cannot be built for these settings, or null.</summary>
    /// <remarks>
    /// The standard installer boots amd64 (BIOS + UEFI) and arm64 (UEFI only, bootaa64.efi). The Trusted Boot installer
    /// stays amd64: its unified kernel images are made from x64 systemd-stub and started by x64 systemd-boot.
    /// </remarks>
    public static string? Iso(BuildSettings settings) => settings.TrustedBoot is null || settings.Arch == "amd64"
        ? null
        : $"IS_UKI=true: the Trusted Boot installer ISO is built for amd64 only by this version of edgeforge, not ARCH={settings.Arch}";

    /// <summary>Why provider images cannot be built for these settings, or null.</summary>
    public static string? ProviderImages(BuildSettings settings) => settings.TrustedBoot is null || settings.Arch == "amd64"
        ? null
        // The unified kernel image is made from x64 systemd-stub and started by x64 systemd-boot (BOOTX64.EFI).
        : $"IS_UKI=true: Trusted Boot provider images are built for amd64 only by this version of edgeforge, not ARCH={settings.Arch}";
}
