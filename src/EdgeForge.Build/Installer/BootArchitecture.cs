namespace EdgeForge.Build.Installer;

/// <summary>
/// What the standard installer's boot side differs in by <c>ARCH</c>: the removable-media loader names UEFI firmware
/// starts (UEFI 2.10 §3.5.1.1, "Removable Media Boot Behavior": <c>\EFI\BOOT\BOOTX64.EFI</c> on x64,
/// <c>BOOTAA64.EFI</c> on AArch64), where distributions install GRUB and shim for that CPU, whether there is a BIOS
/// boot path at all, and the serial consoles the kernel is told about.
/// </summary>
public sealed record BootArchitecture
{
    /// <summary>The <c>ARCH</c> value (OCI platform architecture).</summary>
    public required string Arch { get; init; }

    /// <summary>The loader's removable-media name under <c>EFI/BOOT/</c>: shim when the image has one, else GRUB.</summary>
    public required string EfiLoaderName { get; init; }

    /// <summary>The name shim chains to next to itself (shim's <c>DEFAULT_LOADER</c>); GRUB itself when there is no shim.</summary>
    public required string GrubLoaderName { get; init; }

    /// <summary>x86 PCs also boot by BIOS (El Torito platform 0x00, GRUB's hybrid MBR); arm64 machines are UEFI only.</summary>
    public required bool HasBios { get; init; }

    /// <summary>Signed shims where distributions install them, first match wins.</summary>
    public required IReadOnlyList<string> ShimPaths { get; init; }

    /// <summary>GRUB EFI images where distributions install them, first match wins.</summary>
    public required IReadOnlyList<string> GrubEfiPaths { get; init; }

    /// <summary>
    /// The serial <c>console=</c> arguments of the UEFI menu, before <c>console=tty0</c>. PCs name the 8250 UART
    /// ttyS0. arm64 machines differ: QEMU virt, Raspberry Pi and most SBSA servers have a PL011 (ttyAMA0), others an
    /// 8250-compatible UART (ttyS0, e.g. AWS Graviton); the kernel ignores a console= naming a device it does not
    /// have, so both are given.
    /// </summary>
    public required string SerialConsoles { get; init; }

    /// <summary>The ESP's loader path, <c>EFI/BOOT/bootx64.efi</c> or <c>EFI/BOOT/bootaa64.efi</c>.</summary>
    public string EfiLoaderPath => "EFI/BOOT/" + EfiLoaderName;

    public string GrubLoaderPath => "EFI/BOOT/" + GrubLoaderName;

    public static readonly BootArchitecture Amd64 = new()
    {
        Arch = "amd64",
        EfiLoaderName = "bootx64.efi",
        GrubLoaderName = "grubx64.efi",
        HasBios = true,
        ShimPaths = BootFileLocator.ShimPaths,
        GrubEfiPaths = BootFileLocator.GrubEfiPaths,
        SerialConsoles = "console=ttyS0,115200n8",
    };

    public static readonly BootArchitecture Arm64 = new()
    {
        Arch = "arm64",
        EfiLoaderName = "bootaa64.efi",
        GrubLoaderName = "grubaa64.efi",
        HasBios = false,
        ShimPaths = BootFileLocator.Arm64ShimPaths,
        GrubEfiPaths = BootFileLocator.Arm64GrubEfiPaths,
        SerialConsoles = "console=ttyS0,115200n8 console=ttyAMA0,115200n8",
    };

    /// <summary>The boot side for <paramref name="arch"/> (the plan accepts amd64 and arm64 only).</summary>
    public static BootArchitecture For(string arch) => arch switch
    {
        "amd64" => Amd64,
        "arm64" => Arm64,
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "the installer boots amd64 or arm64"),
    };
}
