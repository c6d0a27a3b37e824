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
                         (settings.BundleK8sAndAgentProvider ? "" : " (binaries not bundled)"));
        writer.WriteLine($"Provider images  {plan.ProviderImages.Count}");
        foreach (var image in plan.ProviderImages)
        {
            writer.WriteLine($"  {image.Reference}");
        }

        writer.WriteLine($"Installer ISO    {Relative(plan, plan.Iso.Path)} (+ .sha256), volume {plan.Iso.VolumeId}, rootfs {plan.Iso.RootfsCompression}, " +
                         $"default entry {plan.Iso.DefaultBootEntry}");
        writer.WriteLine($"  user data        {(inputs.UserData is { } u ? $"{u.DisplayName} ({u.Summary.ManagementMode} management{(u.Summary.HasRegistrationToken ? ", registration token set" : "")})" : "none")}");
        writer.WriteLine($"  signing key      {(inputs.EdgeCustomConfig is { KeyBits: > 0 } k ? $"{k.DisplayName} (RSA {k.KeyBits})" : "none")}");
        writer.WriteLine($"  cluster config   {(inputs.ClusterConfig is { } c ? $"{c.DisplayName} ({Size(c.Size)}, {c.EntryCount} entries)" : "none")}");
        writer.WriteLine($"  content bundles  {(inputs.ContentBundles.Count == 0 ? "none" : string.Join(", ", inputs.ContentBundles.Select(b => $"{b.DisplayName} ({Size(b.Size)}, {Parts(b.Size)} part{(Parts(b.Size) == 1 ? "" : "s")})")))}");
        writer.WriteLine($"CA certificates  {(inputs.Certificates.Count == 0 ? "none" : string.Join(", ", inputs.Certificates.Select(c => c.DisplayName)))}");
        writer.WriteLine($"Customisations   {(plan.Customisations.Instructions.Count == 0 ? "none" : $"{plan.Customisations.Path}: " + string.Join(", ", plan.Customisations.Instructions.GroupBy(i => i.Keyword).Select(g => $"{g.Key} ×{g.Count()}")))}");
        if (settings.HttpProxy.Length + settings.HttpsProxy.Length > 0)
        {
            writer.WriteLine($"Build proxy      {MaskCredentials(settings.HttpsProxy.Length > 0 ? settings.HttpsProxy : settings.HttpProxy)} (build time only)");
        }

        writer.WriteLine($"Disk estimate    about {Size(plan.Estimate.TotalBytes)}: " +
                         string.Join(", ", plan.Estimate.Parts.Where(p => p.Value > 0).Select(p => $"{p.Key} {Size(p.Value)}")));
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
            baseImage = new { reference = plan.BaseImage, isDefault = plan.BaseImageIsDefault },
            kubernetes = new { distribution = settings.K8sDistribution, versionsSource = plan.KubernetesVersionSource, versionsAvailable = plan.KubernetesVersionsAvailable, bundled = settings.BundleK8sAndAgentProvider },
            images = plan.ProviderImages.Select(i => new
            {
                reference = i.Reference,
                repository = i.Repository,
                tag = i.Tag,
                k8sDistribution = i.K8sDistribution,
                k8sVersion = i.K8sVersion,
                k8sSource = i.K8sSource,
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
                customisations = plan.Customisations.Instructions.Select(i => new { line = i.Line, instruction = i.Keyword }),
            },
            buildProxy = new { http = MaskCredentials(settings.HttpProxy), https = MaskCredentials(settings.HttpsProxy), noProxy = settings.NoProxy },
            estimate = new { bytes = plan.Estimate.TotalBytes, parts = plan.Estimate.Parts.ToDictionary(p => p.Key, p => p.Value) },
        };
    }

    /// <summary>Content bundles are split into 3 GB parts on the ISO (EDGEFORGE.md §6).</summary>
    public static int Parts(long size) => (int)Math.Max(1, (size + 2_999_999_999) / 3_000_000_000);

    /// <summary><c>http://user:secret@proxy:3128</c> → <c>http://***@proxy:3128</c>.</summary>
    public static string MaskCredentials(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? url.Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal) : url;

    private static string Relative(BuildPlan plan, string path) => Path.GetRelativePath(plan.ProjectDirectory, path);

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
