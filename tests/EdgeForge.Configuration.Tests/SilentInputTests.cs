using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Planning;
using EdgeForge.Configuration.UserData;

namespace EdgeForge.Configuration.Tests;

/// <summary>
/// Issue 15's inputs that used to be accepted and then do nothing: each is now said (a warning naming what happens) or
/// refused (an error with the fix).
/// </summary>
public sealed class SilentInputTests
{
    private const string Arg = "IMAGE_REGISTRY=r.example.com\nK8S_VERSION=1.30.14\n";

    // (3) environment overrides
    [Fact]
    public void A_value_from_the_environment_is_reported_with_what_it_replaced()
    {
        using var project = new TestProject().With(".arg", Arg + "CUSTOM_TAG=lab\n");
        var environment = new Dictionary<string, string> { ["CUSTOM_TAG"] = "x", ["ISO_NAME"] = "site-a", ["HTTPS_PROXY"] = "http://user:pa55@proxy.example.com:3128" };

        var result = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = k => environment.GetValueOrDefault(k) });

        var notes = result.Diagnostics.Warnings.Where(w => w.File == BuildArguments.EnvironmentLocation).ToDictionary(w => w.Key!);
        notes.Keys.ShouldBe(["CUSTOM_TAG", "HTTPS_PROXY", "ISO_NAME"], ignoreOrder: true);
        notes["CUSTOM_TAG"].Message.ShouldBe("overridden from environment: CUSTOM_TAG=x, replacing the value of .arg line 3");
        notes["ISO_NAME"].Message.ShouldBe("overridden from environment: ISO_NAME=site-a, instead of the default");
        notes["HTTPS_PROXY"].Message.ShouldNotContain("pa55");
        result.Plan!.ProviderImages.Single().Tag.ShouldEndWith("-x");
    }

    [Fact]
    public void A_command_line_value_beats_the_environment_and_nothing_is_reported_for_it()
    {
        using var project = new TestProject().With(".arg", Arg);

        var result = ProjectLoader.Load(project.Directory, new ProjectOptions
        {
            Environment = k => k == "CUSTOM_TAG" ? "x" : null,
            BuildArguments = new Dictionary<string, string> { ["CUSTOM_TAG"] = "cli" },
        });

        result.Diagnostics.Warnings.ShouldNotContain(w => w.File == BuildArguments.EnvironmentLocation);
    }

    // (4) CanvOS keys accepted without effect, every one of the catalog
    public static TheoryData<string> KeysWithoutEffect() =>
        new(BuildArgumentCatalog.All.Where(d => d.OnlyFor is not null || d.UnusedBecause is not null || d.Origin == BuildArgumentOrigin.CanvOSInternal).Select(d => d.Key));

    [Theory]
    [MemberData(nameof(KeysWithoutEffect))]
    public void A_canvos_key_without_effect_warns_naming_the_key_and_why(string key)
    {
        var definition = BuildArgumentCatalog.Find(key)!;
        var value = definition.RefusedWhenTrue ? "false" : definition.Allowed.Contains("`true`", StringComparison.Ordinal) ? "true" : "1";

        var diagnostics = Resolve($"{key}={value}");

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
        var warning = diagnostics.Warnings.ShouldHaveSingleItem(string.Join("\n", diagnostics.Items));
        (warning.Key, warning.Line).ShouldBe((key, 3));
        warning.Message.ShouldStartWith(definition.OnlyFor is not null ? "accepted without effect, not built yet:" : "accepted without effect, unused here:");
    }

    [Theory]
    [InlineData("UBUNTU_PRO_ATTACH")]
    [InlineData("IS_MAAS")]
    public void A_canvos_key_whose_true_would_change_the_build_is_refused(string key)
    {
        var diagnostics = Resolve($"{key}=true");

        diagnostics.Errors.ShouldHaveSingleItem().Key.ShouldBe(key);
    }

    [Theory]
    [InlineData("MY_ORG=Acme", "keys secureboot --org")]
    [InlineData("UKI_BRING_YOUR_OWN_KEYS=true", "keys secureboot --bring-your-own")]
    [InlineData("INCLUDE_MS_SECUREBOOT_KEYS=false", "keys secureboot --include-ms-keys")]
    [InlineData("ENROLL_SPECTRO_EXTENSION_CERT=true", "keys secureboot --exported-keys")]
    [InlineData("AUTO_ENROLL_SECUREBOOT_KEYS=true", "has no effect: IS_UKI=false")]
    [InlineData("CMDLINE=console=ttyS1", "has no effect: IS_UKI=false")]
    public void Secure_boot_keys_say_where_they_act_key_generation_or_a_trusted_boot_build(string line, string said)
    {
        var diagnostics = Resolve("IS_UKI=false\n" + line);

        diagnostics.Warnings.ShouldHaveSingleItem().Message.ShouldContain(said);
    }

    [Fact]
    public void Is_uki_without_a_key_set_is_an_error_naming_the_missing_directory_and_the_command_that_makes_it()
    {
        using var project = new TestProject().With(".arg", Arg + "IS_UKI=true\n").With("cloudconfigs/80_stylus_uki.yaml", "#cloud-config\nstages: {}\n");
        var diagnostics = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null }).Diagnostics;

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Key.ShouldBe("IS_UKI");
        error.Message.ShouldContain("secure-boot: no such directory");
        error.Hint.ShouldNotBeNull().ShouldContain("edgeforge keys secureboot -o secure-boot");
    }

    [Fact]
    public void Is_uki_without_the_trusted_boot_cloud_config_is_an_error_on_the_is_uki_line_naming_the_file()
    {
        using var project = new TestProject().With(".arg", Arg + "IS_UKI=true\n");
        var diagnostics = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null }).Diagnostics;

        var error = diagnostics.Errors.Where(e => e.Message.Contains("80_stylus_uki.yaml", StringComparison.Ordinal)).ShouldHaveSingleItem();
        error.Key.ShouldBe("IS_UKI");
        error.File.ShouldBe(".arg");
        error.Line.ShouldBe(3);
        error.Message.ShouldContain("it does not exist");
        error.Hint.ShouldNotBeNull().ShouldContain("copy cloudconfigs/80_stylus_uki.yaml from your CanvOS checkout");
    }

    [Fact]
    public void A_trusted_boot_cloud_config_that_is_not_yaml_is_an_error_in_that_file()
    {
        using var project = new TestProject().With(".arg", Arg + "IS_UKI=true\n").With("cloudconfigs/80_stylus_uki.yaml", "stages:\n  rootfs: [unclosed\n");
        var diagnostics = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null }).Diagnostics;

        diagnostics.Errors.ShouldContain(e => e.File == "cloudconfigs/80_stylus_uki.yaml", string.Join("\n", diagnostics.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void Without_is_uki_the_trusted_boot_cloud_config_is_not_needed()
    {
        using var project = new TestProject().With(".arg", Arg);
        var result = ProjectLoader.Load(project.Directory, new ProjectOptions { Environment = _ => null });

        result.Diagnostics.Errors.ShouldBeEmpty();
        result.Plan!.Inputs.TrustedBootCloudConfig.ShouldBeNull();
    }

    [Fact]
    public void Drbd_version_warns_unless_the_dockerfile_declares_it()
    {
        using var unused = new TestProject().With(".arg", Arg + "DRBD_VERSION=9.2.13\n")
            .With("Dockerfile", $"# {DockerfileParser.Marker}\nRUN true\n");
        using var used = new TestProject().With(".arg", Arg + "DRBD_VERSION=9.2.13\n")
            .With("Dockerfile", $"# {DockerfileParser.Marker}\nARG DRBD_VERSION\nRUN echo $DRBD_VERSION\n");

        var warned = ProjectLoader.Load(unused.Directory, new ProjectOptions { Environment = _ => null }).Diagnostics;
        var quiet = ProjectLoader.Load(used.Directory, new ProjectOptions { Environment = _ => null }).Diagnostics;

        var warning = warned.Warnings.Where(w => w.Key == "DRBD_VERSION").ShouldHaveSingleItem();
        (warning.Key, warning.Line).ShouldBe(("DRBD_VERSION", 3));
        warning.Message.ShouldBe("accepted without effect, unused here: the Dockerfile's customisations declare no ARG DRBD_VERSION");
        quiet.Items.ShouldNotContain(d => d.Key == "DRBD_VERSION");
    }

    // (5) Dockerfile instructions above the marker
    [Fact]
    public void Every_line_above_the_marker_of_canvos_own_dockerfile_is_said_not_to_run()
    {
        // CanvOS's Dockerfile above its marker (spectrocloud/CanvOS, Dockerfile), plus a user's own RUN.
        var text = $"""
            ARG BASE
            FROM $BASE
            ARG OS_DISTRIBUTION
            RUN mkdir -p /certs
            COPY certs/ /certs/
            RUN if [ "${"{"}OS_DISTRIBUTION{"}"}" = "ubuntu" ]; then \
                cp -a /certs/. /usr/local/share/ca-certificates/ && \
                update-ca-certificates; \
                fi
            RUN rm -rf /certs
            COPY overlay/files/etc/spectrocloud/custom-hardware-specs-lookup.json /etc/spectrocloud/custom-hardware-specs-lookup.json
            RUN apt-get install -y wireguard-tools
            ########################### {DockerfileParser.Marker} #######################
            RUN echo mine
            """;
        using var project = new TestProject();
        var diagnostics = new DiagnosticBag();

        var result = DockerfileParser.Parse("Dockerfile", text, project.Directory, diagnostics);

        diagnostics.Errors.ShouldBeEmpty();
        diagnostics.Warnings.Select(w => (w.Line, w.Key)).ShouldBe([(4, "RUN"), (5, "COPY"), (6, "RUN"), (10, "RUN"), (11, "COPY"), (12, "RUN")]);
        diagnostics.Warnings.Take(4).ShouldAllBe(w => w.Message.Contains("CanvOS's certificate step"));
        diagnostics.Warnings.Single(w => w.Line == 11).Message.ShouldContain("overlay/files/etc/");
        diagnostics.Warnings.Single(w => w.Line == 12).Hint.ShouldStartWith("if this line is yours, move it below");
        result.Instructions.ShouldHaveSingleItem().Line.ShouldBe(14);
    }

    // (9) guide placeholders
    public static TheoryData<string, string, string, Severity> Placeholders() => new()
    {
        { "    edgeHostToken: \"<registration-token>\"\n", "stylus.site.edgeHostToken", "'<registration-token>'", Severity.Warning },
        { "    edgeHostToken: $token\n", "stylus.site.edgeHostToken", "'$token'", Severity.Warning },
        { "    edgeHostToken: ${TOKEN}\n", "stylus.site.edgeHostToken", "'${TOKEN}'", Severity.Warning },
        { "    edgeHostToken: [your_token_here]\n", "stylus.site.edgeHostToken", "'[your_token_here]'", Severity.Error },
        { "    edgeHostToken: \"[your_token_here]\"\n", "stylus.site.edgeHostToken", "'[your_token_here]'", Severity.Warning },
        { "    edgeHostToken: ####\n", "stylus.site.edgeHostToken", "'####'", Severity.Error },
        { "    edgeHostToken: t\n    projectName: <project-name>\n", "stylus.site.projectName", "'<project-name>'", Severity.Warning },
        { "    edgeHostToken: t\n    paletteEndpoint: <palette-endpoint>\n", "stylus.site.paletteEndpoint", "'<palette-endpoint>'", Severity.Error },
        { "    edgeHostToken: t\n    network:\n      interfaces:\n        <interface-name>:\n          type: dhcp\n", "stylus.site.network.interfaces.<interface-name>", "'<interface-name>'", Severity.Error },
        { "    edgeHostToken: t\n    network:\n      nameserver: <dns-server>\n", "stylus.site.network.nameserver", "'<dns-server>'", Severity.Error },
        { "    edgeHostToken: t\n    insecureSkipVerify: <true-or-false>\n", "stylus.site.insecureSkipVerify", "'<true-or-false>'", Severity.Error },
        { "    edgeHostToken: t\n    registrationURL: [url]\n", "stylus.site.registrationURL", "'[url]'", Severity.Error },
        { "    edgeHostToken: t\n  registryCredentials:\n    domain: r.example.com\n    password: ####\n", "stylus.registryCredentials.password", "'####'", Severity.Error },
        { "    edgeHostToken: t\n  registryCredentials:\n    domain: r.example.com\n    username: <username>\n", "stylus.registryCredentials.username", "'<username>'", Severity.Warning },
        { "    edgeHostToken: t\n  localUI:\n    port: <port>\n", "stylus.localUI.port", "'<port>'", Severity.Error },
    };

    [Theory]
    [MemberData(nameof(Placeholders))]
    public void A_guide_placeholder_gets_a_message_naming_it(string site, string key, string named, Severity severity)
    {
        var endpoint = site.Contains("paletteEndpoint", StringComparison.Ordinal) ? "" : "    paletteEndpoint: api.spectrocloud.com\n";
        var diagnostics = ValidateUserData("#cloud-config\nstylus:\n  site:\n" + endpoint + site);

        var finding = diagnostics.Items.Where(d => d.Key == key).ShouldHaveSingleItem(string.Join("\n", diagnostics.Items));
        finding.Severity.ShouldBe(severity);
        finding.Message.ShouldContain(named);
        finding.Message.ShouldContain("placeholder");
    }

    [Theory]
    [InlineData("[tok3nV4lueZZ]")]
    [InlineData("\"<Zq9xT2mK8pL4>\"")]
    [InlineData("$6$salt$hash")]
    public void A_value_that_only_resembles_a_placeholder_is_never_echoed(string value)
    {
        var diagnostics = ValidateUserData($"#cloud-config\nstylus:\n  site:\n    paletteEndpoint: api.spectrocloud.com\n    edgeHostToken: {value}\n");

        string.Join("\n", diagnostics.Items).ShouldNotContain(value.Trim('"', '[', ']', '<', '>'));
    }

    // (10) near-miss user-data keys
    public static TheoryData<string, string, string> NearMisses() => new()
    {
        { "stylus:\n  site:\n    edgeHostToken: t\n    projectname: Default\n", "stylus.site.projectname", "projectName" },
        { "stylus:\n  site:\n    edgeHostToken: t\n    projectUID: abc\n", "stylus.site.projectUID", "projectUid" },
        { "stylus:\n  site:\n    edgehosttoken: t\n", "stylus.site.edgehosttoken", "edgeHostToken" },
        { "stylus:\n  site:\n    edgeHostToken: t\n    paletteEndPoint: api.spectrocloud.com\n", "stylus.site.paletteEndPoint", "paletteEndpoint" },
        { "stylus:\n  site:\n    edgeHostToken: t\n    registrationUrl: https://x.example.com/\n", "stylus.site.registrationUrl", "registrationURL" },
        { "stylus:\n  site:\n    edgeHostToken: t\n    caCert:\n      - x\n", "stylus.site.caCert", "caCerts" },
        { "stylus:\n  managementmode: local\n", "stylus.managementmode", "managementMode" },
        { "stylus:\n  registryCredential:\n    domain: r.example.com\n", "stylus.registryCredential", "registryCredentials" },
        { "stylsu:\n  site: {}\n", "stylsu", "stylus" },
        { "instal:\n  poweroff: true\n", "instal", "install" },
        { "install:\n  powerof: true\n", "install.powerof", "poweroff" },
        { "install:\n  grub_option:\n    a: b\n", "install.grub_option", "grub_options" },
        { "stages:\n  intramfs:\n    - name: x\n", "stages.intramfs", "initramfs" },
        { "stages:\n  after-instal:\n    - name: x\n", "stages.after-instal", "after-install" },
        { "stages:\n  boot:\n    - name: x\n      command:\n        - echo\n", "stages.boot[0].command", "commands" },
        { "user:\n  - name: kairos\n", "user", "users" },
    };

    [Theory]
    [MemberData(nameof(NearMisses))]
    public void A_near_miss_user_data_key_is_an_error_with_the_suggestion(string body, string key, string suggestion)
    {
        var diagnostics = ValidateUserData("#cloud-config\n" + body);

        var error = diagnostics.Errors.Where(e => e.Key == key).ShouldHaveSingleItem(string.Join("\n", diagnostics.Items));
        error.Message.ShouldContain($"did you mean {suggestion}?");
    }

    [Theory]
    [InlineData("k0s:\n  enabled: true\n")]
    [InlineData("p2p:\n  network_token: x\n")]
    [InlineData("bundles:\n  - targets: [run://x]\n")]
    [InlineData("write_files:\n  - path: /x\n")]
    public void Kairos_sections_the_schema_does_not_describe_are_not_near_misses(string body)
    {
        ValidateUserData("#cloud-config\n" + body).HasErrors.ShouldBeFalse();
    }

    private static DiagnosticBag Resolve(string extra)
    {
        var diagnostics = new DiagnosticBag();
        var arguments = BuildArguments.Load(".arg", Arg + extra + "\n", new Dictionary<string, string>(), _ => null, diagnostics);
        BuildSettingsResolver.Resolve(arguments, diagnostics);
        return diagnostics;
    }

    private static DiagnosticBag ValidateUserData(string text)
    {
        var diagnostics = new DiagnosticBag();
        UserDataValidator.Validate("user-data", text, diagnostics);
        return diagnostics;
    }
}
