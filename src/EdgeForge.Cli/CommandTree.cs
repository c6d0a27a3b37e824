using System.CommandLine;
using EdgeForge.Cli.Commands;

namespace EdgeForge.Cli;

/// <summary>The whole command tree. Each command group lives in its own file under Commands/.</summary>
public static class CommandTree
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "edgeforge builds edge-host artifacts from a CanvOS project directory: provider images, the installer ISO, " +
            "content bundles and the BYOOS pack manifest — daemonless, validated up front, reproducible.");
        foreach (var command in Groups())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static IEnumerable<Command> Groups()
    {
        yield return ProjectCommands.Validate();
        yield return ProjectCommands.Plan();
        yield return ProjectCommands.Manifest();
        yield return ProjectCommands.Init();
        yield return BuildCommands.Create();
        yield return KeysCommands.Create();
        yield return ContentCommands.Create();
        yield return ImageCommands.Create();
        yield return LoginCommands.Login();
        yield return LoginCommands.Logout();
        yield return IsoCommands.Create();
        yield return SiteUserDataCommand.Create();
        yield return Fs();
    }

    /// <summary>Filesystem image writers, thin over EdgeForge.DiskFormats and EdgeForge.SquashFs.</summary>
    private static Command Fs()
    {
        var fs = new Command("fs", "Write filesystem images (ISO 9660, FAT, SquashFS) from a directory or an image.");
        fs.Subcommands.Add(FsIsoCommand.Create());
        fs.Subcommands.Add(FsFatCommand.Create());
        fs.Subcommands.Add(FsSquashFsCommand.Create());
        return fs;
    }
}
