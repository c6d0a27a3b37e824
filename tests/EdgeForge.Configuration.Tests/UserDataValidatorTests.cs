using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.UserData;

namespace EdgeForge.Configuration.Tests;

public sealed class UserDataValidatorTests
{
    private static DiagnosticBag Validate(string text)
    {
        var diagnostics = new DiagnosticBag();
        UserDataValidator.Validate("user-data", text, diagnostics);
        return diagnostics;
    }

    [Fact]
    public void The_seed_basic_example_passes()
    {
        var diagnostics = Validate(Fixtures.Read("seed/basic-user-data"));

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void The_seed_advanced_example_fails_on_exactly_its_placeholders()
    {
        var text = Fixtures.Read("seed/advanced-user-data");
        var lines = text.Split('\n');
        int LineOf(string content, int skip = 0) => lines.Select((l, i) => (l, i)).Where(x => x.l.Contains(content)).Skip(skip).First().i + 1;

        var diagnostics = Validate(text);

        diagnostics.Errors.Select(e => (e.Key, e.Line)).ShouldBe(
        [
            ("stylus.site.caCerts[0]", LineOf("- |")),
            ("stylus.site.caCerts[1]", LineOf("- |", 1)),
            ("stylus.registryCredentials.password", LineOf("password: ####")),
        ], ignoreOrder: true);
        diagnostics.Errors.Single(e => e.Key == "stylus.registryCredentials.password").Message
            .ShouldBe("expected a string, got null: '####' is still the guide's placeholder ('#' starts a comment in YAML, so the value is empty)");
    }

    [Fact]
    public void The_canvos_template_fails_on_the_password_with_its_line()
    {
        var text = Fixtures.Read("canvos/user-data.template");
        var passwordLine = text.Split('\n').ToList().FindIndex(l => l.Contains("password: ####")) + 1;

        var diagnostics = Validate(text);

        diagnostics.Errors.ShouldContain(e => e.Key == "stylus.registryCredentials.password" && e.Line == passwordLine && e.Message.StartsWith("expected a string, got null: '####'"));
    }

    [Fact]
    public void Secret_values_never_appear_in_messages()
    {
        const string token = "tok3nV4lueZZ";
        const string password = "hunter2-very-secret";
        var diagnostics = Validate($$"""
            #cloud-config
            stylus:
              site:
                edgeHostToken: [{{token}}]
              registryCredentials:
                domain: r.example.com
                password: {{password}}
                encodedPassword: true
            users:
              - name: kairos
                passwd: { nested: {{password}} }
            """);

        diagnostics.HasErrors.ShouldBeTrue();
        foreach (var diagnostic in diagnostics.Items)
        {
            diagnostic.ToString().ShouldNotContain(token);
            diagnostic.ToString().ShouldNotContain(password);
        }
    }

    [Fact]
    public void A_valid_full_configuration_passes_without_warnings()
    {
        var certificate = TestCertificates.SelfSignedPem("CN=Proxy CA");
        var indented = string.Join("\n", certificate.TrimEnd().Split('\n').Select(l => "          " + l));
        var diagnostics = Validate($"""
            #cloud-config
            stylus:
              site:
                paletteEndpoint: api.spectrocloud.com
                edgeHostToken: aUAxxxxxxxxx0ChYCrO
                projectName: stores
                name: edge-01
                tags:
                  store: "42"
                registrationURL: https://edge-registration.example.com/
                network:
                  httpProxy: http://proxy.example.com:3128
                  noProxy: 10.0.0.0/8,.example.com
                  nameserver: 1.1.1.1
                  interfaces:
                    enp0s3:
                      type: static
                      ipAddress: 10.0.10.25/24
                      gateway: 10.0.10.1
                      nameserver: 10.10.128.8
                    enp0s4:
                      type: dhcp
                caCerts:
                  - |
            {indented}
              registryCredentials:
                domain: registry.example.com
                username: bob
                password: "s3cret#1"
                insecure: false
              managementMode: central
              localUI:
                port: 5080
            install:
              reboot: true
              device: /dev/sda
              grub_options:
                extra_cmdline: "fips=1"
              bind_mounts:
                - /var/lib/extra
            stages:
              initramfs:
                - name: Core system setup
                  users:
                    kairos:
                      groups: [admin]
                      passwd: kairos
              after-install.before:
                - commands:
                    - echo done
            users:
              - name: kairos
                passwd: kairos
                groups: [admin]
            """);

        diagnostics.Items.ShouldBeEmpty(string.Join("\n", diagnostics.Items));
    }

    [Theory]
    [InlineData("stylus:\n  site:\n    edgeHostToken: t\n", 1, null, "first line must be '#cloud-config'")]
    [InlineData("#cloud-config\ninstall:\n  poweroff: true\n   reboot: true\n", 4, null, "invalid YAML")]
    [InlineData("#cloud-config\ninstall:\n\tpoweroff: true\n", 3, null, "tab")]
    [InlineData("#cloud-config\ninstall:\n  poweroff: true\n  reboot: true\n", 3, "install.poweroff", "cannot both be true")]
    [InlineData("#cloud-config\nstylus:\n  site:\n    edgeHostToken: t\n    network:\n      interfaces:\n        eth0:\n          type: static\n", 8, "stylus.site.network.interfaces.eth0.ipAddress", "needs ipAddress")]
    [InlineData("#cloud-config\nstylus:\n  site:\n    edgeHostToken: t\n    network:\n      interfaces:\n        eth0:\n          type: static\n          ipAddress: 10.0.0.5\n", 9, "stylus.site.network.interfaces.eth0.ipAddress", "prefix length")]
    [InlineData("#cloud-config\nstylus:\n  site:\n    edgeHostToken: t\n    network:\n      interfaces:\n        eth0:\n          type: bridge\n", 8, "stylus.site.network.interfaces.eth0.type", "not one of dhcp, static")]
    [InlineData("#cloud-config\nstylus:\n  managementMode: remote\n", 3, "stylus.managementMode", "not one of central, local")]
    [InlineData("#cloud-config\ninstall:\n  device: sda\n", 3, "install.device", "not valid")]
    [InlineData("#cloud-config\ninstall:\n  reboot: \"yes\"\n", 3, "install.reboot", "expected a boolean")]
    [InlineData("#cloud-config\nstylus:\n  localUI:\n    port: 70000\n", 4, "stylus.localUI.port", "out of range")]
    [InlineData("#cloud-config\nusers:\n  - name: Bad-Name\n", 3, "users[0].name", "not valid")]
    [InlineData("#cloud-config\nstages:\n  initramfs:\n    name: x\n", 4, "stages.initramfs", "expected a list")]
    [InlineData("#cloud-config\nstylus:\n  site:\n    name: edge-1\n", 4, "stylus.site", "central registration needs edgeHostToken")]
    [InlineData("#cloud-config\nstylus:\n  site:\n    edgeHostToken:\n", 4, "stylus.site.edgeHostToken", "got null")]
    public void Schema_errors_name_the_path_and_line(string yaml, int line, string? key, string message)
    {
        var diagnostics = Validate(yaml);

        diagnostics.Errors.ShouldContain(e => e.Line == line && e.Key == key && e.Message.Contains(message), string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void Near_miss_keys_are_errors_with_the_suggestion_and_other_unknown_keys_warn()
    {
        var diagnostics = Validate("#cloud-config\nstylus:\n  site:\n    edgeHostToken: t\n    paletteEndpoint: api.spectrocloud.com\n    projectname: Default\n    favouriteColour: blue\ninstall:\n  poweroff: true\nstages:\n  initramfss:\n    - name: x\n");

        diagnostics.Errors.ShouldContain(e => e.Key == "stylus.site.projectname" && e.Message == "unknown key; did you mean projectName?" && e.Line == 6);
        diagnostics.Errors.ShouldContain(e => e.Key == "stages.initramfss" && e.Message.Contains("did you mean initramfs?"));
        diagnostics.Warnings.ShouldContain(w => w.Key == "stylus.site.favouriteColour" && w.Message == "unknown key, ignored by the installer");
    }
}
