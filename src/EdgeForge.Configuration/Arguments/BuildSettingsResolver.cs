using System.Text.RegularExpressions;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Arguments;

/// <summary>Turns raw build arguments into <see cref="BuildSettings"/>, checking every key's syntax and the rules between keys.</summary>
public sealed partial class BuildSettingsResolver
{
    public static readonly IReadOnlyList<string> K8sDistributions = ["k3s", "rke2", "kubeadm", "kubeadm-fips", "nodeadm", "canonical"];
    public static readonly IReadOnlyList<string> Architectures = ["amd64", "arm64"];

    private static readonly Dictionary<string, string> UbuntuVersions = new()
    {
        ["20"] = "20.04", ["20.04"] = "20.04", ["22"] = "22.04", ["22.04"] = "22.04", ["24"] = "24.04", ["24.04"] = "24.04",
    };

    private static readonly Dictionary<string, string> ArchitectureAliases = new()
    {
        ["x86_64"] = "amd64", ["x86-64"] = "amd64", ["x64"] = "amd64", ["aarch64"] = "arm64", ["arm"] = "arm64",
    };

    private readonly BuildArguments _arguments;
    private readonly DiagnosticBag _diagnostics;

    /// <summary>Keys already reported, so a value derived from one of them (<c>$SPECTRO_PUB_REPO/edge</c>) is not reported again.</summary>
    private readonly HashSet<string> _failed = new(StringComparer.Ordinal);

    private BuildSettingsResolver(BuildArguments arguments, DiagnosticBag diagnostics)
    {
        _arguments = arguments;
        _diagnostics = diagnostics;
    }

    /// <summary>The settings, or null when any key is invalid (every problem is in <paramref name="diagnostics"/>).</summary>
    public static BuildSettings? Resolve(BuildArguments arguments, DiagnosticBag diagnostics)
    {
        var before = diagnostics.Errors.Count();
        var settings = new BuildSettingsResolver(arguments, diagnostics).ResolveAll();
        return diagnostics.Errors.Count() > before ? null : settings;
    }

    private BuildSettings ResolveAll()
    {
        var osDistribution = Value("OS_DISTRIBUTION", "ubuntu");
        if (!OsNamePattern().IsMatch(osDistribution))
        {
            Error("OS_DISTRIBUTION", $"'{osDistribution}' is not a valid operating system name", "use ubuntu, opensuse-leap, rhel, sles, or a lowercase name");
        }

        var baseImage = Optional("BASE_IMAGE");
        if (baseImage is not null && ReferenceSyntax.ImageReferenceProblem(baseImage) is { } baseProblem)
        {
            Error("BASE_IMAGE", $"'{baseImage}' {baseProblem}", "use registry/repository:tag or registry/repository@sha256:…");
        }

        if (baseImage is null && osDistribution is not ("ubuntu" or "opensuse-leap"))
        {
            Error("OS_DISTRIBUTION", $"'{osDistribution}' has no default base image, so BASE_IMAGE is required",
                "set BASE_IMAGE to a Kairos-ified image of that OS, or use ubuntu or opensuse-leap");
        }

        var k8sDistribution = Value("K8S_DISTRIBUTION", "k3s");
        if (!K8sDistributions.Contains(k8sDistribution))
        {
            var suggestion = NearestName.Find(k8sDistribution, K8sDistributions);
            Error("K8S_DISTRIBUTION", $"'{k8sDistribution}' is not a supported distribution",
                (suggestion is null ? "" : $"did you mean {suggestion}? ") + $"use one of {string.Join(", ", K8sDistributions)}");
        }
        else if (k8sDistribution == "canonical")
        {
            Warning("K8S_DISTRIBUTION", "canonical is a tech preview; do not use it for production workloads");
        }

        var settings = new BuildSettings
        {
            CustomTag = CustomTag(),
            ImageRegistry = ImageRegistry(),
            OsDistribution = osDistribution,
            ImageRepo = ImageRepo(osDistribution),
            OsVersion = OsVersion(osDistribution, baseImage),
            K8sDistribution = k8sDistribution,
            K8sVersion = K8sVersion(),
            IsoName = IsoName(),
            Arch = Arch(),
            PeVersion = PeVersion(),
            BaseImage = baseImage,
            FipsEnabled = Bool("FIPS_ENABLED", false),
            UpdateKernel = Bool("UPDATE_KERNEL", false),
            TwoNode = Bool("TWO_NODE", false),
            CisHardening = Bool("CIS_HARDENING", false),
            HttpProxy = ProxyUrl("HTTP_PROXY"),
            HttpsProxy = ProxyUrl("HTTPS_PROXY"),
            NoProxy = NoProxy(),
            ProxyCertPath = ProxyCertPath(),
            ClusterConfig = Optional("CLUSTERCONFIG"),
            EdgeCustomConfig = Optional("EDGE_CUSTOM_CONFIG") ?? BuildArgumentCatalog.DefaultEdgeCustomConfig,
            ForceInteractiveInstall = Bool("FORCE_INTERACTIVE_INSTALL", false),
            DisableSelinux = Bool("DISABLE_SELINUX", true),
            Debug = Bool("DEBUG", false),
            BundleK8sAndAgentProvider = Bool("BUNDLE_K8S_AND_AGENT_PROVIDER", false),
            K8sProviderSource = K8sProviderSource(),
            BootAssets = Optional("BOOT_ASSETS"),
            BaseImageMirror = BaseImageMirror(),
            SquashFsCompression = SquashFsCompression(),
            TrustedBoot = TrustedBoot(),
            NvidiaDrivers = NvidiaDrivers(),
            AmdGpuDrivers = AmdGpuDrivers(),
            SpectroPubRepo = Registry("SPECTRO_PUB_REPO"),
            SpectroLuetRepo = Registry("SPECTRO_LUET_REPO"),
            KairosBaseImageUrl = Registry("KAIROS_BASE_IMAGE_URL"),
            KairosInitVersion = Tag("KAIROS_INIT_VERSION"),
            KairosVersion = Version("KAIROS_VERSION"),
            StylusBase = Image("STYLUS_BASE"),
            StylusPackageBase = Image("STYLUS_PACKAGE_BASE"),
            ProviderVersions = ProviderVersionKeys.ToDictionary(p => p.Key, p => Tag(p.Value), StringComparer.Ordinal),
            K3sFlavorTag = Tag("K3S_FLAVOR_TAG"),
            Rke2FlavorTag = Tag("RKE2_FLAVOR_TAG"),
            SpectroThirdPartyImage = Image("SPECTRO_THIRD_PARTY_IMAGE"),
            EtcdVersion = Version("ETCD_VERSION"),
            KineVersion = KineVersion(),
            KineUrl = KineUrl(Final("KINE_VERSION"), Value("ARCH", "amd64")),
        };

        CheckCrossFieldRules(settings);
        CheckUnbuiltFeatureKeys();
        return settings;
    }

    /// <summary>The key holding the tag of each Kairos provider image (CanvOS's <c>kairos-provider-image</c> target).</summary>
    public static readonly IReadOnlyDictionary<string, string> ProviderVersionKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["k3s"] = "K3S_PROVIDER_VERSION",
        ["rke2"] = "RKE2_PROVIDER_VERSION",
        ["kubeadm"] = "KUBEADM_PROVIDER_VERSION",
        ["nodeadm"] = "NODEADM_PROVIDER_VERSION",
        ["canonical"] = "CANONICAL_PROVIDER_VERSION",
    };

    /// <summary>
    /// Keys of features this version does not build must not pass silently: setting one is a warning naming the
    /// feature, and a value that would change what CanvOS builds is an error, as <c>IS_UKI=true</c> is.
    /// </summary>
    private void CheckUnbuiltFeatureKeys()
    {
        foreach (var definition in BuildArgumentCatalog.All)
        {
            // The Earthfile's own defaults are CanvOS's, not the user's choice: only .arg, environment and command line count.
            if (_arguments.Get(definition.Key) is not { Source: ArgumentSource.ArgFile or ArgumentSource.Environment or ArgumentSource.CommandLine } set)
            {
                continue;
            }

            if (definition.Origin == BuildArgumentOrigin.CanvOSInternal)
            {
                Warning(definition.Key, "accepted without effect, unused here: it is plumbing of CanvOS's Earthfile, not a build option", "remove it");
            }
            else if (definition.RefusedWhenTrue)
            {
                // true would change the output, so it is refused rather than ignored; false is what is built anyway, but
                // a user who set it may think the feature is there, so it is said.
                if (Bool(definition.Key, false))
                {
                    Error(definition.Key, $"{definition.OnlyFor} are not done by this version of edgeforge; the images would silently be the standard ones",
                        $"set {definition.Key}=false");
                }
                else
                {
                    Warning(definition.Key, $"accepted without effect, not built yet: {definition.OnlyFor} are not done by this version of edgeforge", "remove it");
                }
            }
            else if (definition.OnlyFor is { } feature && set.Value.Length > 0)
            {
                Warning(definition.Key, $"accepted without effect, not built yet: only {feature} use it, and this version of edgeforge does not build them",
                    "remove it");
            }
            else if (definition.UnusedBecause is { } reason && set.Value.Length > 0)
            {
                Warning(definition.Key, $"accepted without effect, unused here: {reason}", "remove it");
            }
        }
    }

    private string Final(string key) => _arguments.Final(key)?.Value ?? "";

    private string Registry(string key)
    {
        var value = Final(key);
        var problem = value.Length == 0 ? "is empty" : ReferenceSyntax.RegistryProblem(value) is { } found ? $"'{value}' {found}" : null;
        if (problem is not null)
        {
            Error(key, problem, "use host[:port][/namespace], e.g. us-docker.pkg.dev/palette-images");
        }

        return value;
    }

    private string Tag(string key)
    {
        var value = Final(key);
        if (!ReferenceSyntax.IsTag(value))
        {
            Error(key, value.Length == 0 ? "is empty" : $"'{value}' is not a valid image tag", "use letters, digits, '_', '.' and '-' (not first), e.g. v4.10.3");
        }

        return value;
    }

    private string Version(string key)
    {
        var value = Final(key);
        if (!PeVersionPattern().IsMatch(value))
        {
            Error(key, $"'{value}' is not a version of the form vX.Y.Z", SemanticVersionPattern().IsMatch(value) ? $"write v{value}" : "e.g. v3.5.13");
        }

        return value;
    }

    private string Image(string key)
    {
        var value = Final(key);
        if (ReferenceSyntax.ImageReferenceProblem(value) is { } problem)
        {
            Error(key, $"'{value}' {problem}", "use registry/repository:tag or registry/repository@sha256:…");
        }

        return value;
    }

    private string KineVersion()
    {
        var value = Final("KINE_VERSION");
        if (!SemanticVersionPattern().IsMatch(value))
        {
            Error("KINE_VERSION", $"'{value}' is not a version of the form x.y.z", value.StartsWith('v') ? $"write {value[1..]} (CanvOS adds the v)" : "e.g. 0.15.0");
        }

        return value;
    }

    /// <summary>KINE_SOURCE, checked as a URL after its placeholders are replaced (it is fetched by the build, not in the sandbox).</summary>
    private string KineUrl(string version, string arch)
    {
        var template = Value("KINE_SOURCE", BuildArgumentCatalog.Find("KINE_SOURCE")!.Default);
        var url = template.Replace("{version}", version, StringComparison.Ordinal).Replace("{arch}", arch, StringComparison.Ordinal);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.Scheme is not ("http" or "https") || url.Contains('{', StringComparison.Ordinal))
        {
            Error("KINE_SOURCE", $"'{template}' is not an http:// or https:// URL (placeholders: {{version}}, {{arch}})",
                "e.g. https://mirror.example.com/kine/v{version}/kine-{arch}");
        }

        return url;
    }

    private void CheckCrossFieldRules(BuildSettings settings)
    {
        if (settings.FipsEnabled)
        {
            if (settings.K8sDistribution is not ("rke2" or "kubeadm-fips"))
            {
                Error("FIPS_ENABLED", $"FIPS builds need K8S_DISTRIBUTION rke2 or kubeadm-fips, not {settings.K8sDistribution}",
                    "set K8S_DISTRIBUTION=rke2 or K8S_DISTRIBUTION=kubeadm-fips");
            }

            if (settings.BaseImage is null)
            {
                Error("FIPS_ENABLED", "FIPS builds need BASE_IMAGE (a FIPS-enabled base OS image)", "set BASE_IMAGE to your FIPS base image");
            }

            if (settings.UpdateKernel)
            {
                Error("UPDATE_KERNEL", "cannot be true in a FIPS build: a newer kernel is not FIPS-certified", "set UPDATE_KERNEL=false");
            }
        }

        if (settings.UpdateKernel && PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            Error("UPDATE_KERNEL", $"the kernel upgrade is built for apt operating systems (ubuntu: the HWE kernel; debian: backports) by this version of edgeforge, not OS_DISTRIBUTION={settings.OsDistribution}",
                "set UPDATE_KERNEL=false, or upgrade the kernel with RUN lines after the Dockerfile's customisation marker");
        }

        // CanvOS's harden.sh knows Ubuntu (and RHEL only in parts); the controls are built for apt systems, where
        // Debian takes the same paths as Ubuntu (docs/decisions.md).
        if (settings.CisHardening && PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            Error("CIS_HARDENING", $"CIS hardening is built for apt operating systems (ubuntu, debian), not OS_DISTRIBUTION={settings.OsDistribution}",
                "set CIS_HARDENING=false, or harden the image with RUN lines after the Dockerfile's customisation marker");
        }

        if (settings.TwoNode && PackageFamilies.Of(settings.OsDistribution) is null)
        {
            Error("TWO_NODE", $"two-node images need PostgreSQL installed with apt or zypper, and OS_DISTRIBUTION={settings.OsDistribution} has neither (CanvOS installs it on ubuntu and opensuse-leap only)",
                "use OS_DISTRIBUTION ubuntu, debian, opensuse-leap or sles, or set TWO_NODE=false");
        }

        if (settings.TwoNode && !settings.CustomTag.Contains("two-node", StringComparison.Ordinal) &&
            !settings.CustomTag.Contains("2node", StringComparison.Ordinal))
        {
            Warning("TWO_NODE", "two-node images cannot be changed to single-node later, and nothing in the tag says so",
                "consider a CUSTOM_TAG that marks it, e.g. CUSTOM_TAG=two-node");
        }

        if (Planning.BuildRefusals.Iso(settings) is { } isoRefusal)
        {
            Warning("IS_UKI", isoRefusal, "build iso and build all refuse this combination; the standard installer (IS_UKI=false) is built for arm64");
        }

        if (Planning.BuildRefusals.ProviderImages(settings) is { } providerRefusal)
        {
            Warning("IS_UKI", providerRefusal, "build provider-images and build all refuse this combination");
        }

        CheckGpuDrivers(settings);

        if (settings.ImageRepo.Length > 0 && settings.ImageRegistry.Length > 0)
        {
            var sample = $"{settings.K8sDistribution}-{settings.K8sVersion ?? "1.00.00"}-{settings.PeVersion}" +
                (settings.CustomTag.Length > 0 ? "-" + settings.CustomTag : "");
            if (sample.Length > ReferenceSyntax.MaxTagLength)
            {
                Error("CUSTOM_TAG", $"makes provider image tags longer than {ReferenceSyntax.MaxTagLength} characters ({sample.Length})",
                    "shorten CUSTOM_TAG");
            }
        }
    }

    /// <summary>
    /// The GPU driver rules: CanvOS's mutual exclusion (its Earthfile fails the build), and what CanvOS would silently
    /// skip — its GPU block runs only in the Ubuntu amd64 branch of base-image and its scripts only with apt — refused.
    /// </summary>
    private void CheckGpuDrivers(BuildSettings settings)
    {
        if (settings.NvidiaDrivers is not null && settings.AmdGpuDrivers is not null)
        {
            Error("INSTALL_AMD_GPU_DRIVERS", "INSTALL_NVIDIA_GPU_DRIVERS and INSTALL_AMD_GPU_DRIVERS are mutually exclusive (CanvOS fails the build)",
                "set one of them to false: an image carries one vendor's driver");
            return;
        }

        var key = settings.NvidiaDrivers is not null ? "INSTALL_NVIDIA_GPU_DRIVERS" : settings.AmdGpuDrivers is not null ? "INSTALL_AMD_GPU_DRIVERS" : null;
        if (key is null)
        {
            return;
        }

        if (PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            Error(key, $"GPU drivers are installed with apt (CanvOS's driver scripts support Ubuntu and Debian only), not on OS_DISTRIBUTION={settings.OsDistribution}",
                $"use an ubuntu or debian image for GPU nodes, or set {key}=false");
        }

        if (settings.Arch != "amd64")
        {
            Error(key, $"GPU drivers are built for ARCH=amd64 only (CanvOS's base-image installs them in its amd64 branch; an {settings.Arch} image would ship without them)",
                $"build the GPU image with ARCH=amd64, or set {key}=false");
        }

        if (settings.TrustedBoot is not null)
        {
            Warning(key, "the DKMS-built driver modules are not signed: with Secure Boot enforcing, the kernel of a Trusted Boot image will refuse to load them",
                "CanvOS documents GPU nodes as standard (IS_UKI=false) images");
        }

        if (settings.NvidiaDrivers is { InstallImex: true, ImexInstalled: false } nvidia)
        {
            Warning("NVIDIA_INSTALL_IMEX", $"nvidia-imex is published from branch {NvidiaDriverSettings.FirstImexBranch} on, so branch {nvidia.Branch} is built without it (as CanvOS skips it)",
                "set NVIDIA_INSTALL_IMEX=false, or choose a newer NVIDIA_DRIVER_BRANCH");
        }
    }

    /// <summary>INSTALL_NVIDIA_GPU_DRIVERS and the NVIDIA_* keys; every key is checked even when the driver is not installed (a typo is a typo).</summary>
    private NvidiaDriverSettings? NvidiaDrivers()
    {
        var enabled = Bool("INSTALL_NVIDIA_GPU_DRIVERS", false);
        var branchText = Value("NVIDIA_DRIVER_BRANCH", "580");
        if (!int.TryParse(branchText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var branch) || branch is < 100 or > 9999)
        {
            var release = DriverReleasePattern().Match(branchText);
            Error("NVIDIA_DRIVER_BRANCH", $"'{branchText}' is not a driver branch",
                release.Success ? $"write the branch, {release.Groups[1].Value}: apt installs the newest release of it" : "write the branch number, e.g. 580 (check: apt-cache search 'nvidia-headless-.*-server')");
        }

        var typeText = Value("NVIDIA_DRIVER_TYPE", "open");
        var type = typeText switch
        {
            "open" => NvidiaDriverType.Open,
            "proprietary" => NvidiaDriverType.Proprietary,
            _ => (NvidiaDriverType?)null,
        };
        if (type is null)
        {
            // CanvOS's script takes anything but "open" as proprietary: a typo of "open" would install the closed modules.
            Error("NVIDIA_DRIVER_TYPE", $"'{typeText}' is not a driver type", "write open (Turing and newer; required on Hopper and Blackwell) or proprietary (pre-Turing GPUs)");
        }

        var settings = new NvidiaDriverSettings(
            branch,
            type ?? NvidiaDriverType.Open,
            Bool("NVIDIA_USE_CUDA_REPO", true),
            RepositoryUrl("NVIDIA_CUDA_REPO_URL"),
            Bool("NVIDIA_INSTALL_FABRICMANAGER", true),
            Bool("NVIDIA_INSTALL_IMEX", true),
            Bool("NVIDIA_INSTALL_CONTAINER_TOOLKIT", false),
            RepositoryUrl("NVIDIA_CONTAINER_TOOLKIT_REPO_URL"),
            Bool("NVIDIA_REBUILD_INITRD", true));
        return enabled ? settings : null;
    }

    /// <summary>INSTALL_AMD_GPU_DRIVERS and the AMDGPU_* keys.</summary>
    private AmdGpuDriverSettings? AmdGpuDrivers()
    {
        var enabled = Bool("INSTALL_AMD_GPU_DRIVERS", false);
        var sourceText = Value("AMDGPU_DRIVER_SOURCE", "dkms");
        var source = sourceText switch
        {
            "dkms" => AmdGpuDriverSource.Dkms,
            "inbox" => AmdGpuDriverSource.Inbox,
            _ => (AmdGpuDriverSource?)null,
        };
        if (source is null)
        {
            Error("AMDGPU_DRIVER_SOURCE", $"'{sourceText}' is not a driver source (CanvOS's script stops on it)",
                "write dkms (AMD's amdgpu-dkms, built for the image's kernel) or inbox (the kernel's own amdgpu module)");
        }

        var release = Value("AMDGPU_DRIVER_RELEASE", "31.40");
        if (!AmdGpuReleasePattern().IsMatch(release))
        {
            Error("AMDGPU_DRIVER_RELEASE", $"'{release}' is not an amdgpu-install release", "write the release segment of repo.radeon.com/amdgpu-install/<release>/, e.g. 31.40 or 7.2.1");
        }

        var artifact = Optional("AMDGPU_ARTIFACT_PATH");
        if (artifact is not null && Path.IsPathRooted(artifact))
        {
            Error("AMDGPU_ARTIFACT_PATH", $"'{artifact}' is an absolute path; CanvOS copies the artifact from the build context",
                "put the artifact inside the project (e.g. build/amdgpu-artifact-….tar.gz) and give its path relative to the project directory");
        }

        if (enabled && source == AmdGpuDriverSource.Inbox)
        {
            foreach (var dkmsOnly in new[] { "AMDGPU_ARTIFACT_PATH", "AMDGPU_DRIVER_RELEASE" })
            {
                if (_arguments.Get(dkmsOnly) is { Source: ArgumentSource.ArgFile or ArgumentSource.Environment or ArgumentSource.CommandLine, Value.Length: > 0 })
                {
                    Warning(dkmsOnly, "has no effect with AMDGPU_DRIVER_SOURCE=inbox: the in-tree amdgpu module is used and no AMD package is installed",
                        "remove it, or set AMDGPU_DRIVER_SOURCE=dkms");
                }
            }
        }

        var settings = new AmdGpuDriverSettings(
            source ?? AmdGpuDriverSource.Dkms,
            release,
            source == AmdGpuDriverSource.Dkms ? artifact : null,
            Bool("AMDGPU_INSTALL_SMI", true),
            Bool("AMDGPU_REBUILD_INITRD", false),
            RepositoryUrl("AMDGPU_REPO_URL"),
            RepositoryUrl("AMDGPU_ROCM_REPO_URL"));
        return enabled ? settings : null;
    }

    /// <summary>A repository base URL key (its default is the vendor's own): http or https, without a trailing slash.</summary>
    private string RepositoryUrl(string key)
    {
        var value = Value(key, BuildArgumentCatalog.Find(key)!.Default).TrimEnd('/');
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.Scheme is not ("http" or "https") ||
            value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '\'' or '"' or '#' or '$' or '`' or '\\'))
        {
            Error(key, $"'{value}' is not an http:// or https:// URL", $"give the base URL of the repository or of its mirror, e.g. {BuildArgumentCatalog.Find(key)!.Default}");
        }

        return value;
    }

    private string CustomTag()
    {
        var tag = Value("CUSTOM_TAG", "demo");
        if (tag.Length > 0 && !CustomTagPattern().IsMatch(tag))
        {
            Error("CUSTOM_TAG", $"'{tag}' would make an invalid image tag",
                "use lowercase letters, digits, '-', '_' and '.' only (e.g. palette-learn)");
        }

        return tag;
    }

    private string ImageRegistry()
    {
        var registry = Optional("IMAGE_REGISTRY");
        if (registry is null)
        {
            Error("IMAGE_REGISTRY", "is not set; every provider image is named after it",
                "set IMAGE_REGISTRY to your registry (and namespace), e.g. IMAGE_REGISTRY=registry.example.com/edge or IMAGE_REGISTRY=ttl.sh");
            return "";
        }

        if (ReferenceSyntax.RegistryProblem(registry) is { } problem)
        {
            Error("IMAGE_REGISTRY", $"'{registry}' {problem}", "use host[:port][/namespace], e.g. registry.example.com:5000/edge");
        }

        return registry;
    }

    private string ImageRepo(string osDistribution)
    {
        var repo = Optional("IMAGE_REPO") ?? osDistribution;
        if (!ReferenceSyntax.IsRepositoryPath(repo))
        {
            Error("IMAGE_REPO", $"'{repo}' is not a valid repository name", "use lowercase letters, digits and '.', '_', '-' between them; '/' separates path parts");
        }

        return repo;
    }

    private string OsVersion(string osDistribution, string? baseImage)
    {
        var version = Value("OS_VERSION", "22.04");
        switch (osDistribution)
        {
            case "ubuntu" when UbuntuVersions.TryGetValue(version, out var normalised):
                return normalised;
            case "ubuntu" when baseImage is null:
                Error("OS_VERSION", $"Ubuntu {version} has no default base image", "use 20.04, 22.04 or 24.04 (or 20, 22, 24), or set BASE_IMAGE");
                return version;
            case "opensuse-leap" when version is "15.6":
                return version;
            case "opensuse-leap" when baseImage is null:
                Error("OS_VERSION", $"openSUSE Leap {version} has no default base image", "use 15.6, or set BASE_IMAGE");
                return version;
            default:
                if (!OsVersionPattern().IsMatch(version))
                {
                    Error("OS_VERSION", $"'{version}' is not a valid version", "use digits and dots, e.g. 9.4");
                }

                return version;
        }
    }

    private string? K8sVersion()
    {
        var version = Optional("K8S_VERSION");
        if (version is null)
        {
            return null;
        }

        if (version.StartsWith('v') && SemanticVersionPattern().IsMatch(version[1..]))
        {
            Error("K8S_VERSION", $"'{version}' has a leading 'v'", $"write {version[1..]}");
        }
        else if (version.Contains('+'))
        {
            Error("K8S_VERSION", $"'{version}' has a build suffix", $"write {version[..version.IndexOf('+')]}; the distribution adds its own suffix");
        }
        else if (!SemanticVersionPattern().IsMatch(version))
        {
            Error("K8S_VERSION", $"'{version}' is not a version of the form x.y.z", "e.g. K8S_VERSION=1.27.2");
        }

        return version;
    }

    private string IsoName()
    {
        var name = Value("ISO_NAME", "palette-edge-installer");
        if (!IsoNamePattern().IsMatch(name))
        {
            Error("ISO_NAME", $"'{name}' is not a valid ISO name", "use lowercase letters, digits, '-' and '_' (no spaces, no .iso)");
        }

        return name;
    }

    private string Arch()
    {
        var arch = Value("ARCH", "amd64");
        if (!Architectures.Contains(arch))
        {
            var hint = ArchitectureAliases.TryGetValue(arch, out var alias) ? $"write ARCH={alias}" : "use amd64 or arm64";
            Error("ARCH", $"'{arch}' is not a supported architecture", hint);
        }

        return arch;
    }

    private string PeVersion()
    {
        var version = Value("PE_VERSION", BuildArgumentCatalog.PinnedAgentVersion);
        if (!PeVersionPattern().IsMatch(version))
        {
            var hint = SemanticVersionPattern().IsMatch(version) ? $"write v{version}" : $"use vX.Y.Z, e.g. {BuildArgumentCatalog.PinnedAgentVersion}";
            Error("PE_VERSION", $"'{version}' is not an agent version", hint);
        }

        return version;
    }

    private string ProxyUrl(string key)
    {
        var value = Value(key, "");
        if (value.Length == 0)
        {
            return value;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0 ||
            uri.Scheme is not ("http" or "https" or "socks5" or "socks5h"))
        {
            // The value may carry credentials: never echo it.
            Error(key, "is not a proxy URL", "use http://host:port (https:// and socks5:// also work)");
        }

        return value;
    }

    private string NoProxy()
    {
        var value = Value("NO_PROXY", "");
        foreach (var entry in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!NoProxyEntryPattern().IsMatch(entry))
            {
                Error("NO_PROXY", $"'{entry}' is not a host, domain, IP address or CIDR", "list entries like localhost,.example.com,10.0.0.0/8 separated by commas");
            }
        }

        return value;
    }

    private string? ProxyCertPath()
    {
        var path = Optional("PROXY_CERT_PATH");
        if (path is null)
        {
            return null;
        }

        Warning("PROXY_CERT_PATH", "is deprecated", "put the certificate into the certs/ directory instead (any number of PEM files)");
        if (!Path.IsPathRooted(path))
        {
            Error("PROXY_CERT_PATH", $"'{path}' is not an absolute path", "give the absolute path of the PEM file, or move it into certs/");
        }

        return path;
    }

    private string? K8sProviderSource()
    {
        var template = Optional("K8S_PROVIDER_SOURCE");
        if (template is null)
        {
            return null;
        }

        foreach (Match placeholder in PlaceholderPattern().Matches(template))
        {
            if (placeholder.Value is not ("{distribution}" or "{version}" or "{arch}"))
            {
                Error("K8S_PROVIDER_SOURCE", $"unknown placeholder {placeholder.Value}", "the placeholders are {distribution}, {version} and {arch}");
                return template;
            }
        }

        if (!template.Contains("{version}", StringComparison.Ordinal))
        {
            Error("K8S_PROVIDER_SOURCE", "has no {version} placeholder, so every Kubernetes version would get the same binaries",
                "e.g. registry.example.com/edge/k8s-{distribution}:{version}");
        }

        var sample = template.Replace("{distribution}", "k3s").Replace("{version}", "1.30.0").Replace("{arch}", "amd64");
        if (ReferenceSyntax.ImageReferenceProblem(sample) is { } problem)
        {
            Error("K8S_PROVIDER_SOURCE", $"does not give a valid image reference: '{sample}' {problem}",
                "e.g. registry.example.com/edge/k8s-{distribution}:{version}");
        }

        return template;
    }

    private string? BaseImageMirror()
    {
        var mirror = Optional("BASE_IMAGE_MIRROR");
        if (mirror is not null && ReferenceSyntax.RegistryProblem(mirror) is { } problem)
        {
            Error("BASE_IMAGE_MIRROR", $"'{mirror}' {problem}", "use host[:port][/namespace]");
        }

        return mirror;
    }

    private SquashFsCompression SquashFsCompression()
    {
        var value = Value("SQUASHFS_COMPRESSION", "zstd:3");
        var match = CompressionPattern().Match(value);
        if (!match.Success)
        {
            Error("SQUASHFS_COMPRESSION", $"'{value}' is not a compressor", "use zstd, zstd:N (1-22), gzip or gzip:N (1-9)");
            return new SquashFsCompression(SquashFsCompressor.Zstd, 3);
        }

        var compressor = match.Groups[1].Value == "gzip" ? SquashFsCompressor.Gzip : SquashFsCompressor.Zstd;
        var (defaultLevel, maxLevel) = compressor == SquashFsCompressor.Gzip ? (9, 9) : (3, 22);
        var level = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : defaultLevel;
        if (level < 1 || level > maxLevel)
        {
            Error("SQUASHFS_COMPRESSION", $"level {level} is out of range for {match.Groups[1].Value}", $"use a level from 1 to {maxLevel}");
        }

        return new SquashFsCompression(compressor, level);
    }

    /// <summary>IS_UKI=true and the keys that shape the Trusted Boot ISO; null for the standard build.</summary>
    private TrustedBootSettings? TrustedBoot()
    {
        var enabled = Bool("IS_UKI", false);
        foreach (var definition in BuildArgumentCatalog.All.Where(d => d.OnlyWith is not null))
        {
            if (!Bool(definition.OnlyWith!, false) && _arguments.Get(definition.Key) is { Source: ArgumentSource.ArgFile or ArgumentSource.Environment or ArgumentSource.CommandLine })
            {
                Warning(definition.Key, $"has no effect: {definition.OnlyWith}=false", $"remove it, or set {definition.OnlyWith}=true");
            }
        }

        // Options of key generation, unused by the build, but a typo in their values is still a typo.
        _ = Bool("UKI_BRING_YOUR_OWN_KEYS", false);
        _ = Bool("INCLUDE_MS_SECUREBOOT_KEYS", true);
        var autoEnroll = Bool("AUTO_ENROLL_SECUREBOOT_KEYS", false);
        var cmdline = Value("CMDLINE", "stylus.registration").Trim();
        var branding = Value("BRANDING", "Palette eXtended Kubernetes Edge").Trim();
        if (cmdline.Any(char.IsControl))
        {
            Error("CMDLINE", "holds a control character (a kernel command line is one line of words)", "write the words on one line");
        }

        if (branding.Length == 0 || branding.Any(char.IsControl))
        {
            Error("BRANDING", "must be one line of text (it is the boot menu entry's title)", "write a title such as \"Palette eXtended Kubernetes Edge\"");
        }

        var efiMax = MiB("EFI_MAX_SIZE", 2048);
        var efiImage = MiB("EFI_IMG_SIZE", 2200);
        if (enabled && efiMax > efiImage)
        {
            Error("EFI_MAX_SIZE", $"{efiMax} MiB is larger than EFI_IMG_SIZE={efiImage} MiB: the unified kernel image lives inside the EFI partition",
                "make EFI_IMG_SIZE at least EFI_MAX_SIZE");
        }

        return enabled ? new TrustedBootSettings(autoEnroll, cmdline, branding, efiMax, efiImage) : null;
    }

    private int MiB(string key, int fallback)
    {
        var text = Value(key, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value is < 1 or > 1 << 20)
        {
            Error(key, $"'{text}' is not a size in MiB", $"write a whole number of MiB, e.g. {fallback}");
            return fallback;
        }

        return value;
    }

    private bool Bool(string key, bool fallback)
    {
        var value = Optional(key);
        if (value is null)
        {
            return fallback;
        }

        if (string.Equals(value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.Equals(value, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Error(key, $"'{value}' is not a boolean", "write true or false");
        return fallback;
    }

    /// <summary>The explicit value, or the default when the key is unset.</summary>
    private string Value(string key, string fallback) => _arguments.Get(key)?.Value ?? fallback;

    /// <summary>The explicit value, or null when the key is unset or empty (CanvOS treats <c>KEY=</c> as unset).</summary>
    private string? Optional(string key) => _arguments.Get(key)?.Value is { Length: > 0 } value ? value : null;

    private void Error(string key, string message, string hint)
    {
        _failed.Add(key);
        if (_arguments.ReferencesOf(key).Any(_failed.Contains))
        {
            return;
        }

        var (file, line) = _arguments.LocationOf(key);
        _diagnostics.Error(file, message, line, key, hint);
    }

    private void Warning(string key, string message, string hint = "")
    {
        var (file, line) = _arguments.LocationOf(key);
        _diagnostics.Warning(file, message, line, key, hint.Length == 0 ? null : hint);
    }

    [GeneratedRegex("^[a-z0-9_.-]+$")]
    private static partial Regex CustomTagPattern();

    [GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial Regex IsoNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex OsNamePattern();

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z._-]*$")]
    private static partial Regex OsVersionPattern();

    [GeneratedRegex(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")]
    public static partial Regex SemanticVersionPattern();

    [GeneratedRegex(@"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$")]
    private static partial Regex PeVersionPattern();

    [GeneratedRegex(@"^(\*|\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?|\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?(:\d{1,5})?|\[?[0-9A-Fa-f:]+\]?(/\d{1,3})?)$")]
    private static partial Regex NoProxyEntryPattern();

    [GeneratedRegex(@"^([1-9][0-9]{2,3})\.[0-9]+(\.[0-9]+)?$")]
    private static partial Regex DriverReleasePattern();

    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,3}){1,3}$")]
    private static partial Regex AmdGpuReleasePattern();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^(zstd|gzip)(?::(\d{1,3}))?$")]
    private static partial Regex CompressionPattern();
}
