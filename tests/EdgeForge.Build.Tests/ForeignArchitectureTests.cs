using EdgeForge.Build.Pipeline;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Planning;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// RUN for another ARCH than the machine's: the binfmt_misc handler is read as the kernel exposes it (files copied
/// from Debian's qemu-user-static registration), and each missing piece is named with its fix — before any pull.
/// </summary>
public sealed class ForeignArchitectureTests : IDisposable
{
    // /proc/sys/fs/binfmt_misc/qemu-aarch64 as Debian bookworm's qemu-user-static registers it.
    private const string Aarch64Handler = """
        enabled
        interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
        flags: PF
        offset 0
        magic 7f454c460201010000000000000000000200b700
        mask ffffffffffffff00fffffffffffffffffeffffff

        """;

    // 32-bit ARM: ELFCLASS32, e_machine 40; it must not be taken for an aarch64 handler.
    private const string ArmHandler = """
        enabled
        interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P
        flags: PF
        offset 0
        magic 7f454c4601010100000000000000000002002800
        mask ffffffffffffff00fffffffffffffffffeffffff

        """;

    private const string JarHandler = "enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n";

    private readonly TestDirectory _binfmt = new("edgeforge-binfmt-");

    public void Dispose() => _binfmt.Dispose();

    private string Mounted(string status = "enabled", params (string Name, string Text)[] handlers)
    {
        File.WriteAllText(_binfmt.Combine("status"), status + "\n");
        File.WriteAllText(_binfmt.Combine("register"), "");
        foreach (var (name, text) in handlers)
        {
            File.WriteAllText(_binfmt.Combine(name), text);
        }

        return _binfmt.Path;
    }

    [Fact]
    public void The_machines_own_architecture_needs_no_emulator()
    {
        ForeignArchitecture.Problem("amd64", _binfmt.Path, hostArch: "amd64").ShouldBeNull();
    }

    [Fact]
    public void An_enabled_aarch64_handler_with_the_fix_binary_flag_runs_arm64_steps()
    {
        ForeignArchitecture.Problem("arm64", Mounted("enabled", ("jar", JarHandler), ("qemu-aarch64", Aarch64Handler)), hostArch: "amd64").ShouldBeNull();
    }

    [Fact]
    public void Binfmt_misc_not_mounted_is_named_with_the_mount_and_the_package()
    {
        var problem = ForeignArchitecture.Problem("arm64", _binfmt.Path, hostArch: "amd64")!;
        problem.ShouldContain("ARCH=arm64");
        problem.ShouldContain("qemu-aarch64");
        problem.ShouldContain("binfmt_misc is not mounted");
        problem.ShouldContain("mount -t binfmt_misc binfmt_misc");
        problem.ShouldContain("apt-get install qemu-user-static binfmt-support");
    }

    [Fact]
    public void A_disabled_binfmt_misc_is_named()
    {
        ForeignArchitecture.Problem("arm64", Mounted("disabled", ("qemu-aarch64", Aarch64Handler)), hostArch: "amd64")!.ShouldContain("binfmt_misc is disabled");
    }

    [Fact]
    public void Without_an_aarch64_handler_the_emulator_to_install_is_named()
    {
        var problem = ForeignArchitecture.Problem("arm64", Mounted("enabled", ("jar", JarHandler), ("qemu-arm", ArmHandler)), hostArch: "amd64")!;
        problem.ShouldContain("no handler for aarch64 ELF binaries");
        problem.ShouldContain("apt-get install qemu-user-static binfmt-support");
        problem.ShouldContain("update-binfmts --enable qemu-aarch64");
    }

    [Fact]
    public void A_disabled_handler_is_named_with_update_binfmts()
    {
        var problem = ForeignArchitecture.Problem("arm64", Mounted("enabled", ("qemu-aarch64", Aarch64Handler.Replace("enabled", "disabled", StringComparison.Ordinal))), hostArch: "amd64")!;
        problem.ShouldContain("the handler qemu-aarch64 (/usr/libexec/qemu-binfmt/aarch64-binfmt-P) is disabled");
        problem.ShouldContain("update-binfmts --enable qemu-aarch64");
    }

    [Fact]
    public void A_handler_without_the_fix_binary_flag_cannot_run_in_the_sandbox_root()
    {
        var problem = ForeignArchitecture.Problem("arm64", Mounted("enabled", ("qemu-aarch64", Aarch64Handler.Replace("flags: PF", "flags: P", StringComparison.Ordinal))), hostArch: "amd64")!;
        problem.ShouldContain("lacks the F (fix binary) flag");
        problem.ShouldContain("qemu-user-static");
    }

    /// <summary>A Dockerfile RUN, or an option whose step runs in the image (no RUN line then).</summary>
    [Theory]
    [InlineData("", "RUN echo arm64 > /etc/arch\n")]
    [InlineData("CIS_HARDENING=true\n", "")]
    [InlineData("TWO_NODE=true\nCUSTOM_TAG=two-node\n", "")]
    public async Task A_build_with_arm64_run_steps_fails_before_any_pull_naming_the_emulator(string arg, string run)
    {
        using var project = new TestDirectory("edgeforge-arm64-run-");
        File.WriteAllText(project.Combine(".arg"), "IMAGE_REGISTRY=127.0.0.1:9/edge\nBASE_IMAGE=127.0.0.1:9/base/never-pulled:1\nK8S_DISTRIBUTION=k3s\nK8S_VERSION=1.30.1\nARCH=arm64\n" + arg);
        File.WriteAllText(project.Combine("k8s_version.json"), "{\"k3s\": [\"1.30.1\"]}\n");
        File.WriteAllText(project.Combine("Dockerfile"), $"FROM scratch\n# {EdgeForge.Configuration.Dockerfiles.DockerfileParser.Marker}\n{run}");
        var loaded = ProjectLoader.Load(project.Path, new ProjectOptions { Environment = _ => null });
        var plan = loaded.Plan ?? throw new InvalidOperationException("the test project is invalid: " + string.Join("; ", loaded.Diagnostics.Items.Select(d => d.ToString())));
        using var client = new RegistryClient();
        var blobs = new BlobCache(project.Combine("blobs"));

        var failure = await Should.ThrowAsync<BuildFailedException>(() => EdgeBuild.RunAsync(plan,
            new EdgeBuildOptions { Registry = client, Blobs = blobs, BinfmtDirectory = project.Combine("no-binfmt") }, BuildTarget.ProviderImages));

        failure.Message.ShouldContain("qemu-aarch64");
        failure.Message.ShouldContain("apt-get install qemu-user-static binfmt-support");
        // The base's registry (port 9) would refuse the connection: the emulator is checked before the first pull.
        failure.Message.ShouldNotContain("127.0.0.1:9");
        (Directory.Exists(blobs.Root) ? Directory.EnumerateFiles(blobs.Root, "*", SearchOption.AllDirectories) : []).ShouldBeEmpty();
    }
}
