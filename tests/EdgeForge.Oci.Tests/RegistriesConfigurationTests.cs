using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// Given a registries.conf as podman reads it (containers-registries.conf(5)), when edgeforge resolves a reference,
/// then it picks the same table, mirrors and rewritten names, and refuses what it cannot honour with file:line.
/// </summary>
public class RegistriesConfigurationTests : IDisposable
{
    private const string File = "/site/registries.conf";
    private static readonly Digest SomeDigest = Digest.Parse("sha256:" + new string('a', 64));
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static RegistriesConfiguration Parse(string text) => RegistriesConfiguration.Parse(text, File);

    private static ImageReference Ref(string value) => ImageReference.Parse(value);

    private static string[] Sources(RegistriesConfiguration configuration, string reference) =>
        configuration.PullSources(Ref(reference)).Select(s => s.Reference.ToString()).ToArray();

    /// <summary>The man page's EXAMPLE, with its stated result.</summary>
    private const string ManPageExample = """
        unqualified-search-registries = ["example.com"]

        [[registry]]
        prefix = "example.com/foo"
        insecure = false
        blocked = false
        location = "internal-registry-for-example.com/bar"

        [[registry.mirror]]
        location = "example-mirror-0.local/mirror-for-foo"

        [[registry.mirror]]
        location = "example-mirror-1.local/mirrors/foo"
        insecure = true

        [[registry]]
        location = "registry.com"

        [[registry.mirror]]
        location = "mirror.registry.com"
        """;

    [Fact]
    public void The_man_page_example_tries_both_mirrors_then_the_rewritten_location()
    {
        var configuration = Parse(ManPageExample);

        var sources = configuration.PullSources(Ref("example.com/foo/image:latest"));

        sources.Select(s => s.Reference.ToString()).ShouldBe([
            "example-mirror-0.local/mirror-for-foo/image:latest",
            "example-mirror-1.local/mirrors/foo/image:latest",
            "internal-registry-for-example.com/bar/image:latest",
        ]);
        sources.Select(s => (s.IsMirror, s.Insecure)).ShouldBe([(true, false), (true, true), (false, false)]);
        sources.ShouldAllBe(s => s.ConfigurationFile == File);
        // "a mirror is associated only with the current [[registry]] TOML table"
        Sources(configuration, "registry.com/image:latest").ShouldBe(["mirror.registry.com/image:latest", "registry.com/image:latest"]);
        configuration.UnqualifiedSearchRegistries.ShouldBe(["example.com"]);
    }

    [Fact]
    public void The_longest_prefix_wins_and_a_prefix_ends_at_a_separator()
    {
        var configuration = Parse("""
            [[registry]]
            prefix = "example.com"
            location = "whole.local"
            [[registry]]
            prefix = "example.com/foo"
            location = "foo.local/x"
            [[registry]]
            prefix = "example.com/foo/bar"
            location = "bar.local/b"
            [[registry]]
            prefix = "example.com/whole-repo"
            location = "repo.local"
            """);

        Sources(configuration, "example.com/foo/bar:1").ShouldBe(["bar.local/b:1"]);
        Sources(configuration, "example.com/foo/bar/baz:1").ShouldBe(["bar.local/b/baz:1"]);
        // A repository prefix rewritten to a bare host would be the Docker Hub name "repo.local:1"; podman refuses it too.
        Should.Throw<RegistriesConfigurationException>(() => configuration.PullSources(Ref("example.com/whole-repo:1"))).Line.ShouldBe(10);
        Sources(configuration, "example.com/foo/image@" + SomeDigest).ShouldBe([$"foo.local/x/image@{SomeDigest}"]);
        Sources(configuration, "example.com/foobar/image:1").ShouldBe(["whole.local/foobar/image:1"]);
        // containers/image's refMatchingPrefix lets "example.com" match "example.com:5000" (':' is a separator).
        Sources(configuration, "example.com:5000/image:1").ShouldBe(["whole.local:5000/image:1"]);
        Sources(configuration, "other.example/image:1").ShouldBe(["other.example/image:1"]);
        configuration.PullSources(Ref("other.example/image:1")).Single().ConfigurationFile.ShouldBeNull();
    }

    [Fact]
    public void A_wildcard_prefix_matches_any_subdomain_and_without_location_keeps_the_name()
    {
        var configuration = Parse("""
            [[registry]]
            prefix = "*.example.com"
            insecure = true
            [[registry.mirror]]
            location = "mirror.local/all-of-example"
            """);

        Sources(configuration, "a.b.example.com/team/app:1").ShouldBe(["mirror.local/all-of-example/team/app:1", "a.b.example.com/team/app:1"]);
        configuration.PullSources(Ref("a.example.com/app:1")).Last().Insecure.ShouldBeTrue();
        Sources(configuration, "example.com/app:1").ShouldBe(["example.com/app:1"]);
        Sources(configuration, "other.com/x.example.com/app:1").ShouldBe(["other.com/x.example.com/app:1"]);
        Sources(configuration, "a.example.community/app:1").ShouldBe(["a.example.community/app:1"]);
        configuration.IsInsecureRegistry("x.example.com:5000").ShouldBeTrue();
        configuration.IsInsecureRegistry("example.com").ShouldBeFalse();
    }

    [Fact]
    public void Docker_hub_names_match_with_their_library_namespace()
    {
        var configuration = Parse("""
            [[registry]]
            prefix = "docker.io/library/alpine"
            location = "127.0.0.1:5000/hub/alpine"
            """);

        Sources(configuration, "alpine:3.20").ShouldBe(["127.0.0.1:5000/hub/alpine:3.20"]);
        Sources(configuration, "docker.io/alpine/git:1").ShouldBe(["docker.io/alpine/git:1"]);
    }

    [Fact]
    public void Pull_from_mirror_and_mirror_by_digest_only_choose_mirrors_by_whether_the_reference_has_a_digest()
    {
        var configuration = Parse("""
            [[registry]]
            location = "quay.io"
            [[registry.mirror]]
            location = "digests.local"
            pull-from-mirror = "digest-only"
            [[registry.mirror]]
            location = "tags.local"
            pull-from-mirror = "tag-only"
            [[registry.mirror]]
            location = "both.local"
            pull-from-mirror = "all"

            [[registry]]
            location = "ghcr.io"
            mirror-by-digest-only = true
            [[registry.mirror]]
            location = "ghcr-mirror.local"
            """);

        Sources(configuration, "quay.io/kairos/core:v1").ShouldBe(["tags.local/kairos/core:v1", "both.local/kairos/core:v1", "quay.io/kairos/core:v1"]);
        Sources(configuration, $"quay.io/kairos/core@{SomeDigest}").ShouldBe([$"digests.local/kairos/core@{SomeDigest}", $"both.local/kairos/core@{SomeDigest}", $"quay.io/kairos/core@{SomeDigest}"]);
        Sources(configuration, "ghcr.io/a/b:1").ShouldBe(["ghcr.io/a/b:1"]);
        Sources(configuration, $"ghcr.io/a/b:1@{SomeDigest}").ShouldBe([$"ghcr-mirror.local/a/b:1@{SomeDigest}", $"ghcr.io/a/b:1@{SomeDigest}"]);
    }

    [Fact]
    public void A_blocked_prefix_refuses_pulls_naming_the_reference_and_the_file_but_not_pushes()
    {
        var configuration = Parse("""
            [[registry]]
            location = "quay.io"

            [[registry]]
            prefix = "quay.io/untrusted"
            location = "quay.io/untrusted"
            blocked = true
            """);

        var error = Should.Throw<RegistryBlockedException>(() => configuration.PullSources(Ref("quay.io/untrusted/image:1")));

        error.Message.ShouldContain("quay.io/untrusted/image:1");
        error.Message.ShouldContain($"{File}:4");
        error.ConfigurationFile.ShouldBe(File);
        configuration.Describe(Ref("quay.io/untrusted/image:1")).ShouldContain("blocked");
        Sources(configuration, "quay.io/trusted/image:1").ShouldBe(["quay.io/trusted/image:1"]);
        configuration.PushDestination(Ref("quay.io/untrusted/image:1")).ToString().ShouldBe("quay.io/untrusted/image:1");
    }

    [Fact]
    public void A_push_goes_to_the_rewritten_location_and_never_to_a_mirror()
    {
        var configuration = Parse("""
            [[registry]]
            prefix = "us-docker.pkg.dev/palette-images"
            location = "127.0.0.1:5000/palette"
            [[registry.mirror]]
            location = "127.0.0.1:5001"
            """);

        configuration.PushDestination(Ref("us-docker.pkg.dev/palette-images/edge/x:1")).ToString().ShouldBe("127.0.0.1:5000/palette/edge/x:1");
        configuration.PushDestination(Ref("quay.io/kairos/x:1")).ToString().ShouldBe("quay.io/kairos/x:1");
    }

    [Fact]
    public void Describe_says_where_a_pull_goes_and_which_file_said_so()
    {
        var configuration = Parse("""
            [[registry]]
            location = "us-docker.pkg.dev"
            [[registry.mirror]]
            location = "127.0.0.1:5000"
            insecure = true
            """);

        configuration.Describe(Ref("us-docker.pkg.dev/palette-images/edge/x:1")).ShouldBe(
            $"127.0.0.1:5000/palette-images/edge/x:1 (mirror, insecure, from {File}), then us-docker.pkg.dev/palette-images/edge/x:1");
        RegistriesConfiguration.Empty.Describe(Ref("quay.io/a/b:1")).ShouldBe("quay.io/a/b:1");
        configuration.IsInsecureRegistry("127.0.0.1:5000").ShouldBeTrue();
        configuration.IsInsecureRegistry("us-docker.pkg.dev").ShouldBeFalse();
    }

    [Theory]
    [InlineData("[[registry]]\nlocation = \"https://quay.io\"", 1, "URI schemes are not supported")]
    [InlineData("[[registry]]\ninsecure = true", 1, "neither location nor prefix")]
    [InlineData("[[registry]]\nprefix = \"quay.io/a\"", 1, "has no location")]
    [InlineData("[[registry]]\nprefix = \"*.example.com/foo\"", 1, "may only name a domain")]
    [InlineData("[[registry]]\nprefix = \"example.*.com\"\nlocation = \"x.com\"", 1, "only allowed as a leading")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest-onyl = true", 3, "unknown key \"mirror-by-digest-onyl\"")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\ninsecure = \"yes\"", 3, "\"insecure\" is a string")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\ninsecure = true", 3, "mirror]] has no location")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.local\"\npull-from-mirror = \"all\"", 4, "mirror-by-digest-only = true")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"m.local\"\npull-from-mirror = \"sometimes\"", 5, "not a policy")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\npull-from-mirror = \"all\"", 3, "applies to a [[registry.mirror]]")]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\n\n[[registry]]\nlocation = \"quay.io\"", 4, "also the prefix of the [[registry]] on line 1")]
    [InlineData("[[registry]]\nprefix = \"a.io\"\nlocation = \"quay.io\"\n[[registry]]\nprefix = \"b.io\"\nlocation = \"quay.io\"\ninsecure = true", 4, "same insecure setting")]
    [InlineData("[[registry]]\nlocation = \"myregistry/foo\"", 1, "does not start with a registry host")]
    [InlineData("[[registry]]\nlocation = \"quay.io/UPPER\"", 1, "lowercase")]
    [InlineData("[registry]\nlocation = \"quay.io\"", 1, "write [[registry]]")]
    [InlineData("[registries.search]\nregistries = ['quay.io']", 1, "version 1 format")]
    [InlineData("short-name-mode = \"strict\"", 1, "not a mode")]
    [InlineData("unqualified-search-registries = \"quay.io\"", 1, "must be an array of strings")]
    [InlineData("mirrors = []", 1, "unknown key \"mirrors\"")]
    public void What_podman_would_refuse_or_edgeforge_cannot_honour_is_an_error_with_file_line_and_fix(string text, int line, string problem)
    {
        var error = Should.Throw<RegistriesConfigurationException>(() => Parse(text));

        error.Message.ShouldContain(problem);
        error.Line.ShouldBe(line);
        error.File.ShouldBe(File);
        error.Fix.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Debians_shipped_files_load_as_an_empty_configuration_with_short_name_aliases_only()
    {
        // containers-common (pulled in by skopeo, which the suite installs) ships a registries.conf that is all
        // comments and a registries.conf.d/shortnames.conf with only [aliases].
        ExternalTool.Require("skopeo");

        var configuration = RegistriesConfiguration.Load(RegistriesConfiguration.SystemPath);

        configuration.IsEmpty.ShouldBeTrue();
        configuration.Files.ShouldContain(RegistriesConfiguration.SystemPath);
        configuration.Files.ShouldContain("/etc/containers/registries.conf.d/shortnames.conf");
        configuration.Aliases["fedora"].ShouldBe("registry.fedoraproject.org/fedora");
        Sources(configuration, "us-docker.pkg.dev/palette-images/edge/x:1").ShouldBe(["us-docker.pkg.dev/palette-images/edge/x:1"]);
    }

    [Fact]
    public void A_commented_out_example_and_short_name_settings_parse_and_change_nothing()
    {
        // The facts of Debian's files, written here so that the shapes are covered where /etc differs: a commented
        // [[registry]] example (with the man page's unbalanced quote), short-name settings and indented aliases.
        var configuration = Parse("""
            # [[registry]]
            # location = internal-registry-for-example.com/bar"
            unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]
            short-name-mode = "enforcing"
            credential-helpers = ["containers-auth.json"]
            [aliases]
              # almalinux
              "almalinux" = "docker.io/library/almalinux"
              "opensuse/leap" = "registry.opensuse.org/opensuse/leap"
            """);

        configuration.IsEmpty.ShouldBeTrue();
        configuration.ShortNameMode.ShouldBe("enforcing");
        configuration.CredentialHelpers.ShouldBe(["containers-auth.json"]);
        configuration.Aliases.Count.ShouldBe(2);
        configuration.Aliases["opensuse/leap"].ShouldBe("registry.opensuse.org/opensuse/leap");
    }

    [Fact]
    public void Drop_ins_next_to_the_file_apply_in_order_replacing_tables_by_prefix()
    {
        var main = _directory.Combine("registries.conf");
        System.IO.File.WriteAllText(main, """
            unqualified-search-registries = ["a.example"]
            [[registry]]
            location = "quay.io"
            [[registry.mirror]]
            location = "old-mirror.local"
            [aliases]
            "one" = "quay.io/one"
            "two" = "quay.io/two"
            """);
        var dropIns = Directory.CreateDirectory(_directory.Combine("registries.conf.d")).FullName;
        System.IO.File.WriteAllText(Path.Combine(dropIns, "20-later.conf"), """
            [[registry]]
            location = "quay.io"
            [[registry.mirror]]
            location = "new-mirror.local"
            """);
        System.IO.File.WriteAllText(Path.Combine(dropIns, "10-first.conf"), """
            unqualified-search-registries = []
            [[registry]]
            location = "quay.io"
            blocked = true
            [[registry]]
            location = "ghcr.io"
            [aliases]
            "two" = ""
            """);
        System.IO.File.WriteAllText(Path.Combine(dropIns, "README"), "not TOML at all = = =");
        Directory.CreateDirectory(Path.Combine(dropIns, "sub.conf"));

        var configuration = RegistriesConfiguration.Load(main);

        configuration.Files.ShouldBe([main, Path.Combine(dropIns, "10-first.conf"), Path.Combine(dropIns, "20-later.conf")]);
        Sources(configuration, "quay.io/kairos/core:v1").ShouldBe(["new-mirror.local/kairos/core:v1", "quay.io/kairos/core:v1"]);
        configuration.Registries.Select(r => r.Prefix).ShouldBe(["quay.io", "ghcr.io"]);
        configuration.UnqualifiedSearchRegistries.ShouldBeEmpty();
        configuration.Aliases.Keys.ShouldBe(["one"]);
    }

    [Fact]
    public void A_bad_drop_in_is_named_with_its_own_path_and_line()
    {
        var main = _directory.Combine("registries.conf");
        System.IO.File.WriteAllText(main, "");
        Directory.CreateDirectory(_directory.Combine("registries.conf.d"));
        var bad = _directory.Combine("registries.conf.d", "50-bad.conf");
        System.IO.File.WriteAllText(bad, "\n[[registry]]\nlocation = quay.io\n");

        var error = Should.Throw<RegistriesConfigurationException>(() => RegistriesConfiguration.Load(main));

        error.File.ShouldBe(bad);
        error.Line.ShouldBe(3);
        Should.Throw<RegistriesConfigurationException>(() => RegistriesConfiguration.Load(_directory.Combine("missing.conf"))).Message.ShouldContain("does not exist");
    }

    [Fact]
    public void The_default_file_is_the_explicit_one_then_the_environment_then_the_users_then_the_systems()
    {
        var system = Write("etc/containers/registries.conf", "[[registry]]\nlocation = \"system.example\"");
        Write("etc/containers/registries.conf.d/1.conf", "[[registry]]\nlocation = \"system-dropin.example\"");
        var configHome = _directory.Combine("home", ".config");
        Write("home/.config/containers/registries.conf.d/1.conf", "[[registry]]\nlocation = \"user-dropin.example\"");
        var fromEnvironment = Write("env/registries.conf", "[[registry]]\nlocation = \"env.example\"");
        var explicitFile = Write("explicit/registries.conf", "[[registry]]\nlocation = \"explicit.example\"");
        var variables = new Dictionary<string, string> { ["HOME"] = _directory.Combine("home") };
        string? Environment(string name) => variables.GetValueOrDefault(name);

        var fromSystem = RegistriesConfiguration.LoadDefault(null, Environment, system);
        fromSystem.Registries.Select(r => r.Prefix).ShouldBe(["system.example", "system-dropin.example", "user-dropin.example"]);

        var userFile = Write("home/.config/containers/registries.conf", "[[registry]]\nlocation = \"user.example\"");
        var fromUser = RegistriesConfiguration.LoadDefault(null, Environment, system);
        fromUser.Registries.Select(r => r.Prefix).ShouldBe(["user.example", "user-dropin.example"]);
        fromUser.Files[0].ShouldBe(userFile);

        variables["XDG_CONFIG_HOME"] = _directory.Combine("nowhere");
        RegistriesConfiguration.LoadDefault(null, Environment, system).Files[0].ShouldBe(system);
        variables["XDG_CONFIG_HOME"] = configHome;

        variables["CONTAINERS_REGISTRIES_CONF"] = fromEnvironment;
        RegistriesConfiguration.LoadDefault(null, Environment, system).Registries.Single().Prefix.ShouldBe("env.example");
        RegistriesConfiguration.LoadDefault(explicitFile, Environment, system).Registries.Single().Prefix.ShouldBe("explicit.example");

        variables["CONTAINERS_REGISTRIES_CONF"] = _directory.Combine("env", "typo.conf");
        Should.Throw<RegistriesConfigurationException>(() => RegistriesConfiguration.LoadDefault(null, Environment, system)).Message.ShouldContain("CONTAINERS_REGISTRIES_CONF");

        variables.Remove("CONTAINERS_REGISTRIES_CONF");
        variables["XDG_CONFIG_HOME"] = _directory.Combine("nowhere");
        RegistriesConfiguration.LoadDefault(null, Environment, _directory.Combine("no", "registries.conf")).IsEmpty.ShouldBeTrue();
    }

    private string Write(string relative, string text)
    {
        var path = _directory.Combine(relative.Split('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }
}
