using System.Security.Cryptography;
using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// Outputs on a disk that fills up or is read-only: every writing command fails with exit 1 and the system's reason
/// in one line, never a stack trace, and leaves nothing on that disk — no partial image, no temporary file.
/// </summary>
public sealed class HostileOutputTests
{
    /// <summary>Each writing command with its output inside DIR (the small filesystem) and the input it reads.</summary>
    public static TheoryData<string, string> Commands() => new()
    {
        { "fs squashfs", "fs squashfs {tree} -o {out}/tree.squashfs --comp gzip" },
        { "fs iso", "fs iso {tree} -o {out}/tree.iso" },
        { "fs fat", "fs fat {tree} -o {out}/tree.img" },
        { "site-user-data", "site-user-data {userdata} -o {out}/site.iso" },
        { "keys generate", "keys generate -o {out}/keys --bits 4096" },
        { "keys secureboot", "keys secureboot -o {out}/secure-boot --org ACME" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task A_full_disk_is_a_clear_failure_that_leaves_nothing(string name, string command)
    {
        using var work = new TestDirectory();
        using var disk = SmallFilesystem.Full(name switch { "keys generate" => 4096, "keys secureboot" => 16 << 10, _ => 256 << 10 });

        var result = await CliResult.RunAsync(Arguments(command, work, disk.Path));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(1, result.All);
        result.Error.ShouldContain("edgeforge: ");
        result.Error.ShouldContain("space", Case.Insensitive, result.All);
        disk.Entries().Where(e => e != "keys").ShouldBeEmpty($"{name} left {string.Join(", ", disk.Entries())}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task A_read_only_disk_is_a_clear_failure_that_leaves_nothing(string name, string command)
    {
        using var work = new TestDirectory();
        using var disk = SmallFilesystem.ReadOnly();

        var result = await CliResult.RunAsync(Arguments(command, work, disk.Path));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(1, result.All);
        result.Error.ShouldContain("read-only", Case.Insensitive, result.All);
        disk.Entries().ShouldBeEmpty(name);
    }

    private static string[] Arguments(string command, TestDirectory work, string output)
    {
        var tree = Directory.CreateDirectory(work.Combine("tree")).FullName;
        var block = new byte[1 << 20];
        for (var i = 0; i < 2; i++)
        {
            RandomNumberGenerator.Fill(block);
            File.WriteAllBytes(Path.Combine(tree, $"random-{i}.bin"), block);
        }

        var userData = work.Combine("user-data");
        File.WriteAllText(userData, "#cloud-config\nstylus:\n  site:\n    edgeHostToken: abc123\n    paletteEndpoint: api.spectrocloud.com\n    projectName: Default\n"
            + "    tags:\n      padding: \"" + new string('x', 300 << 10) + "\"\n");
        return command.Replace("{tree}", tree).Replace("{out}", output).Replace("{userdata}", userData).Split(' ');
    }
}
