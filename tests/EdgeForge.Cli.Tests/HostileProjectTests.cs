using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// A valid project with one input replaced by something hostile — a FIFO, a socket, a directory, a dangling link, a link
/// to a secret outside the project, bytes that are not UTF-8 — checked through <c>validate</c>, <c>plan</c> and
/// <c>build</c>: exit code 2, the file named with what it is, never the secret, never a hang, and nothing written.
/// </summary>
public sealed class HostileProjectTests
{
    private const string Secret = "sk_live_9fQ2xV7mB4nR8tW1";

    /// <summary>The project's inputs: where each lives and, for a replaced one, how the report names it.</summary>
    private static readonly (string Path, string Display, string? ArgLine)[] Inputs =
    [
        (".arg", ".arg", null),
        ("user-data", "user-data", null),
        ("Dockerfile", "Dockerfile", null),
        ("k8s_version.json", "k8s_version.json", null),
        ("certs/proxy-ca.crt", "certs/proxy-ca.crt", null),
        (".edge-custom-config.yaml", ".edge-custom-config.yaml", null),
        ("Earthfile", "Earthfile", null),
        ("spectro-luet-auth.yaml", "spectro-luet-auth.yaml", null),
        (".dockerignore", ".dockerignore", null),
        ("local-ui.tar", "local-ui.tar", null),
        ("content-site/core.zst", "content-site/core.zst", null),
        ("spc.tgz", "spc.tgz", "CLUSTERCONFIG=spc.tgz"),
        ("overlay/files-iso/boot/grub2/grub.cfg", "overlay/files-iso/boot/grub2/grub.cfg", null),
    ];

    private static readonly string[] Kinds = ["fifo", "socket", "directory", "dangling link", "link to /dev/zero", "allowed link to /dev/zero"];

    public static TheoryData<string, string, string> SpecialFiles()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (path, _, _) in Inputs)
        {
            foreach (var kind in Kinds)
            {
                // certs/ and content-*/ are folders of files: a directory inside them is not an input.
                if (kind == "directory" && path.Contains('/') && !path.StartsWith("overlay", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var command in new[] { "validate", "plan" })
                {
                    data.Add(path, kind, command);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SpecialFiles))]
    public async Task A_special_file_as_an_input_is_refused_naming_it(string path, string kind, string command)
    {
        using var project = new ValidProject();
        var input = Inputs.Single(i => i.Path == path);
        PrepareInput(project, input);
        Replace(Path.Combine(project.Directory, path), kind);
        var before = Snapshot(project.Directory);
        string[] extra = kind.StartsWith("allowed", StringComparison.Ordinal) ? ["--allow-external-links"] : [];

        var result = await CliResult.RunAsync([command, project.Directory, .. extra]).WaitAsync(TimeSpan.FromSeconds(30));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.All.ShouldContain($"{input.Display}: error: ", Case.Sensitive, result.All);
        result.All.ShouldContain(kind switch
        {
            "fifo" => "is a FIFO (named pipe), not a regular file",
            "socket" => "is a socket, not a regular file",
            "directory" => "is a directory, not a regular file",
            "dangling link" => "is a symbolic link to something that does not exist",
            "link to /dev/zero" => "is a symbolic link leaving the project directory (it resolves to /dev/zero)",
            _ => "is a character device, not a regular file",
        }, Case.Sensitive, result.All);
        Snapshot(project.Directory).ShouldBe(before);
    }

    public static TheoryData<string, string, bool> LinkedSecrets()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (path, _, _) in Inputs.Where(i => !i.Path.EndsWith(".zst", StringComparison.Ordinal) && !i.Path.EndsWith(".tar", StringComparison.Ordinal) && !i.Path.EndsWith(".tgz", StringComparison.Ordinal)))
        {
            foreach (var shape in new[] { "bare secret", "key=secret", "yaml secret" })
            {
                data.Add(path, shape, false);
                data.Add(path, shape, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LinkedSecrets))]
    public async Task A_link_to_a_secret_outside_the_project_never_prints_it(string path, string shape, bool allowed)
    {
        using var outside = new TestDirectory();
        using var project = new ValidProject();
        var input = Inputs.Single(i => i.Path == path);
        PrepareInput(project, input);
        var secretFile = outside.Combine("credentials");
        File.WriteAllText(secretFile, shape switch
        {
            "bare secret" => Secret + "\n",
            "key=secret" => $"aws_secret_access_key={Secret}\n[default]\n{Secret} {Secret}\n",
            _ => $"token: {Secret}\nnested:\n  - {Secret}\n",
        });
        var link = Path.Combine(project.Directory, path);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.Delete(link);
        File.CreateSymbolicLink(link, secretFile);
        var before = Snapshot(project.Directory);
        var beforeOutside = Snapshot(outside.Path);

        var result = await CliResult.RunAsync(["validate", project.Directory, .. allowed ? new[] { "--allow-external-links" } : []]).WaitAsync(TimeSpan.FromSeconds(30));

        result.ShouldNotCrash();
        result.All.ShouldNotContain(Secret);
        result.All.ShouldNotContain(Secret[..10]);
        if (!allowed)
        {
            result.ExitCode.ShouldBe(2, result.All);
            result.All.ShouldContain($"{input.Display}: error: is a symbolic link leaving the project directory", Case.Sensitive, result.All);
            result.All.ShouldContain("--allow-external-links");
        }
        else
        {
            result.ExitCode.ShouldBeOneOf(0, 2);
        }

        Snapshot(project.Directory).ShouldBe(before);
        Snapshot(outside.Path).ShouldBe(beforeOutside);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("manifest")]
    [InlineData("build iso")]
    [InlineData("build provider-images")]
    [InlineData("build all")]
    public async Task Every_command_that_reads_a_project_refuses_a_link_out_and_accepts_the_option(string command)
    {
        using var outside = new TestDirectory();
        using var project = new ValidProject();
        File.WriteAllText(outside.Combine("user-data"), ValidProject.UserData);
        File.Delete(Path.Combine(project.Directory, "user-data"));
        File.CreateSymbolicLink(Path.Combine(project.Directory, "user-data"), outside.Combine("user-data"));
        var before = Snapshot(project.Directory);

        var refused = await CliResult.RunAsync([.. command.Split(' '), project.Directory]);
        var help = await CliResult.RunAsync([.. command.Split(' '), "--help"]);

        refused.ShouldNotCrash();
        refused.ExitCode.ShouldBe(2, refused.All);
        refused.All.ShouldContain("user-data: error: is a symbolic link leaving the project directory");
        help.Output.ShouldContain("--allow-external-links");
        Snapshot(project.Directory).ShouldBe(before);
        Directory.Exists(Path.Combine(project.Directory, "build")).ShouldBeFalse();
    }

    [Fact]
    public async Task With_the_option_a_valid_linked_input_is_used()
    {
        using var outside = new TestDirectory();
        using var project = new ValidProject();
        File.WriteAllText(outside.Combine("user-data"), ValidProject.UserData);
        File.Delete(Path.Combine(project.Directory, "user-data"));
        File.CreateSymbolicLink(Path.Combine(project.Directory, "user-data"), outside.Combine("user-data"));

        var result = await CliResult.RunAsync("validate", project.Directory, "--allow-external-links");

        result.ExitCode.ShouldBe(0, result.All);
    }

    public static TheoryData<string, string> Encodings()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, bytes) in new (string, string)[] { ("latin-1", "E9"), ("overlong", "C0AF"), ("surrogate", "EDA080"), ("past U+10FFFF", "F4908080"), ("truncated", "E282"), ("stray continuation", "80") })
        {
            data.Add(name, bytes);
        }

        foreach (var c in new[] { 0x01, 0x07, 0x08, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F, 0x80, 0x9B, 0x9F })
        {
            data.Add($"U+{c:X4}", "U+" + c.ToString("X4"));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Bad_bytes_in_a_user_data_value_are_an_error_with_the_line(string name, string bytes)
    {
        using var project = new ValidProject();
        var value = bytes.StartsWith("U+", StringComparison.Ordinal)
            ? System.Text.Encoding.UTF8.GetBytes("\"De" + (char)Convert.ToInt32(bytes[2..], 16) + "fault\"")
            : [.. "De"u8, .. Convert.FromHexString(bytes), .. "fault"u8];
        project.WriteBytes("user-data", [.. System.Text.Encoding.UTF8.GetBytes(ValidProject.UserData[..ValidProject.UserData.IndexOf("Default", StringComparison.Ordinal)]),
            .. value, .. System.Text.Encoding.UTF8.GetBytes(ValidProject.UserData[(ValidProject.UserData.IndexOf("Default", StringComparison.Ordinal) + 7)..])]);

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, name + "\n" + result.All);
        result.All.ShouldContain("user-data:6:", Case.Sensitive, result.All);
        result.All.ShouldContain(bytes.StartsWith("U+", StringComparison.Ordinal) ? $"control character {bytes}" : "is not valid UTF-8 here");
    }

    [Fact]
    public async Task Plan_shows_a_value_overridden_from_the_environment()
    {
        using var project = new ValidProject();

        var (code, stdout, stderr) = await EdgeforgeCli.RunAsync(new Dictionary<string, string> { ["CUSTOM_TAG"] = "from-shell" }, null, "plan", project.Directory);

        code.ShouldBe(0, stderr);
        stderr.ShouldContain("environment: warning: CUSTOM_TAG: overridden from environment: CUSTOM_TAG=from-shell, replacing the value of .arg line 1");
        stdout.ShouldContain("CUSTOM_TAG=from-shell (environment — overrides .arg line 1)");
    }

    private static void PrepareInput(ValidProject project, (string Path, string Display, string? ArgLine) input)
    {
        // Inputs a valid project does not have yet exist first, so that replacing them changes only their kind.
        if (input.ArgLine is { } line)
        {
            project.AppendArg(line);
        }

        if (input.Path.StartsWith("overlay/", StringComparison.Ordinal))
        {
            project.Write(input.Path, "set default={{DEFAULT_ENTRY}}\n");
        }
    }

    private static void Replace(string path, string kind) => EdgeForge.Testing.SpecialFiles.Create(path, kind);

    /// <summary>Every entry below a directory with its type, size and modification time: what "nothing was written" compares.</summary>
    internal static List<string> Snapshot(string directory) =>
        new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(i => $"{Path.GetRelativePath(directory, i.FullName)} {i.Attributes} {(i is FileInfo { LinkTarget: null } f && (f.Attributes & FileAttributes.Directory) == 0 ? SafeLength(f) : -1)} {i.LastWriteTimeUtc.Ticks}")
            .Order(StringComparer.Ordinal)
            .ToList();

    private static long SafeLength(FileInfo file)
    {
        try
        {
            return file.Length;
        }
        catch (IOException)
        {
            return -2;
        }
    }

}
