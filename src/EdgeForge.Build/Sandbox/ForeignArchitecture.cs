using System.Globalization;
using System.Runtime.InteropServices;

namespace EdgeForge.Build.Sandbox;

/// <summary>
/// Whether this machine can run <c>RUN</c> commands of an image built for another CPU: the kernel starts a foreign ELF
/// binary through a binfmt_misc handler (Documentation/admin-guide/binfmt-misc.rst), for arm64 on amd64 QEMU's user
/// emulator <c>qemu-aarch64</c>. The sandbox chroots into the image, where the handler's interpreter path does not
/// exist, so the handler must carry the <c>F</c> ("fix binary") flag: the kernel then opens the interpreter once, when
/// it is registered, and uses that file in every mount namespace and root. Debian's qemu-user-static registers it so.
/// </summary>
public static class ForeignArchitecture
{
    /// <summary>Where the kernel exposes binfmt_misc.</summary>
    public const string DefaultBinfmtDirectory = "/proc/sys/fs/binfmt_misc";

    /// <summary>The OCI architecture of this machine.</summary>
    public static string HostArch => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// An ELF header's identification and machine fields (System V gABI, "ELF Header"): <c>e_ident</c> bytes 0–3 are
    /// the magic <c>7f 'E' 'L' 'F'</c>, byte 4 <c>EI_CLASS</c> (2 = 64-bit), byte 5 <c>EI_DATA</c> (1 = little
    /// endian); <c>e_machine</c> is the little-endian 16-bit field at offset 18 (<c>EM_X86_64</c> 62, <c>EM_AARCH64</c> 183).
    /// </summary>
    private readonly record struct ElfMachine(string Arch, ushort Machine, string QemuName)
    {
        public const int MachineOffset = 18;
        public static readonly byte[] Ident = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1];
    }

    private static readonly ElfMachine[] Machines = [new("amd64", 62, "x86_64"), new("arm64", 183, "aarch64")];

    /// <summary>The ELF e_machine of an ARCH (System V gABI), or null for an ARCH edgeforge does not build.</summary>
    public static ushort? ElfMachineOf(string arch) => Machines.FirstOrDefault(m => m.Arch == arch) is { Arch: not null } machine ? machine.Machine : null;

    /// <summary>
    /// Null when RUN steps for <paramref name="arch"/> can run here (the host's own architecture, or an enabled handler
    /// with the F flag); else what is missing and how to fix it.
    /// </summary>
    public static string? Problem(string arch, string binfmtDirectory = DefaultBinfmtDirectory, string? hostArch = null)
    {
        hostArch ??= HostArch;
        if (arch == hostArch)
        {
            return null;
        }

        if (Machines.FirstOrDefault(m => m.Arch == arch) is not { Arch: not null } machine)
        {
            return $"RUN steps for ARCH={arch} cannot be emulated on this {hostArch} machine";
        }

        var emulator = "qemu-" + machine.QemuName;
        var install = $"install the emulator (apt-get install qemu-user-static binfmt-support, or your distribution's qemu-user-static) and enable it (update-binfmts --enable {emulator})";
        var prefix = $"RUN steps for ARCH={arch} on this {hostArch} machine need the {emulator} user emulator registered with binfmt_misc";
        var status = Path.Combine(binfmtDirectory, "status");
        if (!File.Exists(status))
        {
            return $"{prefix}, and binfmt_misc is not mounted at {binfmtDirectory}: mount it (mount -t binfmt_misc binfmt_misc {binfmtDirectory}), then {install}";
        }

        if (File.ReadAllText(status).Trim() != "enabled")
        {
            return $"{prefix}, and binfmt_misc is disabled: enable it (echo 1 > {status})";
        }

        var handlers = Directory.EnumerateFiles(binfmtDirectory)
            .Where(p => Path.GetFileName(p) is not ("status" or "register"))
            .Select(p => BinfmtHandler.Read(p))
            .Where(h => h is not null && h.Matches(machine))
            .Select(h => h!)
            .OrderByDescending(h => h.Enabled)
            .ThenByDescending(h => h.FixBinary)
            .ToList();
        if (handlers.Count == 0)
        {
            return $"{prefix}: no handler for {machine.QemuName} ELF binaries is registered in {binfmtDirectory} — {install}";
        }

        var best = handlers[0];
        if (!best.Enabled)
        {
            return $"{prefix}: the handler {best.Name} ({best.Interpreter}) is disabled — enable it (update-binfmts --enable {best.Name})";
        }

        if (!best.FixBinary)
        {
            return $"{prefix}: the handler {best.Name} ({best.Interpreter}) lacks the F (fix binary) flag, so the kernel looks for {best.Interpreter} inside the image's root " +
                   $"and cannot start it — re-register it with F (Debian's qemu-user-static does: apt-get install --reinstall qemu-user-static binfmt-support)";
        }

        return null;
    }

    /// <summary>Throws <see cref="SandboxUnavailableException"/> with <see cref="Problem"/>'s message when there is one.</summary>
    public static void Require(string arch, string binfmtDirectory = DefaultBinfmtDirectory)
    {
        if (Problem(arch, binfmtDirectory) is { } problem)
        {
            throw new SandboxUnavailableException(problem);
        }
    }

    /// <summary>One registered binfmt_misc handler, as its file under binfmt_misc reads (binfmt-misc.rst).</summary>
    private sealed record BinfmtHandler(string Name, bool Enabled, string Interpreter, string Flags, int Offset, byte[] Magic, byte[] Mask)
    {
        public bool FixBinary => Flags.Contains('F', StringComparison.Ordinal);

        /// <summary>Whether this handler takes 64-bit little-endian ELF executables of <paramref name="machine"/>.</summary>
        public bool Matches(ElfMachine machine)
        {
            var header = new byte[ElfMachine.MachineOffset + 2];
            ElfMachine.Ident.CopyTo(header, 0);
            header[ElfMachine.MachineOffset] = (byte)(machine.Machine & 0xff);
            header[ElfMachine.MachineOffset + 1] = (byte)(machine.Machine >> 8);
            // The handler compares Magic with the file's bytes from Offset, each under Mask; it must cover e_machine.
            if (Offset != 0 || Magic.Length < header.Length)
            {
                return false;
            }

            foreach (var i in (int[])[0, 1, 2, 3, 4, 5, ElfMachine.MachineOffset, ElfMachine.MachineOffset + 1])
            {
                var mask = i < Mask.Length ? Mask[i] : (byte)0xff;
                if ((header[i] & mask) != (Magic[i] & mask))
                {
                    return false;
                }
            }

            return true;
        }

        public static BinfmtHandler? Read(string path)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(path);
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }

            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();
            if (Field("magic") is not { } magic || !TryHex(magic, out var magicBytes))
            {
                return null; // an extension handler ("extension .jar"), not a magic one
            }

            var mask = Field("mask") is { } m && TryHex(m, out var maskBytes) ? maskBytes : [];
            var flags = lines.FirstOrDefault(l => l.StartsWith("flags:", StringComparison.Ordinal))?["flags:".Length..].Trim() ?? "";
            var offset = int.TryParse(Field("offset"), NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
            return new BinfmtHandler(Path.GetFileName(path), lines.FirstOrDefault()?.Trim() == "enabled", Field("interpreter") ?? "", flags, offset, magicBytes, mask);
        }

        private static bool TryHex(string text, out byte[] bytes)
        {
            try
            {
                bytes = Convert.FromHexString(text);
                return true;
            }
            catch (FormatException)
            {
                bytes = [];
                return false;
            }
        }
    }
}
