using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Planning;

/// <summary>One upstream OCI image the build takes content from; <see cref="SetBy"/> is the <c>.arg</c> key that sets or overrides it.</summary>
public sealed record UpstreamImage(string Role, string Reference, string SetBy);

/// <summary>
/// The upstream images CanvOS's Earthfile composes the artifacts from, named by the same ARGs and formed by the same
/// formulas (EDGEFORGE.md §5; docs/sources.md). The build pulls exactly these.
/// </summary>
public sealed record UpstreamSources
{
    /// <summary><c>BASE_IMAGE</c>, or <c>$KAIROS_BASE_IMAGE_URL/kairos-&lt;os&gt;:&lt;version&gt;-core-$ARCH-generic-$KAIROS_INIT_VERSION</c>.</summary>
    public required UpstreamImage Base { get; init; }

    /// <summary><c>STYLUS_BASE</c>: the installer takes it whole; the provider images take its agent files.</summary>
    public required UpstreamImage StylusFramework { get; init; }

    /// <summary><c>STYLUS_PACKAGE_BASE</c>: the agent as system-extension packages.</summary>
    public required UpstreamImage StylusPackage { get; init; }

    /// <summary><c>$SPECTRO_PUB_REPO/edge/kairos-io/provider-&lt;name&gt;:$&lt;NAME&gt;_PROVIDER_VERSION</c>.</summary>
    public required UpstreamImage KairosProvider { get; init; }

    /// <summary><c>$SPECTRO_LUET_REPO/luet-repo-amd</c> or <c>…/luet-repo-arm</c>: a luet <c>docker</c> repository, no tag.</summary>
    public required UpstreamImage LuetRepository { get; init; }

    /// <summary><c>SPECTRO_THIRD_PARTY_IMAGE</c>, where etcdctl comes from.</summary>
    public required UpstreamImage ThirdParty { get; init; }

    /// <summary>
    /// CanvOS's <c>ubuntu</c> target, <c>$SPECTRO_PUB_REPO/third-party/ubuntu:22.04</c> (<c>ubuntu-fips:22.04</c> with
    /// FIPS): what a Trusted Boot provider image is built on, its operating system being the unified kernel image it
    /// carries. Null unless <c>IS_UKI=true</c>.
    /// </summary>
    public UpstreamImage? TrustedBootProviderBase { get; init; }

    /// <summary>Path of etcdctl inside <see cref="ThirdParty"/>, as CanvOS's <c>download-third-party</c> target reads it.</summary>
    public required string EtcdctlPath { get; init; }

    /// <summary>Where CanvOS's <c>+third-party/luet</c> takes luet from in the third-party image (the Trusted Boot ISO carries it).</summary>
    public required string LuetPath { get; init; }

    public IReadOnlyList<UpstreamImage> All => TrustedBootProviderBase is { } trustedBoot
        ? [Base, StylusFramework, StylusPackage, KairosProvider, LuetRepository, ThirdParty, trustedBoot]
        : [Base, StylusFramework, StylusPackage, KairosProvider, LuetRepository, ThirdParty];
}

/// <summary>CanvOS's formulas for <see cref="UpstreamSources"/> and the luet package of each provider image.</summary>
public static class UpstreamSourceFormulas
{
    public const string BaseRole = "base";
    public const string StylusFrameworkRole = "stylus-framework";
    public const string StylusPackageRole = "stylus-package";
    public const string KairosProviderRole = "kairos-provider";
    public const string LuetRepositoryRole = "luet-repository";
    public const string ThirdPartyRole = "third-party";
    public const string TrustedBootProviderBaseRole = "uki-provider-base";

    /// <summary>The sources, or null when a formed reference is invalid (each problem is an error naming the key that made it).</summary>
    public static UpstreamSources? Resolve(BuildSettings settings, BuildArguments arguments, DiagnosticBag diagnostics)
    {
        var before = diagnostics.Errors.Count();
        UpstreamImage Checked(string role, string? reference, string setBy, params string[] inputs)
        {
            reference ??= "";
            if (ReferenceSyntax.ImageReferenceProblem(reference) is { } problem)
            {
                // Blame the input the user (or the Earthfile) changed, when there is one; else the key that overrides the whole image.
                var key = inputs.FirstOrDefault(k => arguments.Get(k)?.Source is ArgumentSource.ArgFile or ArgumentSource.Environment or ArgumentSource.CommandLine)
                    ?? inputs.FirstOrDefault(k => arguments.Get(k) is not null) ?? setBy;
                var (file, line) = arguments.LocationOf(key);
                diagnostics.Error(file, $"forms the {role} image '{reference}', which {problem}", line, key,
                    $"fix {key}, or set {setBy} to the whole image reference");
            }

            return new UpstreamImage(role, reference, setBy);
        }

        var baseImage = settings.BaseImage is { } explicitBase
            ? Checked(BaseRole, explicitBase, "BASE_IMAGE")
            : Checked(BaseRole, DefaultBaseImage(settings), "BASE_IMAGE", "KAIROS_BASE_IMAGE_URL", "KAIROS_INIT_VERSION", "BASE_IMAGE_MIRROR",
                "SPECTRO_PUB_REPO", "OS_VERSION", "ARCH");
        var providerName = KairosProviderName(settings.K8sDistribution);
        var providerKey = BuildSettingsResolver.ProviderVersionKeys[providerName];
        var sources = new UpstreamSources
        {
            Base = baseImage,
            StylusFramework = Checked(StylusFrameworkRole, settings.StylusBase, "STYLUS_BASE", "SPECTRO_PUB_REPO", "PE_VERSION", "ARCH"),
            StylusPackage = Checked(StylusPackageRole, settings.StylusPackageBase, "STYLUS_PACKAGE_BASE", "SPECTRO_PUB_REPO", "PE_VERSION", "ARCH"),
            KairosProvider = Checked(KairosProviderRole,
                $"{settings.SpectroPubRepo}/edge/kairos-io/provider-{providerName}:{settings.ProviderVersions[providerName]}", providerKey,
                providerKey, "SPECTRO_PUB_REPO"),
            LuetRepository = Checked(LuetRepositoryRole, $"{settings.SpectroLuetRepo}/{LuetRepositoryName(settings.Arch)}", "SPECTRO_LUET_REPO"),
            ThirdParty = Checked(ThirdPartyRole, settings.SpectroThirdPartyImage, "SPECTRO_THIRD_PARTY_IMAGE", "BUILDER_3RDPARTY_VERSION"),
            TrustedBootProviderBase = settings.TrustedBoot is null ? null : Checked(TrustedBootProviderBaseRole,
                $"{settings.SpectroPubRepo}/third-party/{(settings.FipsEnabled ? "ubuntu-fips" : "ubuntu")}:22.04", "SPECTRO_PUB_REPO", "SPECTRO_PUB_REPO"),
            EtcdctlPath = ThirdPartyBinary(settings, "etcdctl"),
            LuetPath = ThirdPartyBinary(settings, "luet"),
        };
        return diagnostics.Errors.Count() > before ? null : sources;
    }

    /// <summary>CanvOS's download-third-party: <c>/binaries/NAME/latest/$BIN_TYPE/$ARCH/NAME</c>, BIN_TYPE vertex for FIPS, else palette.</summary>
    private static string ThirdPartyBinary(BuildSettings settings, string name) =>
        $"binaries/{name}/latest/{(settings.FipsEnabled ? "vertex" : "palette")}/{settings.Arch}/{name}";

    /// <summary>The OS's default base image (CanvOS's Earthfile formula, tags from base-images.json), or null when the OS has none.</summary>
    /// <remarks>
    /// CanvOS's Earthfile picks Kairos's <c>-uki</c> flavour of the Ubuntu base for Trusted Boot builds, except for 20.04 and
    /// 22.04, which have none; openSUSE has one base for both.
    /// </remarks>
    public static string? DefaultBaseImage(BuildSettings settings)
    {
        var image = BaseImageCatalog.BuiltIn.DefaultFor(settings.OsDistribution, settings.OsVersion, settings.Arch, settings.KairosBaseImageUrl,
            settings.KairosInitVersion, settings.BaseImageMirror);
        var ukiFlavour = settings.TrustedBoot is not null && settings.OsDistribution == "ubuntu" && settings.OsVersion is not ("20.04" or "22.04");
        return image is not null && ukiFlavour ? image + "-uki" : image;
    }

    /// <summary>kubeadm-fips uses the kubeadm provider, as in CanvOS's <c>kairos-provider-image</c> target.</summary>
    public static string KairosProviderName(string k8sDistribution) => k8sDistribution == "kubeadm-fips" ? "kubeadm" : k8sDistribution;

    /// <summary>CanvOS's <c>install-k8s</c> target: <c>luet-repo-arm</c> on arm64, <c>luet-repo-amd</c> on amd64.</summary>
    public static string LuetRepositoryName(string arch) => arch == "arm64" ? "luet-repo-arm" : "luet-repo-amd";

    /// <summary>
    /// The luet package of one Kubernetes version, as CanvOS's <c>install-k8s</c> target names it: k3s and rke2 versions
    /// carry their flavour suffix (<c>k8s/k3s@1.30.14-k3s1</c>), the others none (<c>k8s/kubeadm-fips@1.30.14</c>).
    /// </summary>
    public static string LuetPackage(BuildSettings settings, string k8sVersion) => settings.K8sDistribution switch
    {
        "k3s" => $"k8s/k3s@{k8sVersion}-{settings.K3sFlavorTag}",
        "rke2" => $"k8s/rke2@{k8sVersion}-{settings.Rke2FlavorTag}",
        var distribution => $"k8s/{distribution}@{k8sVersion}",
    };
}
