using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Planning;

namespace EdgeForge.Cli.Commands;

/// <summary>The build plan as text for people and as JSON for scripts. Proxy credentials are masked; no secret is printed.</summary>
internal static class PlanReport
{
    public static void WriteText(TextWriter writer, BuildPlan plan)
    {
        var settings = plan.Settings;
        var inputs = plan.Inputs;
        writer.WriteLine($"Project          {plan.ProjectDirectory}");
        writer.WriteLine($"Target           {settings.OsDistribution} {settings.OsVersion}, {settings.Arch}, agent {settings.PeVersion}" +
                         (settings.FipsEnabled ? ", FIPS" : "") + (settings.TwoNode ? ", two-node" : ""));
        writer.WriteLine($"Base image       {plan.BaseImage} ({(plan.BaseImageIsDefault ? "default for the OS" : "BASE_IMAGE")})");
        writer.WriteLine($"Kubernetes       {settings.K8sDistribution}: {plan.ProviderImages.Count} of {plan.KubernetesVersionsAvailable} versions listed in {plan.KubernetesVersionSource}" +
                         (settings.BundleK8sAndAgentProvider ? " (binaries always bundled)" : " (binaries bundled only when the base's systemd is older than 255)"));
        writer.WriteLine($"Provider images  {plan.ProviderImages.Count}");
        foreach (var image in plan.ProviderImages)
        {
            writer.WriteLine($"  {image.Reference}  (Kubernetes: {image.K8sSource ?? "luet " + image.LuetPackage})");
        }

        var sources = plan.Sources;
        writer.WriteLine("Upstream images");
        foreach (var upstream in sources.All)
        {
            writer.WriteLine($"  {upstream.Role,-18} {upstream.Reference}  (set by {upstream.SetBy})");
        }

        writer.WriteLine($"  {"etcdctl",-18} {sources.ThirdParty.Reference} /{sources.EtcdctlPath}");

        writer.WriteLine($"Installer ISO    {Relative(plan, plan.Iso.Path)} (+ .sha256), volume {plan.Iso.VolumeId}, rootfs {plan.Iso.RootfsCompression}, " +
                         $"default entry {plan.Iso.DefaultBootEntry}");
        writer.WriteLine($"  user data        {(inputs.UserData is { } u ? $"{u.DisplayName} ({u.Summary.ManagementMode} management{(u.Summary.HasRegistrationToken ? ", registration token set" : "")})" : "none")}");
        writer.WriteLine($"  signing key      {(inputs.EdgeCustomConfig is { KeyBits: > 0 } k ? $"{k.DisplayName} (RSA {k.KeyBits})" : "none")}");
        writer.WriteLine($"  cluster config   {(inputs.ClusterConfig is { } c ? $"{c.DisplayName} ({Size(c.Size)}, {c.EntryCount} entries)" : "none")}");
        writer.WriteLine($"  content bundles  {(inputs.ContentBundles.Count == 0 ? "none" : string.Join(", ", inputs.ContentBundles.Select(b => $"{b.DisplayName} ({Size(b.Size)}, {Parts(b.Size)} part{(Parts(b.Size) == 1 ? "" : "s")})")))}");
        writer.WriteLine($"  overlay          {Overlay(plan)}");
        writer.WriteLine($"  luet auth        {(inputs.LuetAuth is { } auth ? $"{Relative(plan, auth.Path)} ({string.Join(", ", auth.Auth.Keys.Order(StringComparer.Ordinal))})" : "none")}");
        writer.WriteLine($"GPU drivers      {GpuDrivers(settings)}");
        writer.WriteLine($"CA certificates  {(inputs.Certificates.Count == 0 ? "none" : string.Join(", ", inputs.Certificates.Select(c => c.DisplayName)))}");
        writer.WriteLine($"Customisations   {(plan.Customisations.Instructions.Count == 0 ? "none" : $"{plan.Customisations.Path}: " + string.Join(", ", plan.Customisations.Instructions.GroupBy(i => i.Keyword).Select(g => $"{g.Key} ×{g.Count()}")))}");
        if (settings.HttpProxy.Length + settings.HttpsProxy.Length > 0)
        {
            writer.WriteLine($"Build proxy      {MaskCredentials(settings.HttpsProxy.Length > 0 ? settings.HttpsProxy : settings.HttpProxy)} (pulls, pushes and RUN steps; NO_PROXY {(settings.NoProxy.Length > 0 ? settings.NoProxy : "unset")}; never stored in images or the lock)");
        }

        writer.WriteLine($"Disk estimate    about {Size(plan.Estimate.TotalBytes)}: " +
                         string.Join(", ", plan.Estimate.Parts.Where(p => p.Value > 0).Select(p => $"{p.Key} {Size(p.Value)}")));

        // Only what a reader needs to check: values that are not the built-in ones, and anything taken from the
        // environment or the command line (an exported variable silently beating .arg is the classic surprise).
        var shown = plan.Values.Where(v => !v.SameAsBuiltIn || v.Origin is ArgumentSource.Environment or ArgumentSource.CommandLine).ToList();
        writer.WriteLine($"Values           {(shown.Count == 0 ? "all built-in" : $"{shown.Count} not built-in{(plan.Earthfile is null ? "" : ", defaults from Earthfile")}")}");
        foreach (var value in shown)
        {
            var overrides = value.Overrides is { } lower ? $" — overrides {lower.Describe()}" : "";
            writer.WriteLine($"  {value.Key}={Printable(value)} ({value.Describe()}{overrides})");
        }
    }

    /// <summary>The GPU driver step the common layers get, in the words of its keys; "none" without one.</summary>
    private static string GpuDrivers(BuildSettings settings)
    {
        if (settings.NvidiaDrivers is { } nvidia)
        {
            var parts = new List<string> { $"NVIDIA {nvidia.Branch} ({nvidia.Type.ToString().ToLowerInvariant()})", nvidia.UseCudaRepository ? $"CUDA repository {nvidia.CudaRepositoryUrl}" : "the image's sources only" };
            parts.AddRange(new[] { (nvidia.InstallFabricManager, "fabric manager"), (nvidia.ImexInstalled, "IMEX"), (nvidia.InstallContainerToolkit, $"container toolkit from {nvidia.ContainerToolkitRepositoryUrl}"), (nvidia.RebuildInitrd, "initramfs rebuilt") }
                .Where(p => p.Item1).Select(p => p.Item2));
            return string.Join(", ", parts) + "; DKMS modules for the image's kernel";
        }

        if (settings.AmdGpuDrivers is { } amd)
        {
            var source = amd.Source == AmdGpuDriverSource.Inbox ? "in-tree amdgpu module"
                : amd.ArtifactPath is { } artifact ? $"amdgpu prebuilt in {artifact}" : $"amdgpu-dkms {amd.Release} from {amd.RepositoryUrl}, built for the image's kernel";
            return "AMD " + source + (amd.InstallSmi ? ", amd-smi" : "") + (amd.RebuildInitrd ? ", initramfs rebuilt" : "");
        }

        return "none";
    }

    public static object ToJson(BuildPlan plan)
    {
        var settings = plan.Settings;
        var inputs = plan.Inputs;
        return new
        {
            project = plan.ProjectDirectory,
            os = new { name = settings.OsDistribution, version = settings.OsVersion, arch = settings.Arch },
            agentVersion = settings.PeVersion,
            customTag = settings.CustomTag,
            fips = settings.FipsEnabled,
            twoNode = settings.TwoNode,
            gpuDrivers = settings.NvidiaDrivers is { } nvidia
                ? (object)new
                {
                    vendor = "nvidia", branch = nvidia.Branch, type = nvidia.Type.ToString().ToLowerInvariant(), cudaRepository = nvidia.UseCudaRepository ? nvidia.CudaRepositoryUrl : null,
                    fabricManager = nvidia.InstallFabricManager, imex = nvidia.ImexInstalled, containerToolkitRepository = nvidia.InstallContainerToolkit ? nvidia.ContainerToolkitRepositoryUrl : null,
                    rebuildInitrd = nvidia.RebuildInitrd,
                }
                : settings.AmdGpuDrivers is { } amd
                    ? new
                    {
                        vendor = "amd", source = amd.Source.ToString().ToLowerInvariant(), release = amd.Release, artifact = amd.ArtifactPath, repository = amd.RepositoryUrl,
                        rocmRepository = amd.RocmRepositoryUrl, smi = amd.InstallSmi, rebuildInitrd = amd.RebuildInitrd,
                    }
                    : null,
            baseImage = new { reference = plan.BaseImage, isDefault = plan.BaseImageIsDefault },
            earthfile = plan.Earthfile,
            sources = new
            {
                images = plan.Sources.All.Select(u => new { role = u.Role, reference = u.Reference, setBy = u.SetBy }),
                etcdctlPath = plan.Sources.EtcdctlPath,
            },
            values = plan.Values.Select(v => new
            {
                key = v.Key,
                value = Printable(v),
                origin = OriginName(v.Origin),
                file = v.File,
                line = v.Line,
                describe = v.Describe(),
                overrides = v.Overrides?.Describe(),
                builtIn = v.SameAsBuiltIn,
            }),
            kubernetes = new { distribution = settings.K8sDistribution, versionsSource = plan.KubernetesVersionSource, versionsAvailable = plan.KubernetesVersionsAvailable, bundled = settings.BundleK8sAndAgentProvider },
            images = plan.ProviderImages.Select(i => new
            {
                reference = i.Reference,
                repository = i.Repository,
                tag = i.Tag,
                k8sDistribution = i.K8sDistribution,
                k8sVersion = i.K8sVersion,
                k8sSource = i.K8sSource,
                luetPackage = i.LuetPackage,
            }),
            iso = new
            {
                path = plan.Iso.Path,
                checksumPath = plan.Iso.ChecksumPath,
                volumeId = plan.Iso.VolumeId,
                rootfsCompression = plan.Iso.RootfsCompression.ToString(),
                defaultBootEntry = plan.Iso.DefaultBootEntry,
            },
            inputs = new
            {
                userData = inputs.UserData is { } u ? new { path = u.Path, managementMode = u.Summary.ManagementMode, registrationToken = u.Summary.HasRegistrationToken } : null,
                signingKeyBits = inputs.EdgeCustomConfig?.KeyBits ?? 0,
                clusterConfig = inputs.ClusterConfig is { } c ? new { path = c.Path, size = c.Size } : null,
                contentBundles = inputs.ContentBundles.Select(b => new { path = b.Path, size = b.Size, parts = Parts(b.Size) }),
                certificates = inputs.Certificates.Select(c => new { path = c.Path, subjects = c.Subjects }),
                overlay = new
                {
                    files = inputs.Overlay.FilesDirectory,
                    filesIso = inputs.Overlay.FilesIsoDirectory,
                    grubTemplate = inputs.Overlay.GrubTemplate,
                    localUi = inputs.Overlay.LocalUiTar,
                },
                luetAuth = inputs.LuetAuth is { } a ? new { path = a.Path, fields = a.Auth.Keys.Order(StringComparer.Ordinal) } : null,
                customisations = plan.Customisations.Instructions.Select(i => new { line = i.Line, instruction = i.Keyword }),
            },
            buildProxy = new { http = MaskCredentials(settings.HttpProxy), https = MaskCredentials(settings.HttpsProxy), noProxy = settings.NoProxy },
            estimate = new { bytes = plan.Estimate.TotalBytes, parts = plan.Estimate.Parts.ToDictionary(p => p.Key, p => p.Value) },
        };
    }

    /// <summary>Proxy URLs may carry credentials; every other value is printed as it is.</summary>
    private static string Printable(ResolvedValue value) =>
        value.Key is "HTTP_PROXY" or "HTTPS_PROXY" ? MaskCredentials(value.Value) : value.Value;

    private static string OriginName(ArgumentSource origin) => origin switch
    {
        ArgumentSource.CommandLine => "command-line",
        ArgumentSource.Environment => "environment",
        ArgumentSource.ArgFile => "arg-file",
        ArgumentSource.Earthfile => "earthfile",
        ArgumentSource.Rule => "rule",
        _ => "built-in",
    };

    /// <summary>Content bundles are split into 3 GB parts on the ISO (EDGEFORGE.md §6).</summary>
    public static int Parts(long size) => (int)Math.Max(1, (size + 2_999_999_999) / 3_000_000_000);

    /// <summary><c>http://user:secret@proxy:3128</c> → <c>http://***@proxy:3128</c>.</summary>
    public static string MaskCredentials(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? url.Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal) : url;

    private static string Overlay(BuildPlan plan)
    {
        var overlay = plan.Inputs.Overlay;
        var parts = new[] { overlay.FilesDirectory, overlay.FilesIsoDirectory, overlay.GrubTemplate, overlay.LocalUiTar }
            .OfType<string>().Select(p => Relative(plan, p) + (Directory.Exists(p) ? "/" : "")).ToList();
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string Relative(BuildPlan plan, string path) => Path.GetRelativePath(plan.ProjectDirectory, path);

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
