using System.Formats.Tar;
using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Planning;

namespace EdgeForge.Configuration.Tests;

/// <summary>Given a CanvOS checkout (its .arg template and Earthfile), the plan names CanvOS's upstreams; the files CanvOS reads are checked up front.</summary>
public sealed class ProjectSourcesTests
{
    private static ProjectOptions Options(Dictionary<string, string>? environment = null) => new() { Environment = k => environment?.GetValueOrDefault(k) };

    private static TestProject CanvOSCheckout() => new TestProject()
        .WithFixture("canvos/arg.template", ".arg")
        .WithFixture("canvos/k8s_version.json", "k8s_version.json")
        .WithFixture("canvos-earthfile/Earthfile", "Earthfile");

    [Fact]
    public void A_canvos_checkout_plans_canvos_upstreams_with_its_earthfile_pins()
    {
        using var project = CanvOSCheckout();

        var result = ProjectLoader.Load(project.Directory, Options());

        var plan = result.Plan.ShouldNotBeNull(string.Join("\n", result.Diagnostics.Items));
        plan.Settings.PeVersion.ShouldBe("v4.10.0-rc.2");
        plan.Sources.Base.Reference.ShouldBe("us-docker.pkg.dev/palette-images/edge/kairos-ubuntu:22.04-core-amd64-generic-v0.17.1");
        plan.BaseImage.ShouldBe(plan.Sources.Base.Reference);
        plan.Sources.StylusFramework.Reference.ShouldBe("us-docker.pkg.dev/palette-images/edge/stylus-framework-linux-amd64:v4.10.0-rc.2");
        plan.Sources.KairosProvider.Reference.ShouldBe("us-docker.pkg.dev/palette-images/edge/kairos-io/provider-k3s:v4.10.3");
        plan.Sources.LuetRepository.Reference.ShouldBe("us-docker.pkg.dev/palette-images/edge/luet-repo-amd");
        plan.ProviderImages[0].LuetPackage.ShouldBe($"k8s/k3s@{plan.ProviderImages[0].K8sVersion}-k3s1");
        plan.ProviderImages.ShouldAllBe(i => i.K8sSource == null);
        plan.Earthfile.ShouldBe(Path.Combine(project.Directory, "Earthfile"));
        plan.Values.Single(v => v.Key == "KAIROS_INIT_VERSION").Describe().ShouldBe("Earthfile line 27");
        plan.Values.Single(v => v.Key == "ISO_NAME").ShouldBe(new ResolvedValue("ISO_NAME", "palette-edge-installer", ArgumentSource.ArgFile, ".arg", 7)
        {
            SameAsBuiltIn = true,
        });
        plan.BuildArguments["DRBD_VERSION"].ShouldBe("9.2.13");
    }

    [Fact]
    public void A_malformed_earthfile_line_fails_validation_at_its_line()
    {
        using var project = CanvOSCheckout().With("Earthfile", "VERSION 0.6\nARG PE_VERSION=v4.10.0\nARG =x\n");

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldBeNull();
        var error = result.Diagnostics.Errors.ShouldHaveSingleItem();
        (error.File, error.Line).ShouldBe(("Earthfile", 3));
    }

    [Fact]
    public void Overlays_are_inputs_and_a_grub_template_without_the_placeholder_warns()
    {
        using var project = CanvOSCheckout()
            .With("overlay/files/etc/motd", "hello\n")
            .With("overlay/files-iso/boot/grub2/grub.cfg", "set default=0\nmenuentry 'x' {}\n");
        WriteTar(Path.Combine(project.Directory, "local-ui.tar"), "ui/index.html");

        var result = ProjectLoader.Load(project.Directory, Options());

        var overlay = result.Plan.ShouldNotBeNull(string.Join("\n", result.Diagnostics.Items)).Inputs.Overlay;
        overlay.ShouldBe(new Inputs.OverlayInputs(
            Path.Combine(project.Directory, "overlay/files"), Path.Combine(project.Directory, "overlay/files-iso"),
            Path.Combine(project.Directory, "overlay/files-iso/boot/grub2/grub.cfg"), Path.Combine(project.Directory, "local-ui.tar")));
        result.Diagnostics.Warnings.ShouldContain(w => w.File == "overlay/files-iso/boot/grub2/grub.cfg" && w.Message.Contains("{{DEFAULT_ENTRY}}"));
    }

    [Theory]
    [InlineData("../escape", "outside")]
    [InlineData("/etc/passwd", "outside")]
    public void A_local_ui_archive_that_would_escape_is_refused(string entry, string message)
    {
        using var project = CanvOSCheckout();
        WriteTar(Path.Combine(project.Directory, "local-ui.tar"), entry);

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldBeNull();
        var error = result.Diagnostics.Errors.ShouldHaveSingleItem();
        (error.File, error.Message.Contains(message)).ShouldBe(("local-ui.tar", true));
    }

    [Fact]
    public void A_local_ui_file_that_is_not_a_tar_is_refused()
    {
        using var project = CanvOSCheckout().With("local-ui.tar", new string('x', 2048));

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Diagnostics.Errors.ShouldHaveSingleItem().File.ShouldBe("local-ui.tar");
    }

    [Fact]
    public void Luet_auth_is_read_as_luet_reads_it_and_the_password_is_never_printed()
    {
        using var project = CanvOSCheckout().With("spectro-luet-auth.yaml", "auth:\n  username: robot\n  password: S3cretT0ken\n  serverAddress: us-docker.pkg.dev\n");

        var result = ProjectLoader.Load(project.Directory, Options());

        var auth = result.Plan.ShouldNotBeNull(string.Join("\n", result.Diagnostics.Items)).Inputs.LuetAuth.ShouldNotBeNull();
        auth.Auth["username"].ShouldBe("robot");
        auth.Auth["password"].ShouldBe("S3cretT0ken");
        auth.Auth["serveraddress"].ShouldBe("us-docker.pkg.dev");
        string.Join("\n", result.Diagnostics.Items).ShouldNotContain("S3cretT0ken");
    }

    [Theory]
    [InlineData("username: robot\npassword: S3cretT0ken\n", "has no auth:")]
    [InlineData("auth: robot:S3cretT0ken\n", "must be a mapping")]
    [InlineData("auth:\n  username: robot\n", "no credentials")]
    [InlineData("auth:\n  username: robot\n  password: [S3cretT0ken]\n", "plain string")]
    [InlineData("auth: {username: robot, password: S3cretT0ken\n", "invalid YAML")]
    public void A_luet_auth_file_luet_could_not_use_is_an_error_without_the_secret(string text, string message)
    {
        using var project = CanvOSCheckout().With("spectro-luet-auth.yaml", text);

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldBeNull();
        var error = result.Diagnostics.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe("spectro-luet-auth.yaml");
        error.Message.ShouldContain(message);
        string.Join("\n", result.Diagnostics.Items).ShouldNotContain("S3cretT0ken");
    }

    [Fact]
    public void A_luet_auth_field_luet_does_not_pass_on_warns()
    {
        using var project = CanvOSCheckout().With("spectro-luet-auth.yaml", "auth:\n  user: robot\n  password: x\n  auth: cm9ib3Q6eA==\n");

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldNotBeNull();
        result.Diagnostics.Warnings.ShouldContain(w => w.Key == "auth.user" && w.Line == 2);
    }

    private static void WriteTar(string path, string entryName)
    {
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entryName) { DataStream = new MemoryStream("x"u8.ToArray()) });
    }
}
