using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Planning;

namespace EdgeForge.Configuration.Tests;

/// <summary>
/// The same CanvOS checkout gives the same composition: values layered command line › environment › .arg › Earthfile
/// › built-in, each with its origin, and the upstream images formed by CanvOS's formulas.
/// </summary>
public sealed class UpstreamSourcesTests
{
    private const string Pub = "us-docker.pkg.dev/palette-images";

    private static readonly IReadOnlyList<EarthfileArgument> FixtureEarthfile =
        EarthfileArguments.Parse("Earthfile", Fixtures.Read("canvos-earthfile/Earthfile"), new DiagnosticBag());

    private static (BuildArguments Arguments, BuildSettings? Settings, UpstreamSources? Sources, DiagnosticBag Diagnostics) Resolve(
        string arg, Dictionary<string, string>? commandLine = null, Dictionary<string, string>? environment = null, bool earthfile = true)
    {
        var diagnostics = new DiagnosticBag();
        var arguments = BuildArguments.Load(".arg", "IMAGE_REGISTRY=ttl.sh\n" + arg, commandLine ?? new(), k => environment?.GetValueOrDefault(k),
            diagnostics, earthfile ? FixtureEarthfile : null);
        var settings = BuildSettingsResolver.Resolve(arguments, diagnostics);
        var sources = settings is null ? null : UpstreamSourceFormulas.Resolve(settings, arguments, diagnostics);
        return (arguments, settings, sources, diagnostics);
    }

    [Fact]
    public void Each_layer_beats_the_one_below_and_says_where_it_came_from()
    {
        var (arguments, _, _, diagnostics) = Resolve("CUSTOM_TAG=file\nISO_NAME=from-arg\nKAIROS_VERSION=v4.1.3",
            commandLine: new() { ["KAIROS_VERSION"] = "v4.1.9" },
            environment: new() { ["CUSTOM_TAG"] = "env" });

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
        var kairos = arguments.Final("KAIROS_VERSION")!;
        (kairos.Value, kairos.Origin, kairos.Describe(), kairos.Overrides!.Describe()).ShouldBe(("v4.1.9", ArgumentSource.CommandLine, "command line", ".arg line 4"));
        var tag = arguments.Final("CUSTOM_TAG")!;
        (tag.Value, tag.Describe(), tag.Overrides!.Describe()).ShouldBe(("env", "environment", ".arg line 2"));
        arguments.Final("ISO_NAME")!.Describe().ShouldBe(".arg line 3");
        var pe = arguments.Final("PE_VERSION")!;
        (pe.Value, pe.Origin, pe.File, pe.Line).ShouldBe(("v4.10.0-rc.2", ArgumentSource.Earthfile, "Earthfile", 25));
        arguments.LocationOf("PE_VERSION").ShouldBe(("Earthfile", 25));
        arguments.Final("SQUASHFS_COMPRESSION")!.Describe().ShouldBe("built-in");
    }

    [Fact]
    public void The_earthfile_iso_name_applies_only_when_there_is_an_earthfile()
    {
        Resolve("").Settings!.IsoName.ShouldBe("installer");
        Resolve("", earthfile: false).Settings!.IsoName.ShouldBe("palette-edge-installer");
    }

    [Fact]
    public void Earthfile_references_are_expanded_against_the_final_values()
    {
        var (arguments, settings, sources, _) = Resolve("PE_VERSION=v4.9.0", commandLine: new() { ["SPECTRO_PUB_REPO"] = "mirror.example.com/pi" });

        var url = arguments.Final("KAIROS_BASE_IMAGE_URL")!;
        (url.Value, url.Origin).ShouldBe(("mirror.example.com/pi/edge", ArgumentSource.Earthfile));
        settings!.StylusBase.ShouldBe("mirror.example.com/pi/edge/stylus-framework-linux-amd64:v4.9.0");
        sources!.Base.Reference.ShouldBe("mirror.example.com/pi/edge/kairos-ubuntu:22.04-core-amd64-generic-v0.17.1");
        sources.KairosProvider.Reference.ShouldBe("mirror.example.com/pi/edge/kairos-io/provider-k3s:v4.10.3");
        sources.LuetRepository.Reference.ShouldBe("us-docker.pkg.dev/palette-images/edge/luet-repo-amd");
    }

    [Fact]
    public void Unknown_earthfile_args_warn_and_internal_ones_pass_silently()
    {
        var diagnostics = new DiagnosticBag();
        var earthfile = EarthfileArguments.Parse("Earthfile", "ARG GOLANG_VERSION=1.23\nARG ALPINE_TAG=3.20\nARG SHINY_NEW_OPTION=1\n", diagnostics);

        BuildArguments.Load(".arg", "", new Dictionary<string, string>(), _ => null, diagnostics, earthfile);

        var warning = diagnostics.Items.ShouldHaveSingleItem();
        (warning.Severity, warning.File, warning.Line, warning.Key).ShouldBe((Severity.Warning, "Earthfile", 3, "SHINY_NEW_OPTION"));
    }

    [Fact]
    public void A_reference_to_an_arg_nobody_declares_warns_at_its_earthfile_line()
    {
        var diagnostics = new DiagnosticBag();
        var earthfile = EarthfileArguments.Parse("Earthfile", "ARG KAIROS_BASE_IMAGE_URL=$NOWHERE/edge\n", diagnostics);

        var arguments = BuildArguments.Load(".arg", "", new Dictionary<string, string>(), _ => null, diagnostics, earthfile);

        arguments.Final("KAIROS_BASE_IMAGE_URL")!.Value.ShouldBe("/edge");
        var warning = diagnostics.Warnings.ShouldHaveSingleItem();
        (warning.Line, warning.Key).ShouldBe((1, "KAIROS_BASE_IMAGE_URL"));
        warning.Message.ShouldContain("$NOWHERE");
    }

    [Theory]
    [InlineData("ubuntu", "22", "amd64", "kairos-ubuntu:22.04-core-amd64-generic-v0.17.1")]
    [InlineData("ubuntu", "22.04", "amd64", "kairos-ubuntu:22.04-core-amd64-generic-v0.17.1")]
    [InlineData("ubuntu", "20", "amd64", "kairos-ubuntu:20.04-core-amd64-generic-v0.17.1")]
    [InlineData("ubuntu", "24.04", "amd64", "kairos-ubuntu:24.04-core-amd64-generic-v0.17.1")]
    [InlineData("ubuntu", "22.04", "arm64", "kairos-ubuntu:22.04-core-arm64-generic-v0.17.1")]
    [InlineData("opensuse-leap", "15.6", "amd64", "kairos-opensuse:leap-15.6-core-amd64-generic-v0.17.1")]
    public void The_default_base_image_is_canvos_formula(string os, string version, string arch, string tag)
    {
        foreach (var earthfile in new[] { true, false })
        {
            var (_, _, sources, diagnostics) = Resolve($"OS_DISTRIBUTION={os}\nOS_VERSION={version}\nARCH={arch}", earthfile: earthfile);

            diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
            sources!.Base.ShouldBe(new UpstreamImage("base", $"{Pub}/edge/{tag}", "BASE_IMAGE"));
        }
    }

    [Fact]
    public void Arm64_changes_every_architecture_dependent_upstream()
    {
        var (_, _, sources, _) = Resolve("ARCH=arm64");

        sources!.StylusFramework.Reference.ShouldBe($"{Pub}/edge/stylus-framework-linux-arm64:v4.10.0-rc.2");
        sources.StylusPackage.Reference.ShouldBe($"{Pub}/edge/stylus-linux-arm64:v4.10.0-rc.2");
        sources.LuetRepository.ShouldBe(new UpstreamImage("luet-repository", $"{Pub}/edge/luet-repo-arm", "SPECTRO_LUET_REPO"));
        sources.EtcdctlPath.ShouldBe("binaries/etcdctl/latest/palette/arm64/etcdctl");
    }

    [Fact]
    public void Base_image_wins_and_the_mirror_rewrites_only_the_default()
    {
        Resolve("BASE_IMAGE=reg.example.com/os/ubuntu:custom").Sources!.Base.Reference.ShouldBe("reg.example.com/os/ubuntu:custom");
        Resolve("BASE_IMAGE_MIRROR=mirror.local:5000").Sources!.Base.Reference
            .ShouldBe("mirror.local:5000/palette-images/edge/kairos-ubuntu:22.04-core-amd64-generic-v0.17.1");
    }

    [Fact]
    public void Fips_switches_the_default_public_repository_and_takes_the_fips_etcdctl()
    {
        var fips = "FIPS_ENABLED=true\nK8S_DISTRIBUTION=kubeadm-fips\nBASE_IMAGE=reg.example.com/os/ubuntu-fips:22.04\n";

        var (arguments, settings, sources, diagnostics) = Resolve(fips);
        var (_, _, mirrored, _) = Resolve(fips + "SPECTRO_PUB_REPO=mirror.example.com/pi\n");

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
        var repo = arguments.Final("SPECTRO_PUB_REPO")!;
        (repo.Value, repo.Origin, repo.Describe(), repo.Overrides!.Describe()).ShouldBe(
            ("us-docker.pkg.dev/palette-images-fips", ArgumentSource.Rule, "FIPS rule (FIPS_ENABLED=true)", "Earthfile line 8"));
        settings!.KairosBaseImageUrl.ShouldBe("us-docker.pkg.dev/palette-images-fips/edge");
        sources!.StylusFramework.Reference.ShouldBe("us-docker.pkg.dev/palette-images-fips/edge/stylus-framework-linux-amd64:v4.10.0-rc.2");
        sources.KairosProvider.ShouldBe(new UpstreamImage("kairos-provider",
            "us-docker.pkg.dev/palette-images-fips/edge/kairos-io/provider-kubeadm:v4.10.1", "KUBEADM_PROVIDER_VERSION"));
        sources.EtcdctlPath.ShouldBe("binaries/etcdctl/latest/vertex/amd64/etcdctl");
        mirrored!.KairosProvider.Reference.ShouldStartWith("mirror.example.com/pi/edge/");
    }

    [Theory]
    [InlineData("k3s", "", "provider-k3s:v4.10.3", "k8s/k3s@1.30.14-k3s1")]
    [InlineData("k3s", "K3S_FLAVOR_TAG=k3s2", "provider-k3s:v4.10.3", "k8s/k3s@1.30.14-k3s2")]
    [InlineData("rke2", "", "provider-rke2:v4.10.3", "k8s/rke2@1.30.14-rke2r1")]
    [InlineData("kubeadm", "", "provider-kubeadm:v4.10.1", "k8s/kubeadm@1.30.14")]
    [InlineData("nodeadm", "NODEADM_PROVIDER_VERSION=v4.9.4", "provider-nodeadm:v4.9.4", "k8s/nodeadm@1.30.14")]
    [InlineData("canonical", "", "provider-canonical:v4.10.1", "k8s/canonical@1.30.14")]
    public void Provider_image_and_luet_package_follow_the_distribution(string distribution, string extra, string provider, string package)
    {
        var (_, settings, sources, diagnostics) = Resolve($"K8S_DISTRIBUTION={distribution}\n{extra}\n");

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
        sources!.KairosProvider.Reference.ShouldBe($"{Pub}/edge/kairos-io/{provider}");
        ProjectLoader.ProviderImage(settings!, "1.30.14").LuetPackage.ShouldBe(package);
    }

    [Fact]
    public void Kubeadm_fips_uses_the_kubeadm_provider_and_its_own_luet_package()
    {
        var (_, settings, sources, _) = Resolve("FIPS_ENABLED=true\nK8S_DISTRIBUTION=kubeadm-fips\nBASE_IMAGE=r.example.com/os/fips:1\n");

        sources!.KairosProvider.SetBy.ShouldBe("KUBEADM_PROVIDER_VERSION");
        sources.KairosProvider.Reference.ShouldEndWith("/edge/kairos-io/provider-kubeadm:v4.10.1");
        ProjectLoader.ProviderImage(settings!, "1.30.14").LuetPackage.ShouldBe("k8s/kubeadm-fips@1.30.14");
    }

    [Theory]
    [InlineData("SPECTRO_PUB_REPO=https://pi.example.com", "SPECTRO_PUB_REPO", "scheme")]
    [InlineData("SPECTRO_LUET_REPO=Luet.Example.com/Edge", "SPECTRO_LUET_REPO", "namespace")]
    [InlineData("K3S_PROVIDER_VERSION=v4.10.3+1", "K3S_PROVIDER_VERSION", "tag")]
    [InlineData("KAIROS_INIT_VERSION=-v1", "KAIROS_INIT_VERSION", "tag")]
    [InlineData("STYLUS_BASE=stylus:-x", "STYLUS_BASE", "tag")]
    [InlineData("KINE_VERSION=v0.15.0", "KINE_VERSION", "write 0.15.0")]
    [InlineData("ETCD_VERSION=3.5.13", "ETCD_VERSION", "write v3.5.13")]
    [InlineData("DEBUG=yes", "DEBUG", "boolean")]
    public void A_bad_value_is_an_error_naming_the_key_that_made_it(string line, string key, string text)
    {
        var (_, _, _, diagnostics) = Resolve(line);

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Key.ShouldBe(key);
        error.Line.ShouldBe(2);
        error.ToString().ShouldContain(text);
    }

    [Fact]
    public void A_formed_reference_that_is_invalid_blames_the_input_that_was_changed()
    {
        // Each part is valid on its own; together the tag passes 128 characters.
        var (_, _, sources, diagnostics) = Resolve($"KAIROS_INIT_VERSION=v{new string('1', 110)}");

        sources.ShouldBeNull();
        var error = diagnostics.Errors.ShouldHaveSingleItem();
        (error.Key, error.Line).ShouldBe(("KAIROS_INIT_VERSION", 2));
        error.Message.ShouldContain("base image");
    }

    [Fact]
    public void Keys_of_features_not_built_here_warn_and_a_value_that_would_change_the_output_is_an_error()
    {
        var (_, _, _, warned) = Resolve("BRANDING=Acme\nEFI_MAX_SIZE=4096\nMY_ORG=Acme\nNVIDIA_DRIVER_BRANCH=570\nAURORABOOT_VERSION=v0.27.0\nIS_MAAS=false\nALPINE_TAG=3.21");
        var (_, _, _, refused) = Resolve("IS_MAAS=true\nUBUNTU_PRO_ATTACH=true");

        warned.HasErrors.ShouldBeFalse();
        warned.Warnings.Select(w => (w.Key, w.Line)).ShouldBe(
            [("MY_ORG", 4), ("BRANDING", 2), ("EFI_MAX_SIZE", 3), ("NVIDIA_DRIVER_BRANCH", 5), ("AURORABOOT_VERSION", 6), ("IS_MAAS", 7), ("ALPINE_TAG", 8)], ignoreOrder: true);
        warned.Warnings.Single(w => w.Key == "BRANDING").Message.ShouldBe("has no effect: IS_UKI=false");
        warned.Warnings.Single(w => w.Key == "MY_ORG").Message.ShouldContain("edgeforge keys secureboot --org");
        warned.Warnings.Single(w => w.Key == "AURORABOOT_VERSION").Message.ShouldStartWith("accepted without effect, unused here:");
        warned.Warnings.Single(w => w.Key == "AURORABOOT_VERSION").Message.ShouldContain("without AuroraBoot");
        warned.Warnings.Single(w => w.Key == "IS_MAAS").Message.ShouldStartWith("accepted without effect, not built yet:");
        refused.Errors.Select(e => e.Key).ShouldBe(["IS_MAAS", "UBUNTU_PRO_ATTACH"], ignoreOrder: true);
    }

    [Fact]
    public void The_earthfile_own_values_for_unbuilt_features_do_not_warn()
    {
        var (_, _, _, diagnostics) = Resolve("");

        diagnostics.Items.ShouldBeEmpty();
    }

    [Fact]
    public void Debug_is_not_taken_from_the_environment()
    {
        var (_, settings, _, diagnostics) = Resolve("", environment: new() { ["DEBUG"] = "1", ["ARCH"] = "arm64" });

        diagnostics.HasErrors.ShouldBeFalse();
        settings!.Debug.ShouldBeFalse();
        settings.Arch.ShouldBe("arm64");
    }
}
