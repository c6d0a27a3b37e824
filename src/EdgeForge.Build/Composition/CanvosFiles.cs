using System.Text.RegularExpressions;
using EdgeForge.FileTree;

namespace EdgeForge.Build.Composition;

/// <summary>
/// The file selections CanvOS's Earthfile makes from its upstream images (targets <c>provider-image</c>,
/// <c>iso-image</c>, <c>kairos-provider-image</c>, <c>stylus-image</c>, <c>third-party</c>), as mappings of those
/// images' flattened trees. Each is one layer of ours where CanvOS has one <c>COPY</c> (or a few consecutive ones).
/// </summary>
public static partial class CanvosFiles
{
    /// <summary>
    /// The sentinel CanvOS writes when Kubernetes and the agent provider are baked in (provider-image:
    /// <c>touch /etc/spectro-sysext/k8s-and-agent-provider-bundled</c>); the agent reads it to skip system extensions.
    /// </summary>
    public const string BundledSentinel = "etc/spectro-sysext/k8s-and-agent-provider-bundled";

    public const string LegacyProviderDirectory = "system/providers";

    /// <summary>Newer Kairos provider images (PE-8315) put the plugin here; CanvOS moves it back to the legacy path.</summary>
    public const string NewProviderDirectory = "usr/local/system/providers";

    public const string MachineId = "etc/machine-id";

    /// <summary>
    /// <c>COPY +kairos-provider-image/ /</c> (the provider image's whole tree), then
    /// <c>mv /usr/local/system/providers/agent-provider-* /system/providers/ &amp;&amp; rm -rf /usr/local/system/providers</c>
    /// when the image has the plugin at the new path, and the bundled sentinel.
    /// </summary>
    public static MappedFileTree KairosProvider(IFileTreeSource providerImage)
    {
        var hasNewPath = providerImage.Entries.Any(e => IsUnder(e.Path, NewProviderDirectory) && e.Name.StartsWith("agent-provider-", StringComparison.Ordinal));
        var sentinel = new InMemoryFileTreeSource().AddFile(BundledSentinel, []);
        return MappedFileTree.Create(providerImage, path =>
        {
            if (!hasNewPath || !IsUnder(path, NewProviderDirectory) && path != NewProviderDirectory)
            {
                return path;
            }

            if (path == NewProviderDirectory)
            {
                return null;
            }

            var rest = path[(NewProviderDirectory.Length + 1)..];
            return !rest.Contains('/') && rest.StartsWith("agent-provider-", StringComparison.Ordinal)
                ? LegacyProviderDirectory + "/" + rest
                : null;
        }, sentinel);
    }

    /// <summary>The agent provider plugins a provider layer carries (for the report and the checks).</summary>
    public static IReadOnlyList<string> AgentProviders(IFileTreeSource tree) =>
        tree.Entries.Where(e => e.ParentPath == LegacyProviderDirectory && e.Name.StartsWith("agent-provider-", StringComparison.Ordinal))
            .Select(e => e.Path).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// provider-image's four copies from the stylus framework: <c>/etc/kairos/branding</c>, <c>/etc/kairos/80_stylus.yaml</c>
    /// (if it exists), <c>/oem/stylus_config.yaml</c> → <c>/etc/kairos/branding/stylus_config.yaml</c>,
    /// <c>/etc/elemental/config.yaml</c>. The three without <c>--if-exists</c> are required, as in CanvOS.
    /// </summary>
    public static MappedFileTree StylusForProvider(IFileTreeSource stylusImage, string imageName)
    {
        var missing = new List<string>();
        var paths = stylusImage.Entries.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var required in new[] { "etc/kairos/branding", "oem/stylus_config.yaml", "etc/elemental/config.yaml" })
        {
            if (!paths.Contains(required))
            {
                missing.Add("/" + required);
            }
        }

        if (missing.Count > 0)
        {
            throw new UpstreamContentException($"the stylus framework image {imageName} (STYLUS_BASE) lacks {string.Join(", ", missing)}, " +
                "which every provider image needs (CanvOS provider-image copies them); use the stylus-framework image of your PE_VERSION");
        }

        return MappedFileTree.Create(stylusImage, path => path switch
        {
            "etc/kairos/80_stylus.yaml" or "etc/elemental/config.yaml" => path,
            "oem/stylus_config.yaml" => "etc/kairos/branding/stylus_config.yaml",
            _ when path == "etc/kairos/branding" || IsUnder(path, "etc/kairos/branding") => path,
            _ => null,
        });
    }

    /// <summary><c>COPY (+third-party/etcdctl) /usr/bin/</c>: the binary at <paramref name="etcdctlPath"/> of the third-party image.</summary>
    public static MappedFileTree Etcdctl(IFileTreeSource thirdPartyImage, string etcdctlPath, string imageName) =>
        ThirdPartyBinary(thirdPartyImage, etcdctlPath, imageName, "etcdctl", "usr/bin/etcdctl");

    /// <summary>A binary of the third-party image (CanvOS <c>+third-party/NAME</c>) at <paramref name="destination"/>.</summary>
    public static MappedFileTree ThirdPartyBinary(IFileTreeSource thirdPartyImage, string binaryPath, string imageName, string name, string destination)
    {
        var path = binaryPath.Trim('/');
        var entry = thirdPartyImage.Entries.FirstOrDefault(e => e.Path == path);
        if (entry is null || entry.Kind is not (FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink))
        {
            throw new UpstreamContentException($"the third-party image {imageName} (SPECTRO_THIRD_PARTY_IMAGE) has no file /{path}, where CanvOS takes {name} from; " +
                "check BUILDER_3RDPARTY_VERSION and ARCH");
        }

        return MappedFileTree.Create(thirdPartyImage, p => p == path ? destination : null);
    }

    /// <summary>The version the third-party image records next to etcdctl (<c>etcdctl.version</c>), for the report.</summary>
    public static string VersionFilePath(string etcdctlPath) => etcdctlPath.Trim('/') + ".version";

    /// <summary>
    /// The last lines of provider-image and iso-image: <c>rm -f /etc/ssh/ssh_host_* /etc/ssh/moduli</c> (every host
    /// installed from one image must not share SSH host keys) and <c>touch /etc/machine-id &amp;&amp; chmod 444</c> (an empty
    /// machine-id makes systemd generate one per host at first boot; base-image removed the old one). Deletions are
    /// whiteouts (image-spec layer.md "Whiteouts") for exactly the paths the image below has.
    /// </summary>
    public static InMemoryFileTreeSource Cleanup(IReadOnlyList<FileTreeEntry> imageBelow)
    {
        var tree = new InMemoryFileTreeSource();
        foreach (var entry in imageBelow.Where(e => e.ParentPath == "etc/ssh" && (e.Name.StartsWith("ssh_host_", StringComparison.Ordinal) || e.Name == "moduli"))
                     .OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            tree.AddFile("etc/ssh/.wh." + entry.Name, [], mode: 0);
        }

        // touch keeps an existing machine-id's contents; base-image deleted it, so what exists below is the empty
        // file it touched — or nothing, for a base that did not come through CanvOS's base-image.
        tree.AddFile(MachineId, [], mode: 0x124);
        return tree;
    }

    /// <summary>The one Palette binary a Trusted Boot installer keeps in /opt/spectrocloud/bin (CanvOS iso-image, IS_UKI=true).</summary>
    public const string TrustedBootKeptAgentBinary = "agent-provider-stylus";

    /// <summary>
    /// CanvOS's iso-image for IS_UKI=true, after the stylus framework: <c>find /opt/spectrocloud/bin/. ! -name
    /// agent-provider-stylus -type f -exec rm -f {} +</c> and <c>rm -f /usr/bin/luet</c>, as whiteouts over
    /// <paramref name="imageBelow"/>. The unified kernel image carries the whole installer in its initrd, so what the
    /// installed host gets from the ISO's stylus package is not duplicated there.
    /// </summary>
    public static InMemoryFileTreeSource TrustedBootPruning(IReadOnlyList<FileTreeEntry> imageBelow)
    {
        var tree = new InMemoryFileTreeSource();
        foreach (var entry in imageBelow.Where(e => e.Kind is FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink &&
                                                     (e.Path.StartsWith("opt/spectrocloud/bin/", StringComparison.Ordinal) && e.Name != TrustedBootKeptAgentBinary || e.Path == "usr/bin/luet"))
                     .OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            tree.AddFile(entry.ParentPath + "/.wh." + entry.Name, [], mode: 0);
        }

        return tree;
    }

    /// <summary>Where a Trusted Boot provider image's Kubernetes lives on the host (CanvOS <c>slink --target /opt/k8s</c>).</summary>
    public const string TrustedBootKubernetesTarget = "opt/k8s";

    /// <summary>Where the Trusted Boot provider image carries the Kubernetes files themselves (<c>COPY +install-k8s/output/ /k8s</c>).</summary>
    public const string TrustedBootKubernetesCopy = "k8s";

    /// <summary>Where the signed boot files sit in a Trusted Boot provider image (CanvOS <c>+trust-boot-unpack/ /trusted-boot</c>).</summary>
    public const string TrustedBootDirectory = "trusted-boot";

    /// <summary>
    /// CanvOS's provider-image for IS_UKI=true with Kubernetes bundled: <c>slink --source /k8s/ --target /opt/k8s</c>
    /// (internal/cmd/slink: for every non-directory of the Kubernetes tree, its parent directories — modes kept — and a
    /// symbolic link at the same path to <c>/opt/k8s/PATH</c>), then <c>ln -sf /opt/spectrocloud/bin/agent-provider-stylus
    /// /usr/local/bin/agent-provider-stylus</c>. The files themselves are not in the unified kernel image: the provider
    /// image carries them under <c>/k8s</c>, and the host keeps them in <c>/opt/k8s</c>.
    /// </summary>
    public static InMemoryFileTreeSource KubernetesLinks(IFileTreeSource kubernetes)
    {
        var tree = new InMemoryFileTreeSource();
        var directories = kubernetes.Entries.Where(e => e.Kind == FileTreeEntryKind.Directory).ToDictionary(e => e.Path, StringComparer.Ordinal);
        var made = new HashSet<string>(StringComparer.Ordinal);
        void Directory(string path)
        {
            if (path.Length == 0 || !made.Add(path))
            {
                return;
            }

            Directory(MappedFileTree.ParentOf(path));
            var source = directories.GetValueOrDefault(path);
            tree.AddDirectory(path, source?.Mode ?? 0x1ED, source?.ModificationTime ?? 0);
        }

        foreach (var entry in kubernetes.Entries.Where(e => e.Kind != FileTreeEntryKind.Directory && !e.Name.StartsWith(".wh.", StringComparison.Ordinal))
                     .OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            Directory(entry.ParentPath);
            tree.AddSymlink(entry.Path, "/" + TrustedBootKubernetesTarget + "/" + entry.Path);
        }

        Directory("usr/local/bin");
        tree.AddSymlink("usr/local/bin/" + TrustedBootKeptAgentBinary, "/opt/spectrocloud/bin/" + TrustedBootKeptAgentBinary);
        return tree;
    }

    /// <summary>The Kubernetes tree under <c>/k8s</c>, as the Trusted Boot provider image carries it (<c>COPY --keep-ts</c>), with the bundled sentinel.</summary>
    public static MappedFileTree KubernetesCopy(IFileTreeSource kubernetes) =>
        MappedFileTree.Create(kubernetes, path => TrustedBootKubernetesCopy + "/" + path,
            new InMemoryFileTreeSource().AddDirectory(TrustedBootKubernetesCopy).AddDirectory("etc/spectro-sysext").AddFile(BundledSentinel, []));

    /// <summary><c>COPY +kairos-agent/kairos-agent /usr/bin/kairos-agent</c>: the agent of the Kairos base image.</summary>
    public static MappedFileTree KairosAgent(IFileTreeSource baseImage, string imageName)
    {
        const string path = "usr/bin/kairos-agent";
        if (!baseImage.Entries.Any(e => e.Path == path && e.Kind is FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink))
        {
            throw new UpstreamContentException($"the base image {imageName} has no /{path}, which a Trusted Boot provider image copies (CanvOS +kairos-agent): " +
                "the base must be a Kairos image");
        }

        return MappedFileTree.Create(baseImage, p => p == path ? path : null);
    }

    /// <summary><c>COPY --if-exists +stylus-image/etc/kairos/80_stylus.yaml /etc/kairos/80_stylus.yaml</c> (Trusted Boot provider image).</summary>
    public static MappedFileTree StylusCloudConfig(IFileTreeSource stylusImage) =>
        MappedFileTree.Create(stylusImage, path => path == "etc/kairos/80_stylus.yaml" ? path : null);

    /// <summary>
    /// The systemd version of an image, read statically: systemd ships its private library as
    /// <c>libsystemd-shared-VERSION.so</c> (meson.build of systemd: <c>libsystemd-shared-{project_major_version}</c>),
    /// so the version is in a file name and no binary of the image has to run. 0 when there is no systemd.
    /// </summary>
    public static int SystemdVersion(IReadOnlyList<FileTreeEntry> entries)
    {
        var version = 0;
        foreach (var entry in entries)
        {
            if (SystemdSharedLibrary().Match(entry.Path) is { Success: true } match && int.TryParse(match.Groups[1].Value, out var found))
            {
                version = Math.Max(version, found);
            }
        }

        return version;
    }

    /// <summary>CanvOS's CHECK_SYSTEMD_VERSION: systemd 255 and later load Kubernetes and the agent provider as system extensions.</summary>
    public const int SystemExtensionsMinimumSystemd = 255;

    /// <summary>
    /// What an installer image needs to install a host: Kairos's agent (<c>kairos-agent</c>, or the older immucore +
    /// elemental pair). Returns what is missing, empty when the image can install.
    /// </summary>
    public static IReadOnlyList<string> MissingInstallerPieces(IReadOnlyList<FileTreeEntry> entries)
    {
        var paths = entries.Where(e => e.Kind is not FileTreeEntryKind.Directory).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        bool Has(string name) => paths.Contains("usr/bin/" + name) || paths.Contains("usr/sbin/" + name) || paths.Contains("bin/" + name) || paths.Contains("usr/local/bin/" + name);
        if (Has("kairos-agent") || Has("immucore") && Has("elemental"))
        {
            return [];
        }

        return ["/usr/bin/kairos-agent (the Kairos agent that installs the host; or immucore and elemental)"];
    }

    private static bool IsUnder(string path, string directory) => path.StartsWith(directory + "/", StringComparison.Ordinal);

    [GeneratedRegex(@"(?:^|/)systemd/libsystemd-shared-(\d+)(?:[.~-][^/]*)?\.so(?:\.\d+)*$")]
    private static partial Regex SystemdSharedLibrary();
}

/// <summary>An upstream image lacks what the composition takes from it: the message names the image, the key and the fix.</summary>
public sealed class UpstreamContentException(string message) : Exception(message);
