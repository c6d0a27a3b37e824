using System.Reflection;
using EdgeForge.Configuration.Dockerfiles;

namespace EdgeForge.Configuration.Scaffolding;

/// <summary>Writes a new CanvOS-style project directory that validates as it is, with placeholders to fill in.</summary>
public static class ProjectScaffolder
{
    public sealed record ScaffoldResult(IReadOnlyList<string> Written, IReadOnlyList<string> Existing);

    /// <summary>
    /// Writes the files; when any of them exists and <paramref name="force"/> is false nothing is written and the
    /// existing ones are returned. Each file is written to a temporary name and renamed.
    /// </summary>
    public static ScaffoldResult Create(string directory, bool force)
    {
        var files = Files();
        var existing = files.Keys.Where(f => File.Exists(Path.Combine(directory, f))).Order(StringComparer.Ordinal).ToList();
        if (existing.Count > 0 && !force)
        {
            return new ScaffoldResult([], existing);
        }

        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(Path.Combine(directory, "certs"));
        foreach (var (name, content) in files)
        {
            var path = Path.Combine(directory, name);
            var temporary = path + ".edgeforge-tmp";
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }

        return new ScaffoldResult(files.Keys.Order(StringComparer.Ordinal).ToList(), existing);
    }

    private static Dictionary<string, string> Files() => new()
    {
        [".arg"] = """
            # EdgeForge / CanvOS build arguments. Reference: docs/arg-reference.md
            # Provider images are named IMAGE_REGISTRY/IMAGE_REPO:K8S_DISTRIBUTION-K8S_VERSION-PE_VERSION-CUSTOM_TAG
            CUSTOM_TAG=demo
            IMAGE_REGISTRY=registry.example.com/edge
            OS_DISTRIBUTION=ubuntu
            IMAGE_REPO=$OS_DISTRIBUTION
            OS_VERSION=22.04
            K8S_DISTRIBUTION=k3s
            # One version; remove the line to build every version of k8s_version.json for the distribution.
            K8S_VERSION=1.30.14
            ISO_NAME=palette-edge-installer
            ARCH=amd64
            # Build-time proxies; never baked into the images.
            HTTPS_PROXY=
            HTTP_PROXY=
            NO_PROXY=
            UPDATE_KERNEL=false
            EDGE_CUSTOM_CONFIG=.edge-custom-config.yaml
            FORCE_INTERACTIVE_INSTALL=false
            # Where each Kubernetes version's binaries come from (an image per version):
            # K8S_PROVIDER_SOURCE=registry.example.com/edge/k8s-{distribution}:{version}

            """,
        ["user-data"] = """
            #cloud-config
            stylus:
              site:
                paletteEndpoint: api.spectrocloud.com
                # Registration token from Palette (Tenant Settings > Registration Tokens).
                edgeHostToken: "<registration-token>"
                # Needed when the token was not created for a default project.
                # projectName: Default
            install:
              poweroff: true
            stages:
              initramfs:
                - name: "Core system setup"
                  users:
                    kairos:
                      groups:
                        - admin
                      passwd: kairos

            """,
        ["Dockerfile"] = $"""
            # Lines above the marker belong to CanvOS's base-image recipe; EdgeForge builds that part itself.
            # {DockerfileParser.Marker}
            # Supported: RUN, COPY, ADD, ENV, ARG, LABEL, WORKDIR, USER. For example:
            # RUN apt-get update && apt-get install -y --no-install-recommends wireguard-tools

            """,
        [".edge-custom-config.yaml"] = """
            content:
              signing:
                publicKey:
                  # base64 of a PEM RSA public key; 'edgeforge keys generate' writes one. Empty: no signature checks.
                  base64EncodedValue: ""
                  description: "This is a public key used for signing content and cluster-config"

            """,
        ["k8s_version.json"] = BuiltInVersions(),
    };

    private static string BuiltInVersions()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("EdgeForge.Configuration.k8s_version.json")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
