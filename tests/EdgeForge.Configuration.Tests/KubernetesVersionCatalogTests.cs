using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Kubernetes;

namespace EdgeForge.Configuration.Tests;

public sealed class KubernetesVersionCatalogTests
{
    [Fact]
    public void The_built_in_list_is_canvos_list()
    {
        var builtIn = KubernetesVersionCatalog.BuiltIn();
        var diagnostics = new DiagnosticBag();
        var canvos = KubernetesVersionCatalog.Parse("k8s_version.json", Fixtures.Read("canvos/k8s_version.json"), diagnostics)!;

        diagnostics.Items.ShouldBeEmpty();
        foreach (var (distribution, count) in new Dictionary<string, int> { ["k3s"] = 58, ["kubeadm"] = 62, ["rke2"] = 68, ["kubeadm-fips"] = 60, ["nodeadm"] = 4, ["canonical"] = 11 })
        {
            builtIn.VersionsOf(distribution).Count.ShouldBe(count, distribution);
            builtIn.VersionsOf(distribution).ShouldBe(canvos.VersionsOf(distribution));
        }
    }

    [Theory]
    [InlineData("{\"k3s\": [\"1.27.2\" \"1.28.1\"]}", 1, "invalid JSON")]
    [InlineData("[\"1.27.2\"]", 1, "expected a JSON object")]
    [InlineData("{\n  \"k3s\": \"1.27.2\"\n}", 2, "expected a list of versions")]
    [InlineData("{\n  \"k3s\": [\n    1.27\n  ]\n}", 3, "expected a version string")]
    [InlineData("{\n  \"k3s\": [\n    \"1.27.2\",\n    \"v1.28.1\"\n  ]\n}", 4, "not a version")]
    [InlineData("{\n  \"rke2\": [\"1.27.2+rke2r1\"]\n}", 2, "not a version")]
    [InlineData("{\n  \"k3s\": [\"1.27.2\"],\n  \"k3s\": [\"1.28.1\"]\n}", 3, "listed twice")]
    public void Shape_errors_carry_their_line(string json, int line, string message)
    {
        var diagnostics = new DiagnosticBag();

        KubernetesVersionCatalog.Parse("k8s_version.json", json, diagnostics).ShouldBeNull();

        diagnostics.Errors.ShouldContain(d => d.Line == line && d.Message.Contains(message), string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void Unknown_distributions_and_duplicate_versions_are_warnings()
    {
        var diagnostics = new DiagnosticBag();

        var catalog = KubernetesVersionCatalog.Parse("k8s_version.json", "{\"k3ss\": [\"1.2.3\"], \"k3s\": [\"1.2.3\", \"1.2.3\"]}", diagnostics);

        catalog.ShouldNotBeNull();
        catalog.VersionsOf("k3s").ShouldBe(["1.2.3"]);
        diagnostics.Warnings.Count().ShouldBe(2);
        diagnostics.Warnings.ShouldContain(d => d.Message.Contains("did you mean k3s?"));
    }
}
