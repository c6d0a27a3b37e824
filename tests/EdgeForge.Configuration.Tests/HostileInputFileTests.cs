using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.Kubernetes;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Configuration.Tests;

/// <summary>
/// Inputs that are not what they claim: special files, links out of the project, bytes that are not UTF-8, JSON nested
/// to exhaust a parser. The loader reads none of them and names each.
/// </summary>
public sealed class HostileInputFileTests
{
    private const string Arg = "IMAGE_REGISTRY=r.example.com\nK8S_VERSION=1.30.14\n";

    public static TheoryData<string> SpecialFileKinds() => new("fifo", "socket", "directory", "dangling link", "link loop");

    public static TheoryData<string, string> SpecialFilesAsInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var input in new[] { ".arg", "user-data", "Dockerfile", "k8s_version.json", "Earthfile", ".edge-custom-config.yaml", "spectro-luet-auth.yaml", ".dockerignore" })
        {
            foreach (var kind in SpecialFileKinds())
            {
                data.Add(input, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SpecialFilesAsInputs))]
    public async Task A_special_file_as_an_input_is_refused_by_name_without_being_opened(string input, string kind)
    {
        using var project = new TestProject().With(".arg", Arg);
        MakeSpecial(Path.Combine(project.Directory, input), kind);

        var result = await Load(project).WaitAsync(TimeSpan.FromSeconds(20));

        result.Plan.ShouldBeNull();
        var error = result.Diagnostics.Errors.First(e => e.File == input);
        error.Message.ShouldContain(kind switch
        {
            "fifo" => "is a FIFO (named pipe), not a regular file",
            "socket" => "is a socket, not a regular file",
            "directory" => "is a directory, not a regular file",
            _ => "does not exist (or a loop of links)",
        });
    }

    [Theory]
    [InlineData("fifo", "is a FIFO")]
    [InlineData("socket", "is a socket")]
    [InlineData("dangling link", "does not exist")]
    public async Task A_special_file_among_the_certificates_is_refused_by_name(string kind, string expected)
    {
        using var project = new TestProject().With(".arg", Arg).With("certs/good.crt", TestCertificates.SelfSignedPem("CN=Good"));
        MakeSpecial(Path.Combine(project.Directory, "certs", "proxy.crt"), kind);

        var result = await Load(project).WaitAsync(TimeSpan.FromSeconds(20));

        result.Diagnostics.Errors.ShouldContain(e => e.File == "certs/proxy.crt" && e.Message.Contains(expected));
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/dev/null")]
    public void An_endless_device_behind_an_allowed_link_is_refused_as_a_device(string device)
    {
        using var project = new TestProject().With(".arg", Arg);
        File.CreateSymbolicLink(Path.Combine(project.Directory, "user-data"), device);

        var result = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null, AllowExternalLinks = true });

        result.Diagnostics.Errors.ShouldContain(e => e.File == "user-data" && e.Message == "is a character device, not a regular file: it is not read");
    }

    public static TheoryData<string, string> LinksLeavingTheProject()
    {
        var data = new TheoryData<string, string>();
        foreach (var input in new[] { ".arg", "user-data", "Dockerfile", "k8s_version.json", "Earthfile", ".edge-custom-config.yaml", "spectro-luet-auth.yaml", "certs/ca.crt" })
        {
            data.Add(input, "absolute");
            data.Add(input, "relative");
        }

        data.Add("certs/ca.crt", "linked directory");
        return data;
    }

    [Theory]
    [MemberData(nameof(LinksLeavingTheProject))]
    public async Task A_link_leaving_the_project_is_refused_and_its_target_never_quoted(string input, string form)
    {
        using var outside = new TestProject().With("secret.txt", "s3cr3t-Value-9f8e7d\nline two\n");
        using var project = new TestProject().With(".arg", Arg);
        var link = Path.Combine(project.Directory, input);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        var target = Path.Combine(outside.Directory, "secret.txt");
        switch (form)
        {
            case "absolute":
                File.Delete(link);
                File.CreateSymbolicLink(link, target);
                break;
            case "relative":
                File.Delete(link);
                File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, target));
                break;
            default:
                Directory.Delete(Path.GetDirectoryName(link)!);
                Directory.CreateSymbolicLink(Path.GetDirectoryName(link)!, outside.Directory);
                File.Copy(target, Path.Combine(outside.Directory, Path.GetFileName(link)));
                break;
        }

        var result = await Load(project);

        result.Plan.ShouldBeNull();
        var display = form == "linked directory" ? "certs/" : input;
        result.Diagnostics.Errors.ShouldContain(e => e.File == display && e.Message.Contains("leaving the project directory") && e.Hint!.Contains("--allow-external-links"),
            string.Join("\n", result.Diagnostics.Items));
        string.Join("\n", result.Diagnostics.Items).ShouldNotContain("s3cr3t");
    }

    [Theory]
    [InlineData(".arg")]
    [InlineData("user-data")]
    [InlineData("Dockerfile")]
    [InlineData("k8s_version.json")]
    [InlineData(".edge-custom-config.yaml")]
    [InlineData("spectro-luet-auth.yaml")]
    public void An_allowed_link_to_a_file_that_does_not_parse_is_read_but_never_quoted(string input)
    {
        using var outside = new TestProject().With("secret", "ghp_S3cr3tT0ken4242 and more\npassword Hunter2Hunter2\n");
        using var project = new TestProject().With(".arg", Arg);
        var link = Path.Combine(project.Directory, input);
        File.Delete(link);
        File.CreateSymbolicLink(link, Path.Combine(outside.Directory, "secret"));

        var result = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null, AllowExternalLinks = true });

        result.Diagnostics.Errors.ShouldContain(e => e.File == input, string.Join("\n", result.Diagnostics.Items));
        var everything = string.Join("\n", result.Diagnostics.Items.Select(d => d.ToString()));
        everything.ShouldNotContain("S3cr3t");
        everything.ShouldNotContain("Hunter2");
    }

    [Theory]
    [InlineData("CLUSTERCONFIG", "relative")]
    [InlineData("CLUSTERCONFIG", "/etc/passwd")]
    [InlineData("EDGE_CUSTOM_CONFIG", "relative")]
    [InlineData("EDGE_CUSTOM_CONFIG", "/etc/passwd")]
    public async Task A_key_naming_a_file_outside_the_project_is_refused(string key, string value)
    {
        using var outside = new TestProject().With("file", "x");
        using var project = new TestProject();
        var path = value == "relative" ? Path.GetRelativePath(project.Directory, Path.Combine(outside.Directory, "file")) : value;
        project.With(".arg", Arg + $"{key}={path}\n");

        var result = await Load(project);

        result.Diagnostics.Errors.ShouldContain(e => e.Message.Contains("is outside the project directory"), string.Join("\n", result.Diagnostics.Items));
        string.Join("\n", result.Diagnostics.Items).ShouldNotContain("root:");
    }

    [Fact]
    public async Task Links_inside_the_project_are_fine()
    {
        using var project = new TestProject().With(".arg", Arg).With("config/user-data.yaml", "#cloud-config\ninstall:\n  poweroff: true\nstylus:\n  managementMode: local\n");
        File.CreateSymbolicLink(Path.Combine(project.Directory, "user-data"), "config/user-data.yaml");

        var result = await Load(project);

        result.Diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", result.Diagnostics.Items));
        result.Plan!.Inputs.UserData.ShouldNotBeNull();
    }

    [Fact]
    public async Task An_oversized_input_is_refused_without_reading_it_whole()
    {
        using var project = new TestProject().With(".arg", Arg);
        using (var file = File.Create(Path.Combine(project.Directory, "user-data")))
        {
            file.SetLength(InputFileReader.DefaultMaxBytes + 1);
        }

        var result = await Load(project);

        result.Diagnostics.Errors.ShouldContain(e => e.File == "user-data" && e.Message.Contains("at most 4,194,304 are read"));
    }

    /// <summary>Malformed UTF-8 (RFC 3629 §3 and §10): stray continuation bytes, overlong forms, surrogates, values past U+10FFFF, truncations.</summary>
    public static TheoryData<string, byte[]> InvalidUtf8()
    {
        var data = new TheoryData<string, byte[]>();
        foreach (var (name, bytes) in new (string, byte[])[]
                 {
                     ("lone continuation", [0x80]), ("two continuations", [0xBF, 0xBF]), ("overlong slash", [0xC0, 0xAF]), ("overlong NUL", [0xC0, 0x80]),
                     ("C1 lead", [0xC1, 0xBF]), ("overlong three bytes", [0xE0, 0x80, 0xAF]), ("UTF-16 surrogate", [0xED, 0xA0, 0x80]),
                     ("low surrogate", [0xED, 0xBF, 0xBF]), ("past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
                     ("five bytes", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("FE", [0xFE]), ("FF", [0xFF]), ("truncated two", [0xC3]),
                     ("truncated three", [0xE2, 0x82]), ("truncated four", [0xF0, 0x9F, 0x98]), ("latin-1 e acute", [0xE9]),
                 })
        {
            foreach (var input in new[] { "user-data", ".arg", "Dockerfile", "k8s_version.json" })
            {
                data.Add($"{input}: {name}", bytes);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task Invalid_utf8_is_an_error_with_its_line(string name, byte[] sequence)
    {
        var input = name[..name.IndexOf(':')];
        byte[] prefix = input switch
        {
            "user-data" => "#cloud-config\nstylus:\n  site:\n    projectName: ab"u8.ToArray(),
            ".arg" => "IMAGE_REGISTRY=r.example.com\nK8S_VERSION=1.30.14\nCUSTOM_TAG=ab"u8.ToArray(),
            "Dockerfile" => "# Add any other image customizations here\nRUN true\nRUN echo ab"u8.ToArray(),
            _ => "{\n  \"k3s\": [\"1.30.14\"],\n  \"rke2\": [\"ab"u8.ToArray(),
        };
        using var project = new TestProject().With(".arg", Arg);
        var lineOfSequence = input == "user-data" ? 4 : 3;
        File.WriteAllBytes(Path.Combine(project.Directory, input), [.. prefix, .. sequence, .. "\n"u8]);

        var result = await Load(project);

        var error = result.Diagnostics.Errors.First(e => e.File == input);
        error.Message.ShouldContain("is not valid UTF-8 here");
        error.Line.ShouldBe(lineOfSequence);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted_and_a_nul_byte_is_not()
    {
        var bom = InputFileReader.DecodeText([0xEF, 0xBB, 0xBF, .. "a=b\n"u8], "x", new DiagnosticBag());
        var diagnostics = new DiagnosticBag();
        var binary = InputFileReader.DecodeText([.. "a=b\nc"u8, 0, .. "d\n"u8], "x", diagnostics);

        bom.ShouldBe("a=b\n");
        binary.ShouldBeNull();
        (diagnostics.Errors.Single().Line, diagnostics.Errors.Single().Column).ShouldBe((2, 2));
    }

    [Theory]
    [InlineData(KubernetesVersionCatalog.MaxDepth + 1)]
    [InlineData(1_000)]
    [InlineData(1_000_000)]
    public void Deeply_nested_json_in_k8s_version_json_is_refused(int depth)
    {
        var diagnostics = new DiagnosticBag();

        KubernetesVersionCatalog.Parse("k8s_version.json", "{\"k3s\": " + new string('[', depth) + new string(']', depth) + "}", diagnostics).ShouldBeNull();

        diagnostics.Errors.ShouldContain(e => e.Message == $"lists or objects are nested more than {KubernetesVersionCatalog.MaxDepth} levels deep; refused");
    }

    private static Task<ProjectLoadResult> Load(TestProject project) =>
        Task.Run(() => ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null }));

    internal static void MakeSpecial(string path, string kind) => SpecialFiles.Create(path, kind);
}
