namespace EdgeForge.TrustedBoot.Tests;

/// <summary>Debian's systemd-boot-efi binaries (scripts/test-packages.txt): real PE images linked by someone else.</summary>
internal static class SystemdBinaries
{
    public const string Directory = "/usr/lib/systemd/boot/efi";

    /// <summary>systemd-stub for x86-64: the UKI base.</summary>
    public const string Stub = Directory + "/linuxx64.efi.stub";

    /// <summary>The boot loader: a second PE32+ EFI application, and a small stand-in kernel.</summary>
    public const string Boot = Directory + "/systemd-bootx64.efi";

    public static string Require(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: install systemd-boot-efi (scripts/test-packages.txt)");
}
