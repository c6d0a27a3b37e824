using EdgeForge.Build.Composition;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Planning;
using EdgeForge.Luet;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// The first two steps: which upstream images this target needs (CanvOS's names and formulas, resolved by the plan),
/// and pulling each once for <c>linux/ARCH</c>, pinned to its digest — the base, the stylus framework, the Kairos
/// provider, the third-party image, the luet repository index — plus CanvOS's systemd probe of the base.
/// </summary>
internal static class SourceSteps
{
    public static Task ResolveAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var sources = context.Plan.Sources;
        if (context.Options.Locked is { } locked)
        {
            CheckLockMatches(context, locked);
        }

        // A RUN for another CPU needs the host's binfmt_misc emulator: say so now, not after pulling the base.
        if (RunsInSandbox(context))
        {
            ForeignArchitecture.Require(context.Plan.Settings.Arch, context.Options.BinfmtDirectory);
        }

        foreach (var upstream in Needed(context))
        {
            context.Log($"{upstream.Role}: {upstream.Reference} (set by {upstream.SetBy})");
        }

        if (context.BuildsProviderImages && context.Plan.Settings.K8sProviderSource is null)
        {
            context.Log($"luet repository: {sources.LuetRepository.Reference} (set by {sources.LuetRepository.SetBy})");
        }

        return Task.CompletedTask;
    }

    public static async Task PinAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var plan = context.Plan;
        var sources = plan.Sources;
        // Each image keeps the role the plan gave it (UpstreamSourceFormulas): the lock file and messages use that one name.
        Task<PinnedImage> Pin(UpstreamImage upstream) =>
            context.Puller.PinAsync(upstream.Role, upstream.Reference, upstream.SetBy, LockedDigest(context, upstream.Role, upstream.Reference), cancellationToken);

        // Independent pulls run together; each is pulled once even when several steps need it.
        var baseTask = Pin(sources.Base);
        var stylusTask = Pin(sources.StylusFramework);
        var thirdPartyTask = NeedsThirdParty(context) ? Pin(sources.ThirdParty) : null;
        var stylusPackageTask = NeedsStylusPackage(context) ? Pin(sources.StylusPackage) : null;
        var trustedBootBaseTask = NeedsTrustedBootProviderBase(context) ? Pin(sources.TrustedBootProviderBase!) : null;
        context.Base = await baseTask.ConfigureAwait(false);

        // CanvOS's CHECK_SYSTEMD_VERSION on the base: systemd ≥ 255 takes Kubernetes and the agent provider as system
        // extensions, so they are baked in only below that — or always with BUNDLE_K8S_AND_AGENT_PROVIDER=true.
        context.SystemdVersion = await SystemdVersionAsync(context, context.Base, cancellationToken).ConfigureAwait(false);
        context.BundleKubernetes = plan.Settings.BundleK8sAndAgentProvider || context.SystemdVersion < CanvosFiles.SystemExtensionsMinimumSystemd;
        context.Log($"base systemd {(context.SystemdVersion == 0 ? "not found" : context.SystemdVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))}: " +
                    (context.BundleKubernetes
                        ? "Kubernetes and the agent provider are baked into the provider images" + (plan.Settings.BundleK8sAndAgentProvider ? " (BUNDLE_K8S_AND_AGENT_PROVIDER=true)" : "")
                        : "Kubernetes and the agent provider come as system extensions (systemd ≥ 255; BUNDLE_K8S_AND_AGENT_PROVIDER=true bakes them in)"));

        Task<PinnedImage>? providerTask = null;
        Task? luetTask = null;
        if (context.BuildsProviderImages && context.BundleKubernetes && plan.Settings.K8sProviderSource is null)
        {
            providerTask = Pin(sources.KairosProvider);
            luetTask = OpenLuetAsync(context, cancellationToken);
        }

        context.StylusFramework = await stylusTask.ConfigureAwait(false);
        if (thirdPartyTask is not null)
        {
            context.ThirdParty = await thirdPartyTask.ConfigureAwait(false);
        }

        if (stylusPackageTask is not null)
        {
            context.StylusPackage = await stylusPackageTask.ConfigureAwait(false);
        }

        if (trustedBootBaseTask is not null)
        {
            context.TrustedBootProviderBase = await trustedBootBaseTask.ConfigureAwait(false);
        }

        if (providerTask is not null)
        {
            context.KairosProvider = await providerTask.ConfigureAwait(false);
            await luetTask!.ConfigureAwait(false);
        }

        foreach (var pinned in context.Puller.Pinned.OrderBy(p => p.Role, StringComparer.Ordinal))
        {
            context.Log($"pinned {pinned.Role}: {pinned.PinnedReference}");
        }
    }

    /// <summary>The luet repository index (its revision is pinned like an image) and each cell's Kubernetes package.</summary>
    private static async Task OpenLuetAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var upstream = context.Plan.Sources.LuetRepository;
        LuetDockerRepository repository;
        try
        {
            repository = await LuetDockerRepository.OpenAsync(context.Options.Registry, context.Options.Blobs, ImageReference.Parse(upstream.Reference), context.Platform, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or LuetRepositoryFormatException)
        {
            throw new UpstreamImageException($"the luet repository {upstream.Reference} (set by {upstream.SetBy}) could not be read: {e.Message} — check {upstream.SetBy}, " +
                "the credentials (spectro-luet-auth.yaml or edgeforge login) and, on a site without internet, a registries.conf mirror", e);
        }

        if (context.Options.Locked?.Luet is { } locked && locked.IndexDigest != repository.IndexDigest.ToString())
        {
            throw new PlanLockException($"plan.lock.json pins the luet repository {upstream.Reference} at {locked.IndexDigest}, the registry serves {repository.IndexDigest}");
        }

        context.Luet = repository;
        foreach (var cell in context.Plan.ProviderImages)
        {
            try
            {
                context.KubernetesPackages[cell.Tag] = repository.ResolveWithDependencies(LuetPackageReference.Parse(cell.LuetPackage));
            }
            catch (LuetPackageNotFoundException e)
            {
                // Only that version fails: the rest of the matrix still builds (CanvOS would stop everything).
                context.CellErrors[cell.Tag] = e.Message;
                context.Log($"{cell.Reference}: {e.Message}");
            }
        }
    }

    private static async Task<int> SystemdVersionAsync(BuildContext context, PinnedImage baseImage, CancellationToken cancellationToken)
    {
        // The probe reads every layer's headers; its answer is cached per base digest like a layer.
        var key = ProviderImages.LayerCache.ChainKey(baseImage.Digest.ToString(), "probe: systemd version");
        var record = Path.Combine(context.Options.Blobs.Root, "edgeforge-probes", key);
        if (File.Exists(record) && int.TryParse(File.ReadAllText(record), out var cached))
        {
            return cached;
        }

        var version = CanvosFiles.SystemdVersion((await ImageFileTree.LoadAsync(baseImage.Image, cancellationToken).ConfigureAwait(false)).Entries);
        AtomicFile.WriteAllText(record, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return version;
    }

    /// <summary>
    /// Whether the build runs commands in the image (the Dockerfile's RUN lines, the trust store update for certs/,
    /// UPDATE_KERNEL, CIS_HARDENING, the GPU drivers, TWO_NODE's PostgreSQL) — checked before any pull, though a cached
    /// layer may spare the run itself.
    /// </summary>
    private static bool RunsInSandbox(BuildContext context)
    {
        var settings = context.Plan.Settings;
        return context.Plan.Customisations.Instructions.Any(i => i is EdgeForge.Configuration.Dockerfiles.RunInstruction) ||
            context.Plan.Inputs.Certificates.Count > 0 || settings.UpdateKernel || settings.CisHardening ||
            settings.NvidiaDrivers is not null || settings.AmdGpuDrivers is not null || settings.TwoNode;
    }

    private static IEnumerable<UpstreamImage> Needed(BuildContext context)
    {
        var sources = context.Plan.Sources;
        yield return sources.Base;
        yield return sources.StylusFramework;
        if (context.BuildsProviderImages && context.Plan.Settings.K8sProviderSource is null)
        {
            yield return sources.KairosProvider;
        }

        if (NeedsThirdParty(context))
        {
            yield return sources.ThirdParty;
        }

        if (NeedsStylusPackage(context))
        {
            yield return sources.StylusPackage;
        }

        if (NeedsTrustedBootProviderBase(context))
        {
            yield return sources.TrustedBootProviderBase!;
        }
    }

    /// <summary>CanvOS's Ubuntu image: what Trusted Boot provider images are built on (+uki-provider-image FROM +ubuntu).</summary>
    private static bool NeedsTrustedBootProviderBase(BuildContext context) => context.BuildsProviderImages && context.Plan.Settings.TrustedBoot is not null;

    /// <summary>etcdctl for provider images; luet for the Trusted Boot ISO (CanvOS build-uki-iso copies it into the overlay).</summary>
    private static bool NeedsThirdParty(BuildContext context) => context.BuildsProviderImages || NeedsStylusPackage(context);

    /// <summary>The stylus package image: only the Trusted Boot ISO carries it (<c>stylus-image.tar</c>, CanvOS +stylus-image-pack).</summary>
    private static bool NeedsStylusPackage(BuildContext context) => context.BuildsIso && context.Plan.Settings.TrustedBoot is not null;

    private static Digest? LockedDigest(BuildContext context, string role, string reference) =>
        context.Options.Locked?.DigestOf(role, reference) is { } digest ? Digest.Parse(digest) : null;

    /// <summary>A lock is for one plan: any value that differs would build something else under the same digests.</summary>
    private static void CheckLockMatches(BuildContext context, PlanLock locked)
    {
        var current = Values(context.Plan);
        var differences = locked.Values.Keys.Union(current.Keys)
            .Where(key => locked.Values.GetValueOrDefault(key) != current.GetValueOrDefault(key))
            .Order(StringComparer.Ordinal)
            .Select(key => $"{key} was '{locked.Values.GetValueOrDefault(key)}', now '{current.GetValueOrDefault(key)}'")
            .ToList();
        if (differences.Count > 0)
        {
            throw new PlanLockException($"the plan no longer matches {PlanLock.FileName}: {string.Join("; ", differences)} — rebuild without --locked to write a new lock");
        }

        if (locked.Arch != context.Plan.Settings.Arch)
        {
            throw new PlanLockException($"{PlanLock.FileName} is for ARCH={locked.Arch}, the plan for ARCH={context.Plan.Settings.Arch}");
        }
    }

    /// <summary>
    /// How the build site reaches the network is not what the artifacts are made of, and a proxy URL may carry a
    /// password: proxies are neither recorded in the lock nor compared with it (a locked rebuild may use another proxy).
    /// </summary>
    private static readonly HashSet<string> SiteKeys = new(StringComparer.Ordinal) { "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "PROXY_CERT_PATH" };

    private static Dictionary<string, string> Values(BuildPlan plan) =>
        plan.Values.Where(v => !SiteKeys.Contains(v.Key)).ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);

    public static PlanLock Lock(BuildContext context)
    {
        var plan = context.Plan;
        var outputs = new List<LockedOutput>();
        foreach (var result in context.ProviderResults.Where(r => r.Digest is not null))
        {
            outputs.Add(new LockedOutput(result.Reference, result.Digest!));
        }

        if (context.Iso is { } iso)
        {
            outputs.Add(new LockedOutput(Path.GetFileName(iso.IsoPath), "sha256:" + iso.Sha256));
        }

        return new PlanLock
        {
            SourceDateEpoch = context.Options.SourceDateEpoch,
            Arch = plan.Settings.Arch,
            Values = Values(plan),
            Origins = plan.Values.Where(v => !SiteKeys.Contains(v.Key)).ToDictionary(v => v.Key, v => v.File is null ? v.Origin.ToString() : v.Line is { } line ? $"{v.File}:{line}" : v.File, StringComparer.Ordinal),
            Upstreams = context.Puller.Pinned.OrderBy(p => p.Role, StringComparer.Ordinal).ThenBy(p => p.Reference, StringComparer.Ordinal)
                .Select(p => new LockedUpstream(p.Role, p.Reference, p.SetBy, p.Digest.ToString())).ToList(),
            Luet = context.Luet is { } luet
                ? new LockedLuet(luet.Repository.ToString(), luet.IndexDigest.ToString(),
                    context.KubernetesPackages.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.Select(i => i.ToString()!).ToList()))
                : null,
            Outputs = outputs,
        };
    }
}
