using System.Diagnostics;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>The hybrid installer ISO written by us, with a grub.cfg that prints a marker; built once for every boot.</summary>
public sealed class BootableHybridIso : IDisposable
{
    public const string Marker = "EDGEFORGE-GRUB-REACHED-CONFIG";
    private readonly TempDirectory _temp = new();

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

    public string Scratch(string name) => _temp.Combine(name);

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
    private const string OvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    private const string OvmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    [Theory]
    [InlineData("bios", "cd", "pc")]
    [InlineData("bios", "disk", "pc")]
    [InlineData("uefi", "cd", "efi")]
    [InlineData("uefi", "disk", "efi")]
    public void Grub_reaches_the_iso_config(string firmware, string medium, string grubPlatform)
    {
        var log = iso.Scratch($"serial-{firmware}-{medium}.log");
        var arguments = new List<string>
        {
            "-machine", "pc,accel=tcg", "-m", "512", "-smp", "1", "-display", "none", "-no-reboot", "-nic", "none", "-monitor", "none",
            "-serial", "file:" + log,
        };
        if (firmware == "uefi")
        {
            File.Exists(OvmfCode).ShouldBeTrue($"{OvmfCode} is missing: install ovmf (scripts/test-packages.txt)");
            var vars = iso.Scratch($"vars-{medium}.fd");
            File.Copy(OvmfVars, vars, overwrite: true);
            arguments.AddRange(["-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={OvmfCode}", "-drive", $"if=pflash,format=raw,unit=1,file={vars}"]);
        }

        arguments.AddRange(medium == "cd"
            ? ["-drive", $"file={iso.ImagePath},format=raw,media=cdrom,if=ide,index=2,readonly=on", "-boot", "d"]
            : ["-drive", $"file={iso.ImagePath},format=raw,if=virtio,readonly=on"]);

        // A cap for a hung boot, not a speed requirement: TCG on a busy 2-core machine can take minutes.
        var serial = RunUntilMarker(arguments, log, TimeSpan.FromSeconds(180));
        serial.ShouldContain($"{BootableHybridIso.Marker} platform={grubPlatform}", customMessage: $"serial console of {firmware}/{medium}:\n{Tail(serial)}");
        serial.ShouldContain("hostname: edgeforge-test", customMessage: "GRUB read /config.yaml from the ISO 9660 tree");
    }

    /// <summary>Runs QEMU until the marker reaches the serial log (then stops it: GRUB's halt does not always power off) or the timeout passes.</summary>
    private static string RunUntilMarker(List<string> arguments, string log, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(ExternalTool.Locate("qemu-system-x86_64")) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        arguments.ForEach(start.ArgumentList.Add);
        using var qemu = Process.Start(start)!;
        var stderr = qemu.StandardError.ReadToEndAsync();
        var watch = Stopwatch.StartNew();
        string serial = "";
        while (watch.Elapsed < timeout)
        {
            if (qemu.WaitForExit(500))
            {
                break;
            }

            serial = File.Exists(log) ? ReadShared(log) : "";
            if (serial.Contains(BootableHybridIso.Marker, StringComparison.Ordinal) && serial.Contains("platform=", StringComparison.Ordinal))
            {
                Thread.Sleep(300);
                break;
            }
        }

        if (!qemu.HasExited)
        {
            qemu.Kill(entireProcessTree: true);
            qemu.WaitForExit();
        }

        serial = File.Exists(log) ? ReadShared(log) : "";
        return serial + "\n[qemu stderr] " + stderr.GetAwaiter().GetResult();
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string Tail(string text) => text.Length > 3000 ? text[^3000..] : text;
}
