using System.Text.RegularExpressions;
using EdgeForge.Build.Installer;

namespace EdgeForge.Installer.Tests;

/// <summary>The boot menu against the CanvOS sample menu (tests/fixtures/canvos/grub.cfg): same entries, same kernel arguments.</summary>
public sealed partial class GrubMenuTests
{
    private static readonly string Sample = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "fixtures", "canvos", "grub.cfg"));

    [Fact]
    public void Entries_and_kernel_arguments_are_those_of_the_canvos_menu()
    {
        var ours = GrubMenu.Render(0, disableSelinux: true, "COS_LIVE");
        Entries(ours).ShouldBe(Entries(Sample));
        Entries(ours).Select(e => e.Title).ShouldBe([GrubMenu.EntryInstaller, GrubMenu.EntryManual, GrubMenu.EntryInteractive]);
        ours.ShouldContain("set default=0\n");
        ours.ShouldContain("search --no-floppy --file --set=root /boot/kernel\n");
        ours.ShouldContain("hiddenentry \"Text mode\"");
    }

    [Fact]
    public void Forced_interactive_install_makes_entry_2_the_default()
    {
        GrubMenu.Render(2, disableSelinux: true, "COS_LIVE").ShouldContain("set default=2\n");
    }

    [Fact]
    public void Selinux_is_disabled_only_when_asked_and_extra_arguments_end_every_entry()
    {
        var ours = GrubMenu.Render(0, disableSelinux: false, "COS_LIVE", "console=ttyS1 debug");
        var expected = Entries(Sample).Select(e => e with { Arguments = e.Arguments.Replace(" selinux=0", "") + " console=ttyS1 debug" });
        Entries(ours).ShouldBe(expected);
        ours.ShouldNotContain("selinux=0");
    }

    [Fact]
    public void The_arm64_menu_differs_only_in_the_uefi_serial_consoles_which_name_the_pl011_and_the_8250()
    {
        var amd64 = GrubMenu.Render(0, disableSelinux: true, "COS_LIVE");
        var arm64 = GrubMenu.Render(0, disableSelinux: true, "COS_LIVE", architecture: BootArchitecture.Arm64);

        GrubMenu.Render(0, disableSelinux: true, "COS_LIVE", architecture: BootArchitecture.Amd64).ShouldBe(amd64);
        arm64.ShouldContain("    set consoleparams=\"console=ttyS0,115200n8 console=ttyAMA0,115200n8 console=tty0\"\n");
        arm64.Replace("console=ttyS0,115200n8 console=ttyAMA0,115200n8 console=tty0", "console=ttyS0,115200n8 console=tty0", StringComparison.Ordinal).ShouldBe(amd64);
        Entries(arm64).ShouldBe(Entries(Sample));
    }

    private sealed record MenuEntry(string Title, string Arguments);

    private static List<MenuEntry> Entries(string config) => EntryPattern().Matches(config)
        .Select(m => new MenuEntry(m.Groups["title"].Value, m.Groups["args"].Value.Trim()))
        .ToList();

    [GeneratedRegex("""menuentry "(?<title>[^"]+)"[^{]*\{[^}]*?\$linux \(\$root\)/boot/kernel (?<args>[^\n]*)\n[^}]*?\$initrd \(\$root\)/boot/initrd""")]
    private static partial Regex EntryPattern();

    internal static string RepositoryRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "EdgeForge.slnx")))
        {
            directory = Path.GetDirectoryName(directory) ?? throw new DirectoryNotFoundException("EdgeForge.slnx not found above the test binaries");
        }

        return directory;
    }
}
