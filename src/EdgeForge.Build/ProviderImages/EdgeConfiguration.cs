using System.Security.Cryptography;
using System.Text;
using EdgeForge.Configuration.Planning;
using EdgeForge.FileTree;

namespace EdgeForge.Build.ProviderImages;

/// <summary>
/// The edge configuration layer (EDGEFORGE.md §5 step 4), the same for every Kubernetes version of a matrix:
/// <c>/oem/.edge_custom_config.yaml</c> (the content-signing public key, when the project has one),
/// <c>/etc/kairos/edgeforge.yaml</c> (what was built, for the agent and for people on the host) and
/// <c>/etc/edgeforge-release</c> (the same as os-release-style variables). No secret is ever written here.
/// </summary>
public static class EdgeConfiguration
{
    public const string EdgeCustomConfigPath = "oem/.edge_custom_config.yaml";

    public static InMemoryFileTreeSource Files(BuildPlan plan)
    {
        var tree = new InMemoryFileTreeSource();
        if (plan.Inputs.EdgeCustomConfig is { } edgeCustomConfig)
        {
            tree.AddFile(EdgeCustomConfigPath, File.ReadAllBytes(edgeCustomConfig.Path), mode: 0x1A4);
        }

        var settings = plan.Settings;
        tree.AddFile("etc/kairos/edgeforge.yaml", $"""
            # Written by edgeforge: how this provider image was built.
            edgeforge:
              os:
                name: "{settings.OsDistribution}"
                version: "{settings.OsVersion}"
              arch: "{settings.Arch}"
              agentVersion: "{settings.PeVersion}"
              customTag: "{settings.CustomTag}"
              k8sDistribution: "{settings.K8sDistribution}"
              fips: {(settings.FipsEnabled ? "true" : "false")}
              twoNode: {(settings.TwoNode ? "true" : "false")}
              kubernetesBundled: {(settings.BundleK8sAndAgentProvider ? "true" : "false")}

            """);
        tree.AddFile("etc/edgeforge-release", $"""
            EDGEFORGE_OS_NAME="{settings.OsDistribution}"
            EDGEFORGE_OS_VERSION="{settings.OsVersion}"
            EDGEFORGE_ARCH="{settings.Arch}"
            EDGEFORGE_AGENT_VERSION="{settings.PeVersion}"
            EDGEFORGE_CUSTOM_TAG="{settings.CustomTag}"
            EDGEFORGE_K8S_DISTRIBUTION="{settings.K8sDistribution}"
            EDGEFORGE_FIPS="{(settings.FipsEnabled ? "true" : "false")}"
            EDGEFORGE_TWO_NODE="{(settings.TwoNode ? "true" : "false")}"

            """);
        return tree;
    }

    /// <summary>A hash of every file of the layer: its cache key material.</summary>
    public static string Fingerprint(BuildPlan plan)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var tree = Files(plan);
        foreach (var entry in tree.Entries)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{entry.Path}\0{entry.Kind}\0{entry.Mode}\0"));
        }

        tree.ReadContentsAsync((entry, stream, _) =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            hash.AppendData(copy.ToArray());
            return ValueTask.CompletedTask;
        }).GetAwaiter().GetResult();
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
