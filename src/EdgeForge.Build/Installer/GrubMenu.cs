using System.Text;

namespace EdgeForge.Build.Installer;

/// <summary>
/// The installer's GRUB configuration files (EDGEFORGE.md §6): the boot menu at <c>/boot/grub2/grub.cfg</c> with the
/// three CanvOS entries, and the stub that the EFI loader and the BIOS core image read first.
/// </summary>
public static class GrubMenu
{
    public const string EntryInstaller = "Palette eXtended Kubernetes Edge Installer";
    public const string EntryManual = "Palette eXtended Kubernetes Edge Installer (manual)";
    public const string EntryInteractive = "Palette Edge Interactive Installer";

    /// <summary>
    /// Finds the medium by a file only the installer has, then hands over to the real menu. The same text is embedded
    /// in the ESP and at <c>/boot/grub/grub.cfg</c> and <c>/EFI/BOOT/grub.cfg</c> of the ISO, whichever GRUB's prefix names.
    /// </summary>
    public const string StubConfig = "search --no-floppy --file --set=root /boot/kernel\nset prefix=($root)/boot/grub2\nconfigfile $prefix/grub.cfg\n";

    /// <summary>
    /// The boot menu. Kernel arguments are those of the CanvOS installer menu: dracut's dmsquash-live finds the medium by
    /// <c>CDLABEL=COS_LIVE</c> and loop-mounts <c>/rootfs.squashfs</c>; the console and video arguments differ by firmware
    /// because UEFI has no VBE (a <c>vga=</c> mode plus <c>nomodeset</c> leaves a black screen there).
    /// </summary>
    /// <param name="defaultEntry">0 (the automatic installer) or 2 (interactive, <c>FORCE_INTERACTIVE_INSTALL=true</c>).</param>
    /// <param name="disableSelinux">Adds <c>selinux=0</c> (<c>DISABLE_SELINUX</c>, default true).</param>
    /// <param name="volumeId">The ISO volume label the live initramfs looks for.</param>
    /// <param name="extraArguments">Appended to every entry's kernel command line (empty for none).</param>
    /// <param name="architecture">The serial consoles of the UEFI branch (<see cref="BootArchitecture.SerialConsoles"/>); amd64 when null.</param>
    public static string Render(int defaultEntry, bool disableSelinux, string volumeId, string extraArguments = "", BootArchitecture? architecture = null)
    {
        var serial = (architecture ?? BootArchitecture.Amd64).SerialConsoles;
        if (defaultEntry is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultEntry), defaultEntry, "the menu has entries 0, 1 and 2");
        }

        var selinux = disableSelinux ? " selinux=0" : "";
        var extra = string.IsNullOrWhiteSpace(extraArguments) ? "" : " " + extraArguments.Trim();
        var live = $"cdroot root=live:CDLABEL={volumeId} rd.live.dir=/ rd.live.squashimg=rootfs.squashfs net.ifnames=1 $consoleparams rd.cos.disable";
        const string tail = "rd.live.overlay.overlayfs rd.immucore.sysrootwait=600 systemd.unified_cgroup_hierarchy=1 " +
                            "rd.driver.blacklist=nouveau,qat_4xxx modprobe.blacklist=nouveau,qat_4xxx nouveau.modeset=0";
        var text = new StringBuilder();
        text.Append("search --no-floppy --file --set=root /boot/kernel\n");
        text.Append($"set default={defaultEntry}\n");
        text.Append("set timeout=5\nset timeout_style=menu\nset linux=linux\nset initrd=initrd\n\n");
        text.Append("# The last console= owns /dev/console: serial first and tty0 last on UEFI, where there is no VESA mode.\n");
        text.Append("if [ \"${grub_platform}\" = \"efi\" ]; then\n");
        text.Append($"    set consoleparams=\"{serial} console=tty0\"\n    set videoparams=\"\"\n");
        text.Append("else\n    set consoleparams=\"console=tty1 console=ttyS0\"\n    set videoparams=\"vga=795 nomodeset\"\nfi\n\n");
        text.Append("# gfxterm shows a blank menu on some UEFI BMC consoles, so fonts are loaded on BIOS only.\n");
        text.Append("if [ \"${grub_platform}\" != \"efi\" ]; then\n");
        text.Append("    set font=($root)/boot/${grub_cpu}/loader/grub2/fonts/unicode.pf2\n");
        text.Append("    if [ -f ${font} ]; then\n        loadfont ${font}\n    fi\nfi\n\n");
        Entry(text, EntryInstaller, $"{live} $videoparams nodepair.enable{selinux} {tail}{extra}");
        Entry(text, EntryManual, $"{live}{selinux} {tail}{extra}");
        Entry(text, EntryInteractive, $"{live} $videoparams nodepair.enable{selinux} {tail} interactive-install{extra}");
        text.Append("if [ \"${grub_platform}\" = \"efi\" ]; then\n");
        text.Append("    hiddenentry \"Text mode\" --hotkey \"t\" {\n        set textmode=true\n        terminal_output console\n    }\nfi\n");
        return text.ToString();
    }

    /// <summary>CanvOS build-iso's DEBUG arguments, appended where its sed appends them: every line with <c>rd.immucore.sysrootwait</c>.</summary>
    public const string DebugArguments = "rd.immucore.debug console=tty0 rd.debug";

    /// <summary>
    /// A project's own menu (<c>overlay/files-iso/boot/grub2/grub.cfg</c>): CanvOS replaces <c>{{DEFAULT_ENTRY}}</c> with the
    /// default entry; extra arguments go where the installer entries' kernel lines end (the lines with
    /// <c>rd.immucore.sysrootwait</c>, as for <see cref="DebugArguments"/>).
    /// </summary>
    public static string FromTemplate(string template, int defaultEntry, string extraArguments = "")
    {
        var menu = template.Replace("{{DEFAULT_ENTRY}}", defaultEntry.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return string.IsNullOrWhiteSpace(extraArguments) ? menu : AppendToKernelLines(menu, extraArguments.Trim());
    }

    public static string WithDebugArguments(string menu) => AppendToKernelLines(menu, DebugArguments);

    private static string AppendToKernelLines(string menu, string arguments)
    {
        var lines = menu.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains("rd.immucore.sysrootwait", StringComparison.Ordinal))
            {
                lines[i] = lines[i].TrimEnd('\r') + " " + arguments + (lines[i].EndsWith('\r') ? "\r" : "");
            }
        }

        return string.Join('\n', lines);
    }

    private static void Entry(StringBuilder text, string title, string arguments)
    {
        text.Append($"menuentry \"{title}\" --class os --unrestricted {{\n");
        text.Append("    echo Loading kernel...\n");
        text.Append($"    $linux ($root)/boot/kernel {arguments}\n");
        text.Append("    echo Loading initrd...\n");
        text.Append("    $initrd ($root)/boot/initrd\n}\n\n");
    }
}
