using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeForge.Testing;

/// <summary>The guest CPU architecture, as OCI platforms name it.</summary>
public enum GuestArchitecture
{
    Amd64,
    Arm64,
}

/// <summary>What the virtual machine starts from before the boot medium.</summary>
public enum Firmware
{
    /// <summary>SeaBIOS, QEMU's built-in PC firmware (amd64 only).</summary>
    Bios,

    /// <summary>EDK II: OVMF on amd64 (package ovmf), AAVMF on arm64 (package qemu-efi-aarch64).</summary>
    Uefi,

    /// <summary>
    /// OVMF built with Secure Boot (<c>OVMF_CODE_4M.secboot.fd</c>, amd64): its authenticated variables live in SMM, so
    /// the machine is a q35 with SMM and a secure flash. With the empty variable template it starts in Setup Mode.
    /// </summary>
    UefiSecureBoot,
}

/// <summary>One virtual machine: its architecture, firmware, memory and what it boots.</summary>
public sealed record QemuOptions
{
    public GuestArchitecture Architecture { get; init; } = GuestArchitecture.Amd64;

    public Firmware Firmware { get; init; } = Firmware.Bios;

    public int MemoryMegabytes { get; init; } = 512;

    /// <summary>An image attached as a CD-ROM and booted first (El Torito).</summary>
    public string? Cdrom { get; init; }

    /// <summary>Images attached read-only as virtio disks, in order (/dev/vda, /dev/vdb…); the first boots when there is no CD.</summary>
    public IReadOnlyList<string> Disks { get; init; } = [];

    /// <summary>A kernel booted directly (QEMU's -kernel), skipping firmware boot media.</summary>
    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    public string? KernelArguments { get; init; }

    /// <summary>
    /// A UEFI variable store the machine uses in place (written through), so a later machine sees what this one's
    /// firmware stored — enrolled Secure Boot keys, say. Null: a fresh copy of the empty template for each machine.
    /// </summary>
    public string? VariableStore { get; init; }

    /// <summary>The empty variable template of <paramref name="firmware"/>, to copy into a <see cref="VariableStore"/>.</summary>
    public static string VariableTemplate(Firmware firmware, GuestArchitecture architecture = GuestArchitecture.Amd64) =>
        QemuMachine.UefiFirmware(architecture, firmware).Vars;
}

/// <summary>
/// QEMU with its serial console captured to a file, started with KVM when /dev/kvm is there and the guest matches the
/// host, else with TCG; killed with its children at dispose. <see cref="WaitFor"/> watches the console for a marker
/// with a timeout that bounds a hung boot (a loaded 2-core machine under TCG can take minutes): it asserts no speed.
/// </summary>
public sealed class QemuMachine : IDisposable
{
    private readonly Process _process;
    private readonly TestDirectory _directory;
    private readonly Task<string> _stderr;

    private QemuMachine(Process process, TestDirectory directory, string serialLog)
    {
        _process = process;
        _directory = directory;
        SerialLog = serialLog;
        _process.StandardInput.Close();
        _ = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>The file the guest's first serial port writes to.</summary>
    public string SerialLog { get; }

    /// <summary>The x86 guest CPU under KVM: the host's, without IA32_ARCH_CAPABILITIES (see <see cref="CommandLine"/>).</summary>
    private const string X86KvmCpu = "host,-arch-capabilities";

    /// <summary>
    /// Whether this machine runs under KVM: /dev/kvm exists, the guest architecture is the host's, and KVM here
    /// really runs a Linux guest (<see cref="KvmRunsLinux"/>).
    /// </summary>
    public static bool UsesKvm(GuestArchitecture architecture) =>
        File.Exists("/dev/kvm") && RuntimeInformation.OSArchitecture == (architecture == GuestArchitecture.Arm64 ? System.Runtime.InteropServices.Architecture.Arm64 : System.Runtime.InteropServices.Architecture.X64)
        && (architecture == GuestArchitecture.Arm64 || KvmRunsLinux.Value);

    /// <summary>
    /// A nested KVM host may offer /dev/kvm and still hang every Linux guest right after the firmware hands over (seen
    /// on this CI: SeaBIOS runs, the kernel never prints). Probed by booting the host's kernel with no root filesystem:
    /// under a working KVM it prints its banner and panics within seconds; otherwise every boot runs under TCG. The
    /// answer is kept per boot of the host in /tmp, so the test processes of one run probe once.
    /// </summary>
    private static readonly Lazy<bool> KvmRunsLinux = new(() =>
    {
        var bootId = File.Exists("/proc/sys/kernel/random/boot_id") ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : "unknown";
        var record = Path.Combine(Path.GetTempPath(), $"edgeforge-kvm-probe.{bootId}");
        if (File.Exists(record))
        {
            return File.ReadAllText(record).Trim() == "kvm";
        }

        var kernel = Directory.Exists("/boot") ? Directory.GetFiles("/boot", "vmlinuz-*").Order(StringComparer.Ordinal).LastOrDefault() : null;
        var works = kernel is not null && ProbeKvm(kernel);
        var temporary = record + "." + Environment.ProcessId;
        File.WriteAllText(temporary, works ? "kvm" : "tcg");
        File.Move(temporary, record, overwrite: true);
        return works;
    });

    /// <summary>Boots <paramref name="kernel"/> under KVM with no root filesystem and watches for its banner.</summary>
    private static bool ProbeKvm(string kernel)
    {
        using var machine = Start(new QemuOptions { Kernel = kernel, KernelArguments = "console=ttyS0 panic=-1", MemoryMegabytes = 256 }, kvm: true);
        return machine.WaitFor(["Linux version"], TimeSpan.FromSeconds(20)).Contains("Linux version", StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether KVM here can run a machine with System Management Mode, which Secure Boot OVMF needs for its variable
    /// store. A nested KVM host may refuse it ("System Management Mode not supported by this hypervisor"); such boots
    /// then run under TCG, which emulates SMM. Probed once: a paused q35 machine that QEMU either refuses at once or starts.
    /// </summary>
    private static readonly Lazy<bool> KvmSupportsSmm = new(() =>
    {
        var start = ExternalTool.StartInfo("qemu-system-x86_64",
            ["-accel", "kvm", "-machine", "q35,smm=on", "-cpu", X86KvmCpu, "-m", "64", "-display", "none", "-nodefaults", "-monitor", "none", "-S"]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("qemu-system-x86_64 did not start");
        var error = process.StandardError.ReadToEndAsync();
        if (process.WaitForExit(3000))
        {
            return !error.GetAwaiter().GetResult().Contains("System Management Mode", StringComparison.OrdinalIgnoreCase) && process.ExitCode == 0;
        }

        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return true;
    });

    public static QemuMachine Start(QemuOptions options) =>
        Start(options, UsesKvm(options.Architecture) && (options.Firmware != Firmware.UefiSecureBoot || KvmSupportsSmm.Value));

    private static QemuMachine Start(QemuOptions options, bool kvm)
    {
        var directory = new TestDirectory("edgeforge-qemu-");
        try
        {
            var serialLog = directory.Combine("serial.log");
            var (binary, arguments) = CommandLine(options, kvm, directory, serialLog);
            var process = Process.Start(ExternalTool.StartInfo(binary, arguments)) ?? throw new InvalidOperationException($"{binary} did not start");
            return new QemuMachine(process, directory, serialLog);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>The last part of a console transcript, for a failure message.</summary>
    public static string Tail(string text, int characters = 4000) => text.Length > characters ? text[^characters..] : text;

    /// <summary>
    /// Waits until a whole serial line contains one of <paramref name="markers"/>, the guest powers off, or
    /// <paramref name="timeout"/> passes; then stops QEMU (after a moment to power off by itself: GRUB's halt and a
    /// guest's poweroff do not always end QEMU) and returns the serial console, followed by QEMU's own error output.
    /// </summary>
    public string WaitFor(IReadOnlyList<string> markers, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout && !_process.WaitForExit(500))
        {
            if (CompleteLines(ReadSerial()).Any(line => markers.Any(m => line.Contains(m, StringComparison.Ordinal))))
            {
                _process.WaitForExit(2000);
                break;
            }
        }

        Stop();
        return ReadSerial() + "\n[qemu stderr] " + _stderr.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        _directory.Dispose();
    }

    private static (string Binary, List<string> Arguments) CommandLine(QemuOptions options, bool kvm, TestDirectory directory, string serialLog)
    {
        var arm = options.Architecture == GuestArchitecture.Arm64;
        var arguments = new List<string>
        {
            // Secure Boot OVMF keeps its variables in SMM: only q35 has SMM, and the flash must refuse writes from outside it.
            "-machine", arm ? "virt" : options.Firmware == Firmware.UefiSecureBoot ? "q35,smm=on" : "pc", "-accel", kvm ? "kvm" : "tcg", "-m", options.MemoryMegabytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", "1", "-display", "none", "-no-reboot", "-nic", "none", "-monitor", "none", "-serial", "file:" + serialLog,
        };
        if (arm || kvm)
        {
            // virt has no default CPU model worth booting; under KVM the host's own is the one that works — without
            // IA32_ARCH_CAPABILITIES (MSR 0x10a) on x86: nested KVM hosts (this CI's among them) advertise it and then
            // refuse its value, and QEMU aborts at start. The guest only loses a hint for its speculation mitigations.
            arguments.AddRange(["-cpu", kvm ? (arm ? "host" : X86KvmCpu) : "max"]);
        }

        if (options.Firmware is Firmware.Uefi or Firmware.UefiSecureBoot)
        {
            var (code, vars) = UefiFirmware(options.Architecture, options.Firmware);
            // The variable store is written by the firmware (boot entries): each machine gets its own copy unless the
            // test keeps one across machines.
            var ownVars = options.VariableStore ?? directory.Combine("efivars.fd");
            if (options.VariableStore is null)
            {
                File.Copy(vars, ownVars);
            }

            if (options.Firmware == Firmware.UefiSecureBoot)
            {
                arguments.AddRange(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
            }

            arguments.AddRange(["-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={code}", "-drive", $"if=pflash,format=raw,unit=1,file={ownVars}"]);
        }
        else if (arm)
        {
            throw new ArgumentException("arm64 machines boot UEFI only (AAVMF): there is no BIOS for QEMU's virt machine", nameof(options));
        }

        if (options.Cdrom is { } cdrom)
        {
            // The PC's IDE CD is what SeaBIOS and OVMF boot by default; virt has no IDE, so its CD sits on virtio-scsi.
            arguments.AddRange(arm
                ? ["-device", "virtio-scsi-pci", "-drive", $"if=none,id=cd0,file={cdrom},format=raw,media=cdrom,readonly=on", "-device", "scsi-cd,drive=cd0,bootindex=0"]
                : ["-drive", $"file={cdrom},format=raw,media=cdrom,if=ide,index=2,readonly=on", "-boot", "d"]);
        }

        foreach (var disk in options.Disks)
        {
            arguments.AddRange(["-drive", $"file={disk},format=raw,if=virtio,readonly=on"]);
        }

        if (options.Kernel is { } kernel)
        {
            arguments.AddRange(["-kernel", kernel]);
            if (options.Initrd is { } initrd)
            {
                arguments.AddRange(["-initrd", initrd]);
            }

            if (options.KernelArguments is { } append)
            {
                arguments.AddRange(["-append", append]);
            }
        }

        return (arm ? "qemu-system-aarch64" : "qemu-system-x86_64", arguments);
    }

    /// <summary>The firmware code and variable-store template Debian installs for the architecture.</summary>
    internal static (string Code, string Vars) UefiFirmware(GuestArchitecture architecture, Firmware firmware = Firmware.Uefi)
    {
        if (firmware == Firmware.UefiSecureBoot && architecture != GuestArchitecture.Amd64)
        {
            throw new ArgumentException("Secure Boot firmware is prepared for amd64 guests only", nameof(architecture));
        }

        var (code, vars, package) = architecture == GuestArchitecture.Arm64
            ? ("/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd", "qemu-efi-aarch64")
            : (firmware == Firmware.UefiSecureBoot ? "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd" : "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", "ovmf");
        foreach (var file in new[] { code, vars })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing: install {package} (scripts/test-packages.txt)");
            }
        }

        return (code, vars);
    }

    /// <summary>The lines that have ended: a marker on a line still being written may be followed by what the test checks.</summary>
    private static IEnumerable<string> CompleteLines(string serial) => serial.Split('\n').SkipLast(1);

    private string ReadSerial()
    {
        if (!File.Exists(SerialLog))
        {
            return "";
        }

        // QEMU still has the file open for writing.
        using var stream = new FileStream(SerialLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }
}
