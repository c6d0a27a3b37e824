using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Luet.Tests;

/// <summary>Package references, luet's version order and selectors, and luet auth maps, without a registry.</summary>
public class FormatTests
{
    [Theory]
    [InlineData("k8s/k3s@1.30.1-k3s1", "k8s", "k3s", "1.30.1-k3s1")]
    [InlineData("k8s/rke2@1.29.4+rke2r1", "k8s", "rke2", "1.29.4+rke2r1")]
    [InlineData("system/k8s-base@1.0", "system", "k8s-base", "1.0")]
    public void References_parse_and_print_as_luet_install_takes_them(string text, string category, string name, string version)
    {
        var reference = LuetPackageReference.Parse(text);
        (reference.Category, reference.Name, reference.Version).ShouldBe((category, name, version));
        reference.ToString().ShouldBe(text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("k3s@1.30.1")]
    [InlineData("k8s/k3s")]
    [InlineData("k8s/k3s@")]
    [InlineData("/k3s@1.0")]
    [InlineData("k8s/@1.0")]
    [InlineData("k8s/k3s@1.0 beta")]
    public void Malformed_references_are_refused(string text)
    {
        LuetPackageReference.TryParse(text, out _).ShouldBeFalse();
        Should.Throw<FormatException>(() => LuetPackageReference.Parse(text)).Message.ShouldContain("CATEGORY/NAME@VERSION");
    }

    [Theory]
    [InlineData("1.30.1-k3s1", "1.30.2-k3s1", -1)]
    [InlineData("1.30.10", "1.30.9", 1)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1:0.1", "9.9", 1)]
    [InlineData("1.0.0+2", "1.0.0", 1)]
    [InlineData("v1.2", "1.2", 0)]
    [InlineData("1.00", "1.0", 0)]
    [InlineData("1.0a", "1.0", 1)]
    [InlineData("not-a-version", "0.1", -1)]
    public void Versions_order_as_Debian_versions_after_luet_sanitises_them(string a, string b, int sign)
    {
        Math.Sign(LuetVersion.Compare(a, b)).ShouldBe(sign);
        Math.Sign(LuetVersion.Compare(b, a)).ShouldBe(-sign);
    }

    [Theory]
    [InlineData("1.30.2-k3s1", ">=1.30", true)]
    [InlineData("1.29.9", ">=1.30", false)]
    [InlineData("1.0.0+2", "<1.1", true)]
    [InlineData("1.1.0", "<1.1", false)]
    [InlineData("1.1.0", "<=1.1.0", true)]
    [InlineData("1.1.0", ">1.1.0", false)]
    [InlineData("1.1.0", "1.1.0", true)]
    [InlineData("1.1.0", "=1.1", false)]
    [InlineData("1.1.0", "==1.1.0", true)]
    [InlineData("1.1.0", "!=1.1.0", false)]
    [InlineData("1.1.0", "!1.0", true)]
    [InlineData("1.1.0", "", true)]
    [InlineData("latest", "latest", true)]
    [InlineData("latest", ">=0", false)]
    public void Selectors_match_as_luet_ValidateSelector_does(string version, string selector, bool expected) =>
        LuetVersion.Satisfies(version, selector).ShouldBe(expected);

    [Fact]
    public void Auth_maps_become_credentials_for_the_repository_registry_only()
    {
        var credential = LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["Username"] = "u", ["Password"] = "p:w" })!;
        (credential.Username, credential.Password).ShouldBe(("u", "p:w"));

        var fromAuth = LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["auth"] = Convert.ToBase64String("u2:secret:x"u8.ToArray()) })!;
        (fromAuth.Username, fromAuth.Password).ShouldBe(("u2", "secret:x"));

        LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["identitytoken"] = "refresh" })!.IdentityToken.ShouldBe("refresh");
        LuetAuthentication.FromAuthMap(new Dictionary<string, string>()).ShouldBeNull();
        LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["serveraddress"] = "example.com" }).ShouldBeNull();

        Should.Throw<ArgumentException>(() => LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["username"] = "u" })).Message.ShouldContain("\"password\"");
        Should.Throw<ArgumentException>(() => LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["auth"] = "%%%" })).Message.ShouldContain("base64");
        var token = Should.Throw<ArgumentException>(() => LuetAuthentication.FromAuthMap(new Dictionary<string, string> { ["registrytoken"] = "bearer-secret" }));
        token.Message.ShouldContain("registrytoken");
        token.Message.ShouldNotContain("bearer-secret");
    }

    [Fact]
    public async Task The_credential_provider_answers_for_the_repository_host_and_delegates_the_rest()
    {
        var inner = new StaticCredentialProvider(new RegistryCredential("inner", "x"));
        var provider = LuetAuthentication.CreateProvider(ImageReference.Parse("us-docker.pkg.dev/palette-images/edge/luet-repo-amd"),
            new Dictionary<string, string> { ["username"] = "_json_key", ["password"] = "{}" }, inner);

        (await provider.GetCredentialAsync("us-docker.pkg.dev"))!.Username.ShouldBe("_json_key");
        (await provider.GetCredentialAsync("quay.io"))!.Username.ShouldBe("inner");
        LuetAuthentication.CreateProvider(ImageReference.Parse("quay.io/x/y"), new Dictionary<string, string>(), inner).ShouldBeSameAs(inner);
    }

    [Theory]
    [InlineData("var/cache/luet/db", true)]
    [InlineData("var/cache/x", true)]
    [InlineData("var/cache", false)]
    [InlineData("var/cachet/x", false)]
    [InlineData("var/lib/rancher", false)]
    public void Only_what_CanvOS_deletes_under_var_cache_is_left_out(string path, bool removed) =>
        LuetDockerRepository.IsRemovedByCanvOs(path).ShouldBe(removed);
}
