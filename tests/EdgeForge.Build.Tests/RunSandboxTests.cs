using EdgeForge.Testing;
using EdgeForge.Build.Layers;
using EdgeForge.Build.Sandbox;
using EdgeForge.FileTree;

namespace EdgeForge.Build.Tests;

public sealed class RunSandboxTests
{
    private static readonly Dictionary<string, string> Path = new() { ["PATH"] = "/bin" };

    public static TheoryData<SandboxKind> Kinds => new(SandboxKind.UnshareChroot, SandboxKind.Bubblewrap);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_run_becomes_a_layer_of_exactly_its_changes(SandboxKind kind)
    {
        using var rootfs = new BusyboxRootfs();
        var before = FilesystemSnapshot.Take(rootfs.Root);
        var sandbox = RunSandbox.Detect(kind);

        var result = await sandbox.RunAsync(rootfs.Root, new SandboxCommand(
            ["/bin/sh", "-c", "echo hello > /etc/motd && rm /etc/unwanted && mkdir -p /opt/x && ln -s /etc/motd /opt/x/link && echo \"$HTTP_PROXY\" > /opt/x/proxy && ls /proc/self >/dev/null && cat"],
            new Dictionary<string, string>(Path) { ["HTTP_PROXY"] = "http://proxy.example:3128" }));
        var changes = FilesystemChanges.Between(rootfs.Root, before, FilesystemSnapshot.Take(rootfs.Root));

        result.ExitCode.ShouldBe(0, string.Join("\n", result.OutputTail));
        changes.Entries.Select(e => e.Path).ShouldBe(["etc", "etc/.wh.unwanted", "etc/motd", "opt", "opt/x", "opt/x/link", "opt/x/proxy"]);
        changes.Entries.Single(e => e.Path == "opt/x/link").ShouldSatisfyAllConditions(
            e => e.Kind.ShouldBe(FileTreeEntryKind.Symlink), e => e.LinkTarget.ShouldBe("/etc/motd"));
        File.ReadAllText(System.IO.Path.Combine(rootfs.Root, "opt/x/proxy")).ShouldBe("http://proxy.example:3128\n");
        var contents = new Dictionary<string, string>();
        await changes.ReadContentsAsync(async (entry, stream, ct) => contents[entry.Path] = await new StreamReader(stream).ReadToEndAsync(ct));
        contents["etc/motd"].ShouldBe("hello\n");
        contents["etc/.wh.unwanted"].ShouldBe("");
    }

    /// <summary>
    /// Issue 13 item 6: an arm64 image's RUN on this amd64 machine, through the host's qemu-aarch64 binfmt_misc handler
    /// (qemu-user-static, F flag: the emulator is not in the image) — Debian's arm64 busybox reports the emulated CPU.
    /// </summary>
    [Theory]
    [Trait("Tier", "Heavy")]
    [MemberData(nameof(Kinds))]
    public async Task An_arm64_image_runs_its_own_binaries_through_the_hosts_emulator(SandboxKind kind)
    {
        ForeignArchitecture.Problem("arm64").ShouldBeNull("scripts/install-packages.sh installs qemu-user-static and registers qemu-aarch64");
        var packages = await DebianArm64Packages.SharedAsync();
        using var rootfs = new BusyboxRootfs(busybox: packages.BusyboxBinary);
        // ELF e_machine (offset 18) EM_AARCH64 = 183: an arm64 binary this machine cannot run natively.
        File.ReadAllBytes(System.IO.Path.Combine(rootfs.Root, "bin", "busybox"))[18..20].ShouldBe(new byte[] { 183, 0 });

        var result = await RunSandbox.Detect(kind).RunAsync(rootfs.Root, new SandboxCommand(["/bin/sh", "-c", "uname -m > /etc/arch && cat /etc/arch"], Path));

        result.ExitCode.ShouldBe(0, string.Join("\n", result.OutputTail));
        File.ReadAllText(System.IO.Path.Combine(rootfs.Root, "etc", "arch")).ShouldBe("aarch64\n");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_failing_command_reports_its_exit_code_and_output(SandboxKind kind)
    {
        using var rootfs = new BusyboxRootfs();

        var result = await RunSandbox.Detect(kind).RunAsync(rootfs.Root, new SandboxCommand(["/bin/sh", "-c", "echo about to fail; echo on stderr >&2; exit 7"], Path));

        result.ExitCode.ShouldBe(7);
        result.OutputTail.ShouldContain("about to fail");
        result.OutputTail.ShouldContain("on stderr");
    }

    [Fact]
    public async Task Mount_points_the_image_lacks_leave_no_trace()
    {
        using var rootfs = new BusyboxRootfs(withSystemDirectories: false);
        var before = FilesystemSnapshot.Take(rootfs.Root);

        var result = await RunSandbox.Detect(SandboxKind.UnshareChroot).RunAsync(rootfs.Root, new SandboxCommand(["/bin/sh", "-c", "echo x > /dev/null"], Path));

        result.ExitCode.ShouldBe(0, string.Join("\n", result.OutputTail));
        Directory.Exists(System.IO.Path.Combine(rootfs.Root, "proc")).ShouldBeFalse();
        Directory.Exists(System.IO.Path.Combine(rootfs.Root, "dev")).ShouldBeFalse();
        FilesystemChanges.Between(rootfs.Root, before, FilesystemSnapshot.Take(rootfs.Root)).IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public async Task Runs_as_the_given_user_in_the_given_directory()
    {
        using var rootfs = new BusyboxRootfs();
        Directory.CreateDirectory(System.IO.Path.Combine(rootfs.Root, "home/edge"));
        File.SetUnixFileMode(System.IO.Path.Combine(rootfs.Root, "home/edge"), (UnixFileMode)0x1FF);
        var before = FilesystemSnapshot.Take(rootfs.Root);

        var result = await RunSandbox.Detect(SandboxKind.UnshareChroot).RunAsync(rootfs.Root,
            new SandboxCommand(["/bin/sh", "-c", "id -u > created-by"], Path, WorkingDirectory: "/home/edge", Uid: 1000, Gid: 1000));
        var changes = FilesystemChanges.Between(rootfs.Root, before, FilesystemSnapshot.Take(rootfs.Root));

        result.ExitCode.ShouldBe(0, string.Join("\n", result.OutputTail));
        var created = changes.Entries.Single(e => e.Path == "home/edge/created-by");
        (created.Uid, created.Gid).ShouldBe((1000, 1000));
        File.ReadAllText(System.IO.Path.Combine(rootfs.Root, "home/edge/created-by")).ShouldBe("1000\n");
    }

    [Fact]
    public async Task A_deleted_directory_is_one_whiteout()
    {
        using var rootfs = new BusyboxRootfs();
        Directory.CreateDirectory(System.IO.Path.Combine(rootfs.Root, "var/cache/apt/archives"));
        File.WriteAllText(System.IO.Path.Combine(rootfs.Root, "var/cache/apt/archives/a.deb"), "x");
        var before = FilesystemSnapshot.Take(rootfs.Root);

        await RunSandbox.Detect(SandboxKind.UnshareChroot).RunAsync(rootfs.Root, new SandboxCommand(["/bin/sh", "-c", "rm -r /var/cache/apt"], Path));
        var changes = FilesystemChanges.Between(rootfs.Root, before, FilesystemSnapshot.Take(rootfs.Root));

        changes.Entries.Select(e => e.Path).ShouldBe(["var", "var/cache", "var/cache/.wh.apt"]);
    }
}
