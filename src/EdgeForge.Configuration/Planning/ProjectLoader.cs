using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.Kubernetes;
using EdgeForge.Configuration.UserData;

namespace EdgeForge.Configuration.Planning;

/// <summary>What the command line adds to a project directory.</summary>
public sealed record ProjectOptions
{
    /// <summary><c>--build-arg KEY=VALUE</c>, overriding the <c>.arg</c> file and the environment.</summary>
    public IReadOnlyDictionary<string, string> BuildArguments { get; init; } = new Dictionary<string, string>();

    /// <summary><c>--k8s-version a,b</c>: build only these of the selected versions.</summary>
    public IReadOnlyList<string> K8sVersionFilter { get; init; } = [];

    /// <summary>Environment lookup (tests pass their own, so the machine's environment never leaks into them).</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>
    /// <c>--allow-external-links</c>: read inputs that resolve outside the project directory (through a symbolic link,
    /// <c>..</c> or an absolute path). Off by default, so a link cannot carry a file from elsewhere into a build or a message.
    /// </summary>
    public bool AllowExternalLinks { get; init; }
}

/// <summary>Everything validation found, and the plan when nothing was an error.</summary>
public sealed record ProjectLoadResult(BuildPlan? Plan, DiagnosticBag Diagnostics);

/// <summary>
/// Reads and validates a CanvOS-style project directory — every input, every problem at once — and resolves the
/// build plan. Nothing heavy happens here: this runs before any pull, build or write.
/// </summary>
public static class ProjectLoader
{
    public const string ArgFileName = ".arg";
    public const string UserDataFileName = "user-data";
    public const string DockerfileName = "Dockerfile";
    public const string DockerignoreName = ".dockerignore";
    public const string IsoVolumeId = "COS_LIVE";

    /// <summary>The label of a Trusted Boot installer (AuroraBoot's UKI ISO: <c>xorriso -V UKI_ISO_INSTALL</c>).</summary>
    public const string TrustedBootIsoVolumeId = "UKI_ISO_INSTALL";

    public static ProjectLoadResult Load(string projectDirectory, ProjectOptions options)
    {
        var diagnostics = new DiagnosticBag();
        var directory = Path.GetFullPath(projectDirectory);
        if (!Directory.Exists(directory))
        {
            diagnostics.Error(projectDirectory, "no such directory", hint: "give the path of a CanvOS project directory, or create one with: edgeforge init DIR");
            return new ProjectLoadResult(null, diagnostics);
        }

        var inputs = new InputFileReader(directory, options.AllowExternalLinks);
        var argPath = Path.Combine(directory, ArgFileName);
        string? argText = null;
        switch (inputs.ProbeFile(argPath, ArgFileName, diagnostics))
        {
            case InputFileState.Usable:
                argText = inputs.ReadText(argPath, ArgFileName, diagnostics, 1 << 20);
                break;
            case InputFileState.Missing:
                diagnostics.Warning(ArgFileName, "not found: defaults and --build-arg values are used", hint: "create it with: edgeforge init (or copy CanvOS's .arg.template)");
                break;
        }

        var earthfilePath = Path.Combine(directory, EarthfileArguments.FileName);
        IReadOnlyList<EarthfileArgument>? earthfile = null;
        if (inputs.ProbeFile(earthfilePath, EarthfileArguments.FileName, diagnostics) == InputFileState.Usable &&
            inputs.ReadText(earthfilePath, EarthfileArguments.FileName, diagnostics) is { } earthfileText)
        {
            earthfile = EarthfileArguments.Parse(EarthfileArguments.FileName, earthfileText, diagnostics);
        }

        var arguments = BuildArguments.Load(ArgFileName, argText, options.BuildArguments, options.Environment, diagnostics, earthfile);
        var settings = BuildSettingsResolver.Resolve(arguments, diagnostics);

        var versions = LoadKubernetesVersions(inputs, diagnostics);
        var selected = settings is not null && versions is not null ? SelectVersions(settings, versions, arguments, options, diagnostics) : null;

        var userData = LoadUserData(inputs, settings, diagnostics);
        var certificates = ProjectInputs.Certificates(inputs, settings?.ProxyCertPath, arguments.LocationOf("PROXY_CERT_PATH"), diagnostics);
        var edgeCustomConfig = settings is null ? null : ProjectInputs.EdgeCustomConfig(inputs, settings.EdgeCustomConfig,
            arguments.Get("EDGE_CUSTOM_CONFIG")?.Value is null or "" or BuildArgumentCatalog.DefaultEdgeCustomConfig, arguments.LocationOf("EDGE_CUSTOM_CONFIG"), diagnostics);
        var clusterConfig = settings?.ClusterConfig is { } clusterPath ? ProjectInputs.ClusterConfig(inputs, clusterPath, arguments.LocationOf("CLUSTERCONFIG"), diagnostics) : null;
        var bundles = ProjectInputs.ContentBundles(inputs, diagnostics);
        var customisations = LoadDockerfile(inputs, diagnostics);
        CheckBuildArgumentsUsed(arguments, customisations, diagnostics);
        // The build reads .dockerignore itself; only whether it is a readable file is decided here, before anything runs.
        if (inputs.ProbeFile(Path.Combine(directory, DockerignoreName), DockerignoreName, diagnostics) == InputFileState.Usable)
        {
            inputs.ReadText(Path.Combine(directory, DockerignoreName), DockerignoreName, diagnostics, 1 << 20);
        }

        var overlay = ProjectInputs.Overlay(inputs, diagnostics);
        var luetAuth = ProjectInputs.LuetAuth(inputs, diagnostics);
        CheckBootAssets(directory, settings, arguments.LocationOf("BOOT_ASSETS"), diagnostics);
        string? trustedBootCloudConfig = null;
        if (settings?.TrustedBoot is not null)
        {
            trustedBootCloudConfig = ProjectInputs.TrustedBootCloudConfig(inputs, arguments.LocationOf("IS_UKI"), diagnostics);
            CheckTrustedBootKeys(directory, arguments.LocationOf("IS_UKI"), diagnostics);
        }

        var amdGpuArtifact = settings?.AmdGpuDrivers?.ArtifactPath is { } artifactPath
            ? ProjectInputs.AmdGpuArtifact(inputs, artifactPath, arguments.LocationOf("AMDGPU_ARTIFACT_PATH"), diagnostics)
            : null;
        var sources = settings is null ? null : UpstreamSourceFormulas.Resolve(settings, arguments, diagnostics);
        if (diagnostics.HasErrors || settings is null || selected is null || sources is null || versions is null)
        {
            return new ProjectLoadResult(null, diagnostics);
        }

        var images = selected.Select(version => ProviderImage(settings, version)).ToList();
        var embedded = new EmbeddedInputs(userData, edgeCustomConfig, clusterConfig, bundles, certificates, overlay, luetAuth, trustedBootCloudConfig, amdGpuArtifact);
        var buildDirectory = Path.Combine(directory, "build");
        var isoPath = Path.Combine(buildDirectory, settings.IsoName + ".iso");
        var plan = new BuildPlan
        {
            ProjectDirectory = directory,
            Settings = settings,
            BuildArguments = arguments.Explicit.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
            Values = arguments.Values,
            Earthfile = earthfile is null ? null : earthfilePath,
            Sources = sources,
            BaseImage = sources.Base.Reference,
            BaseImageIsDefault = settings.BaseImage is null,
            KubernetesVersionSource = versions.Source,
            KubernetesVersionsAvailable = versions.VersionsOf(settings.K8sDistribution).Count,
            ProviderImages = images,
            Iso = new IsoPlan(isoPath, isoPath + ".sha256", settings.TrustedBoot is null ? IsoVolumeId : TrustedBootIsoVolumeId, settings.SquashFsCompression, settings.ForceInteractiveInstall ? 2 : 0),
            Inputs = embedded,
            Customisations = customisations,
            Estimate = Estimate(settings, images, embedded),
        };
        return new ProjectLoadResult(plan, diagnostics);
    }

    /// <summary>The provider image reference of one Kubernetes version (EDGEFORGE.md §4): no trailing dash when CUSTOM_TAG is empty.</summary>
    public static ProviderImagePlan ProviderImage(BuildSettings settings, string k8sVersion)
    {
        var tag = $"{settings.K8sDistribution}-{k8sVersion}-{settings.PeVersion}" + (settings.CustomTag.Length > 0 ? "-" + settings.CustomTag : "");
        var repository = $"{settings.ImageRegistry}/{settings.ImageRepo}";
        // The override applies whenever it is set: with BUNDLE_K8S_AND_AGENT_PROVIDER=false the build still bundles on
        // bases older than systemd 255, and then takes Kubernetes from here instead of the luet package.
        var source = settings.K8sProviderSource is { } template
            ? template.Replace("{distribution}", settings.K8sDistribution).Replace("{version}", k8sVersion).Replace("{arch}", settings.Arch)
            : null;
        return new ProviderImagePlan($"{repository}:{tag}", repository, tag, settings.K8sDistribution, k8sVersion, source,
            UpstreamSourceFormulas.LuetPackage(settings, k8sVersion));
    }

    private static KubernetesVersionCatalog? LoadKubernetesVersions(InputFileReader inputs, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, KubernetesVersionCatalog.FileName);
        switch (inputs.ProbeFile(path, KubernetesVersionCatalog.FileName, diagnostics))
        {
            case InputFileState.Missing:
                return KubernetesVersionCatalog.BuiltIn();
            case InputFileState.Refused:
                return null;
        }

        var text = inputs.ReadText(path, KubernetesVersionCatalog.FileName, diagnostics, 1 << 20);
        return text is null ? null : KubernetesVersionCatalog.Parse(KubernetesVersionCatalog.FileName, text, diagnostics);
    }

    private static List<string>? SelectVersions(BuildSettings settings, KubernetesVersionCatalog catalog, BuildArguments arguments,
        ProjectOptions options, DiagnosticBag diagnostics)
    {
        var listed = catalog.VersionsOf(settings.K8sDistribution);
        if (listed.Count == 0)
        {
            var (file, line) = arguments.LocationOf("K8S_DISTRIBUTION");
            diagnostics.Error(file, $"{catalog.Source} lists no versions for {settings.K8sDistribution}", line, "K8S_DISTRIBUTION",
                $"add a \"{settings.K8sDistribution}\" list to {KubernetesVersionCatalog.FileName}");
            return null;
        }

        List<string> selected;
        if (settings.K8sVersion is { } wanted)
        {
            if (!listed.Contains(wanted))
            {
                var (file, line) = arguments.LocationOf("K8S_VERSION");
                diagnostics.Error(file, $"{wanted} is not listed for {settings.K8sDistribution} in {catalog.Source}", line, "K8S_VERSION",
                    VersionHint(wanted, listed));
                return null;
            }

            selected = [wanted];
        }
        else
        {
            selected = listed.ToList();
        }

        if (options.K8sVersionFilter.Count == 0)
        {
            return selected;
        }

        var filtered = new List<string>();
        foreach (var version in options.K8sVersionFilter)
        {
            if (!BuildSettingsResolver.SemanticVersionPattern().IsMatch(version))
            {
                diagnostics.Error("--k8s-version", $"'{version}' is not a version of the form x.y.z", hint: "e.g. --k8s-version 1.30.4,1.29.8");
            }
            else if (!selected.Contains(version))
            {
                diagnostics.Error("--k8s-version", settings.K8sVersion is null
                    ? $"{version} is not listed for {settings.K8sDistribution} in {catalog.Source}"
                    : $"{version} is not the K8S_VERSION being built ({settings.K8sVersion})", hint: VersionHint(version, selected));
            }
            else if (!filtered.Contains(version))
            {
                filtered.Add(version);
            }
        }

        return diagnostics.HasErrors ? null : filtered;
    }

    private static string VersionHint(string wanted, IReadOnlyList<string> listed)
    {
        var minor = string.Join('.', wanted.Split('.').Take(2)) + ".";
        var close = listed.Where(v => v.StartsWith(minor, StringComparison.Ordinal)).ToList();
        return close.Count > 0
            ? $"listed {minor}x versions: {string.Join(", ", close)}"
            : $"listed versions: {string.Join(", ", listed.TakeLast(8))}{(listed.Count > 8 ? " (and older)" : "")}";
    }

    private static UserDataFile? LoadUserData(InputFileReader inputs, BuildSettings? settings, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, UserDataFileName);
        switch (inputs.ProbeFile(path, UserDataFileName, diagnostics))
        {
            case InputFileState.Missing:
                diagnostics.Warning(UserDataFileName, "not found: the ISO will carry no user data and the installer will ask interactively",
                    hint: "create it (edgeforge init writes one), or copy CanvOS's user-data.template and fill it in");
                return null;
            case InputFileState.Refused:
                return null;
        }

        var text = inputs.ReadText(path, UserDataFileName, diagnostics);
        if (text is null)
        {
            return null;
        }

        var summary = UserDataValidator.Validate(UserDataFileName, text, diagnostics);
        if (summary is not null && settings?.FipsEnabled == true && !text.Contains("fips=1", StringComparison.Ordinal))
        {
            diagnostics.Error(UserDataFileName, "FIPS_ENABLED=true but install.grub_options.extra_cmdline does not contain fips=1", key: "install.grub_options.extra_cmdline",
                hint: "add under install: grub_options: extra_cmdline: \"fips=1\" — FIPS images must boot in FIPS mode");
        }

        return summary is null ? null : new UserDataFile(path, UserDataFileName, summary);
    }

    private static DockerfileCustomisations LoadDockerfile(InputFileReader inputs, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, DockerfileName);
        if (inputs.ProbeFile(path, DockerfileName, diagnostics) != InputFileState.Usable)
        {
            return DockerfileCustomisations.None;
        }

        var text = inputs.ReadText(path, DockerfileName, diagnostics, 1 << 20);
        return text is null ? DockerfileCustomisations.None : DockerfileParser.Parse(DockerfileName, text, inputs, diagnostics);
    }

    /// <summary>
    /// Keys CanvOS only passes to the Dockerfile (<c>DRBD_VERSION</c> for its commented-out DRBD module build) do
    /// nothing unless the customisations declare them with <c>ARG</c>: a set value would otherwise be accepted silently.
    /// </summary>
    private static void CheckBuildArgumentsUsed(BuildArguments arguments, DockerfileCustomisations customisations, DiagnosticBag diagnostics)
    {
        foreach (var definition in BuildArgumentCatalog.All.Where(d => d.DockerfileOnly))
        {
            if (arguments.Get(definition.Key) is not { Source: ArgumentSource.ArgFile or ArgumentSource.Environment or ArgumentSource.CommandLine } set ||
                customisations.Instructions.OfType<ArgInstruction>().Any(a => a.Name == definition.Key))
            {
                continue;
            }

            var (file, line) = arguments.LocationOf(definition.Key);
            diagnostics.Warning(file, $"accepted without effect, unused here: the Dockerfile's customisations declare no ARG {definition.Key}", line, definition.Key,
                $"add 'ARG {definition.Key}' below the customisation marker where a RUN uses it, or remove the line");
        }
    }

    /// <summary>
    /// IS_UKI=true signs with the project's key set (CanvOS keeps it in secure-boot/, made by +uki-genkey): every problem
    /// with it is reported before anything is pulled, each naming its file.
    /// </summary>
    private static void CheckTrustedBootKeys(string directory, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        var keys = Path.Combine(directory, TrustedBootSettings.KeysDirectory);
        foreach (var problem in EdgeForge.TrustedBoot.SecureBoot.SecureBootKeySet.Validate(keys))
        {
            diagnostics.Error(location.File, $"Trusted Boot key set: {problem.Replace(directory + "/", "", StringComparison.Ordinal)}", location.Line, "IS_UKI",
                $"make the set with: edgeforge keys secureboot -o {TrustedBootSettings.KeysDirectory} --org \"$MY_ORG\" (CanvOS: earthly +uki-genkey)");
        }
    }

    private static void CheckBootAssets(string directory, BuildSettings? settings, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        if (settings?.BootAssets is not { } assets)
        {
            return;
        }

        var looksLikePath = assets.StartsWith('/') || assets.StartsWith('.') || Directory.Exists(Path.Combine(directory, assets));
        if (looksLikePath)
        {
            if (!Directory.Exists(Path.Combine(directory, assets)))
            {
                diagnostics.Error(location.File, $"directory '{assets}' does not exist", location.Line, "BOOT_ASSETS",
                    settings.Arch == "arm64"
                        ? "give a directory holding EFI/BOOT/bootaa64.efi (arm64 boots by UEFI only), or an image reference"
                        : "give a directory holding eltorito.img, boot_hybrid.img and EFI/BOOT/, or an image reference");
            }
        }
        else if (ReferenceSyntax.ImageReferenceProblem(assets) is { } problem)
        {
            diagnostics.Error(location.File, $"'{assets}' is neither a directory nor an image reference: it {problem}", location.Line, "BOOT_ASSETS");
        }
    }

    /// <summary>A Kairos kernel (~15 MB), its initramfs (~100 MB with dracut's modules) and the ESP (a few MB), rounded up.</summary>
    private const long CapturedBootFilesBytes = 128L << 20;

    /// <summary>
    /// Shared layers once (base + customisations), one Kubernetes layer per image, the installer (SquashFS about the
    /// size of the compressed base) plus embedded files, and the boot files captured while the ISO is written (the
    /// SquashFS goes straight into the ISO, which is renamed into place, so nothing else is temporary).
    /// Kubernetes layers are always counted: with BUNDLE_K8S_AND_AGENT_PROVIDER=false the base's systemd decides at
    /// build time whether they are bundled, and an estimate must not come out short.
    /// </summary>
    private static DiskEstimate Estimate(BuildSettings settings, IReadOnlyList<ProviderImagePlan> images, EmbeddedInputs inputs)
    {
        var catalog = BaseImageCatalog.BuiltIn;
        var baseBytes = catalog.TypicalCompressedBytes(settings.BaseImage is null ? settings.OsDistribution : "other");
        var kubernetes = images.Count * catalog.KubernetesLayerBytes(settings.K8sDistribution);
        var embedded = inputs.ContentBundles.Sum(b => b.Size) + (inputs.ClusterConfig?.Size ?? 0);
        var iso = baseBytes + (baseBytes / 10) + embedded;
        var parts = new List<KeyValuePair<string, long>>
        {
            new("base image and shared layers", baseBytes),
            new($"Kubernetes layers ({images.Count} × {settings.K8sDistribution})", kubernetes),
            new("installer ISO", iso),
            new("boot files captured while writing the ISO (kernel, initramfs, ESP)", CapturedBootFilesBytes),
        };
        return new DiskEstimate(parts.Sum(p => p.Value), parts);
    }
}
