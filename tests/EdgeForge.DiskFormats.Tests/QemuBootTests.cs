namespace EdgeForge.DiskFormats.Tests;

/// <summary>The hybrid installer ISO written by us, with a grub.cfg that prints a marker; built once for every boot.</summary>
public sealed class BootableHybridIso : IDisposable
{
    public const string Marker = "EDGEFORGE-GRUB-REACHED-CONFIG";
    private readonly TestDirectory _temp = new();

    public BootableHybridIso()
    {
        // GRUB on BIOS talks to the serial port only when told; OVMF mirrors the EFI console to it by itself.
        const string config = """
            if [ "${grub_platform}" = "pc" ]; then
              serial --unit=0 --speed=115200
              terminal_input serial console
              terminal_output serial console
            fi
            cat ($root)/config.yaml
            echo "EDGEFORGE-GRUB-REACHED-CONFIG platform=${grub_platform} root=${root}"
            halt
            """;
        var inputs = HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), config + "\n").GetAwaiter().GetResult();
        ImagePath = _temp.Combine("installer.iso");
        HybridIsoBuilder.WriteOursAsync(inputs, ImagePath).GetAwaiter().GetResult();
    }

    public string ImagePath { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// Boots the hybrid ISO in QEMU (TCG) from CD and from disk, under SeaBIOS and under OVMF, and watches the serial
/// console for the marker GRUB prints from /boot/grub2/grub.cfg after printing /config.yaml from the image — the whole
/// chain from firmware through El Torito or MBR/GPT to our directory tree and file data.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class QemuBootTests(BootableHybridIso iso) : IClassFixture<BootableHybridIso>
{
    [Theory]
    [InlineData("bios", "cd", "pc")]
    [InlineData("bios", "disk", "pc")]
    [InlineData("uefi", "cd", "efi")]
    [InlineData("uefi", "disk", "efi")]
    public void Grub_reaches_the_iso_config(string firmware, string medium, string grubPlatform)
    {
        using var machine = QemuMachine.Start(new QemuOptions
        {
            Firmware = firmware == "uefi" ? Firmware.Uefi : Firmware.Bios,
            Cdrom = medium == "cd" ? iso.ImagePath : null,
            Disks = medium == "disk" ? [iso.ImagePath] : [],
        });

        // A cap for a hung boot, not a speed requirement: TCG on a busy 2-core machine can take minutes.
        var serial = machine.WaitFor([BootableHybridIso.Marker], TimeSpan.FromSeconds(180));
        serial.ShouldContain($"{BootableHybridIso.Marker} platform={grubPlatform}", customMessage: $"serial console of {firmware}/{medium}:\n{QemuMachine.Tail(serial, 3000)}");
        serial.ShouldContain("hostname: edgeforge-test", customMessage: "GRUB read /config.yaml from the ISO 9660 tree");
    }
}
