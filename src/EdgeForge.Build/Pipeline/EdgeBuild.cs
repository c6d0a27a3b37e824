using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeForge.Build.Composition;
using EdgeForge.Build.Installer;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Planning;
using EdgeForge.Luet;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Build.Pipeline;

/// <summary>One matrix cell: the image built (digest, size) or why it failed.</summary>
public sealed record ProviderImageResult(string Reference, string Tag, string K8sDistribution, string K8sVersion, string? Digest, long Size, string? Error);

/// <summary>What the provider-image steps did; <see cref="RunsExecuted"/> and <see cref="BlobsUploaded"/> are 0 for a re-run with nothing changed.</summary>
public sealed record ProviderImageBuildReport(
    IReadOnlyList<ProviderImageResult> Images,
    int RunsExecuted,
    int LayersBuilt,
    int LayersReused,
    int BlobsUploaded,
    int BlobsSkipped,
    bool KubernetesBundled,
    int BaseSystemdVersion)
{
    public bool Succeeded => Images.All(i => i.Error is null);
}

/// <summary>A step of the build: a name (what progress displays show), what it needs done first, and its work.</summary>
public sealed record BuildStep(string Name, string Title, IReadOnlyList<string> After, Func<BuildContext, CancellationToken, Task> Run);

/// <summary>Everything a run produced.</summary>
public sealed record EdgeBuildResult(ProviderImageBuildReport? ProviderImages, InstallerIsoResult? Iso, PlanLock Lock, string LockPath, string? ManifestPath);

/// <summary>
/// The build as a pipeline of named steps over one <see cref="BuildContext"/> (style.md: AuroraBoot's step list):
/// resolve sources → pin every upstream image to a digest → common layers → provider layers → provider image per
/// Kubernetes version (written and pushed) → installer image → installer ISO (SquashFS, ESP, hybrid ISO, checksum) →
/// reports and <c>build/plan.lock.json</c>. <c>build all</c> runs the whole graph; <c>build provider-images</c> and
/// <c>build iso</c> run its sub-graphs. The shared image is built once and both branches use the same pinned digests.
/// </summary>
public static class EdgeBuild
{
    public const string ProviderReportFile = "provider-images.json";
    public const string IsoReportFile = "iso.json";
    public const string ManifestFile = "byoos-manifest.yaml";

    public static readonly JsonSerializerOptions ReportJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The steps of a target, in an order that respects every step's <see cref="BuildStep.After"/>.</summary>
    public static IReadOnlyList<BuildStep> Steps(BuildTarget target)
    {
        var provider = target is BuildTarget.ProviderImages or BuildTarget.All;
        var iso = target is BuildTarget.Iso or BuildTarget.All;
        var steps = new List<BuildStep>
        {
            new("resolve-sources", "resolve upstream sources and values", [], SourceSteps.ResolveAsync),
            new("pin-upstreams", "pull and pin every upstream image to a digest", ["resolve-sources"], SourceSteps.PinAsync),
            new("common-layers", "base + CA certificates + Dockerfile customisations (+ UPDATE_KERNEL, GPU drivers, CIS hardening)", ["pin-upstreams"], CommonLayersAsync),
        };
        if (provider)
        {
            steps.Add(new("provider-layers", "overlay/files/etc, Kairos provider, stylus files, edge custom config (Trusted Boot: and the Ubuntu image's layers)", ["common-layers"], ProviderLayersAsync));
            steps.Add(new("provider-images", "one provider image per Kubernetes version (Kubernetes, etcdctl, clean-up, labels), written and pushed", ["provider-layers"], ProviderImagesAsync));
        }

        if (iso)
        {
            steps.Add(new("installer-image", "stylus framework + overlay/files + local-ui + clean-up", ["common-layers"], InstallerImageAsync));
            steps.Add(new("installer-iso", "rootfs.squashfs, ESP, hybrid ISO, checksum", ["installer-image"], InstallerIsoAsync));
        }

        steps.Add(new("reports", "reports, BYOOS manifest, plan.lock.json", steps.Select(s => s.Name).ToList(), (_, _) => Task.CompletedTask));
        return steps;
    }

    /// <summary>
    /// Runs the steps of <paramref name="target"/>. Invalid input found on the way (a lock that does not match, a wrong
    /// BOOT_ASSETS) is a <see cref="BuildInputException"/>; a failed operation a <see cref="BuildFailedException"/> —
    /// the two kinds a caller maps to exit codes, in one place.
    /// </summary>
    public static async Task<EdgeBuildResult> RunAsync(BuildPlan plan, EdgeBuildOptions options, BuildTarget target, CancellationToken cancellationToken = default)
    {
        var context = new BuildContext(plan, options, target);
        var done = new HashSet<string>(StringComparer.Ordinal);
        EdgeBuildResult? result = null;
        try
        {
            foreach (var step in Steps(target))
            {
                if (step.After.FirstOrDefault(a => !done.Contains(a)) is { } missing)
                {
                    throw new InvalidOperationException($"step {step.Name} runs before {missing}");
                }

                var run = step.Name == "reports" ? (c, _) => { result = WriteReports(c); return Task.CompletedTask; } : step.Run;
                await RunStepAsync(context, step with { Run = run }, cancellationToken).ConfigureAwait(false);
                done.Add(step.Name);
            }

            return result!;
        }
        catch (Exception e) when (Classify(e) is { } mapped && !ReferenceEquals(mapped, e))
        {
            throw mapped;
        }
    }

    private static async Task RunStepAsync(BuildContext context, BuildStep step, CancellationToken cancellationToken)
    {
        var scope = context.StartStep(step.Name, step.Title);
        try
        {
            await step.Run(context, cancellationToken).ConfigureAwait(false);
            scope.Finish();
        }
        catch (Exception e)
        {
            scope.Fail((Classify(e) ?? e).Message);
            throw;
        }
    }

    /// <summary>Library exceptions as the two kinds callers map to exit codes; null for bugs (they surface as they are).</summary>
    private static Exception? Classify(Exception e) => e switch
    {
        BuildInputException or BuildFailedException => e,
        PlanLockException or InstallerInputException or EdgeForge.TrustedBoot.SecureBoot.SecureBootKeyException => new BuildInputException(e.Message, e),
        BuildStepException step => new BuildFailedException(WithOutput(step), e),
        UpstreamImageException or UpstreamContentException or SandboxUnavailableException => new BuildFailedException(e.Message, e),
        LuetPackageNotFoundException or LuetRepositoryFormatException => new BuildFailedException(e.Message, e),
        HttpRequestException or IOException or InvalidDataException or UnauthorizedAccessException or EdgeForge.SquashFs.SquashFsTreeException => new BuildFailedException(e.Message, e),
        _ => null,
    };

    /// <summary>A failed step's message with the last lines its command printed: the reason is usually there (a RUN of the Dockerfile, a GPU driver step).</summary>
    private static string WithOutput(BuildStepException step) =>
        step.Output.Count == 0 ? step.Message : step.Message + "\n" + string.Join("\n", step.Output.TakeLast(30).Select(l => "  | " + l));

    private static async Task CommonLayersAsync(BuildContext context, CancellationToken cancellationToken) =>
        context.Common = await new CommonLayers(context).BuildAsync(context.Base!, cancellationToken).ConfigureAwait(false);

    private static async Task ProviderLayersAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var composer = new ProviderComposer(context);
        context.ProviderShared = await composer.BuildSharedAsync(context.Common!, cancellationToken).ConfigureAwait(false);
        if (context.Plan.Settings.TrustedBoot is not null)
        {
            context.TrustedBootProviderShared = await composer.BuildTrustedBootSharedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ProviderImagesAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var plan = context.Plan;
        var composer = new ProviderComposer(context);
        var results = new ProviderImageResult[plan.ProviderImages.Count];
        using var throttle = new SemaphoreSlim(Math.Max(1, context.Options.Jobs));
        using var layoutLock = new SemaphoreSlim(1);
        await Task.WhenAll(plan.ProviderImages.Select(async (cell, index) =>
        {
            await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
            var scope = context.StartStep("provider-image " + cell.Tag, cell.Reference);
            try
            {
                var image = context.TrustedBootProviderShared is { } trustedBoot
                    ? await composer.BuildTrustedBootCellAsync(context.ProviderShared!, trustedBoot, cell, cancellationToken).ConfigureAwait(false)
                    : await composer.BuildCellAsync(context.ProviderShared!, cell, cancellationToken).ConfigureAwait(false);
                await composer.PublishAsync(image, cell, layoutLock, cancellationToken).ConfigureAwait(false);
                context.ProviderImages[cell.Tag] = image;
                var size = image.Manifest.Config.Size + image.Layers.Sum(l => l.Size);
                results[index] = new ProviderImageResult(cell.Reference, cell.Tag, cell.K8sDistribution, cell.K8sVersion, image.Digest.ToString(), size, null);
                scope.Finish(image.Digest.ToString());
            }
            catch (Exception e) when (e is not OperationCanceledException && Classify(e) is { } mapped)
            {
                // A failing cell does not stop the others; the run fails at the end, naming each.
                var message = mapped.Message;
                results[index] = new ProviderImageResult(cell.Reference, cell.Tag, cell.K8sDistribution, cell.K8sVersion, null, 0, message);
                scope.Fail(message);
            }
            finally
            {
                throttle.Release();
            }
        })).ConfigureAwait(false);
        context.ProviderResults = results;

        var report = ProviderReport(context);
        AtomicFile.WriteAllText(Path.Combine(plan.ProjectDirectory, "build", ProviderReportFile), JsonSerializer.Serialize(report, ReportJson) + "\n");
        if (!report.Succeeded)
        {
            throw new BuildFailedException($"{results.Count(r => r.Error is not null)} of {results.Length} provider images failed: " +
                string.Join("; ", results.Where(r => r.Error is not null).Select(r => $"{r.Reference}: {r.Error!.Split('\n')[0]}")) + $" (see build/{ProviderReportFile})");
        }
    }

    private static async Task InstallerImageAsync(BuildContext context, CancellationToken cancellationToken) =>
        context.Installer = await new InstallerComposer(context).BuildAsync(context.Common!, cancellationToken).ConfigureAwait(false);

    private static async Task InstallerIsoAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var plan = context.Plan;
        TrustedBootIsoPayload? payload = null;
        if (plan.Settings.TrustedBoot is not null)
        {
            var thirdParty = context.ThirdParty ?? throw new InvalidOperationException("pin-upstreams did not pin the third-party image");
            var package = context.StylusPackage ?? throw new InvalidOperationException("pin-upstreams did not pin the stylus package image");
            var luet = CanvosFiles.ThirdPartyBinary(await ImageFileTree.LoadAsync(thirdParty.Image, cancellationToken).ConfigureAwait(false), plan.Sources.LuetPath,
                thirdParty.Reference, "luet", InstallerIsoBuilder.LuetBinary);
            payload = new TrustedBootIsoPayload(package.Image, plan.Sources.StylusFramework.Reference, luet);
        }

        var builder = new InstallerIsoBuilder(plan, new InstallerIsoOptions
        {
            TrustedBootPayload = payload,
            BootAssets = context.Options.BootAssets,
            ExtraKernelArguments = context.Options.ExtraKernelArguments,
            ContentPartSize = context.Options.ContentPartSize,
            SourceDateEpoch = context.Options.SourceDateEpoch,
            IsoOverlayDirectory = Path.Combine(plan.ProjectDirectory, "overlay", "files-iso"),
            Debug = plan.Settings.Debug,
            Registry = context.Options.Registry,
            Blobs = context.Options.Blobs,
            Observer = context.Options.Observer,
            StepName = context.Scope?.Name ?? "installer-iso",
        });
        context.Iso = await builder.BuildAsync(context.Installer!, cancellationToken).ConfigureAwait(false);
        AtomicFile.WriteAllText(Path.Combine(Path.GetDirectoryName(context.Iso.IsoPath)!, IsoReportFile), JsonSerializer.Serialize(context.Iso, ReportJson) + "\n");
    }

    private static ProviderImageBuildReport ProviderReport(BuildContext context) =>
        new(context.ProviderResults, context.Counters.Runs, context.Counters.Built, context.Counters.Reused, context.Counters.Uploaded, context.Counters.Skipped,
            context.BundleKubernetes, context.SystemdVersion);

    private static EdgeBuildResult WriteReports(BuildContext context)
    {
        var plan = context.Plan;
        var build = Path.Combine(plan.ProjectDirectory, "build");
        string? manifest = null;
        if (context.BuildsProviderImages)
        {
            manifest = Path.Combine(build, ManifestFile);
            AtomicFile.WriteAllText(manifest, ByoosManifest.Render(plan));
        }

        var lockFile = SourceSteps.Lock(context);
        var lockPath = Path.Combine(build, PlanLock.FileName);
        AtomicFile.WriteAllText(lockPath, lockFile.ToJson());
        return new EdgeBuildResult(context.BuildsProviderImages ? ProviderReport(context) : null, context.Iso, lockFile, lockPath, manifest);
    }
}

/// <summary>Input the user must fix, found while building (exit 2).</summary>
public sealed class BuildInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The build itself failed: a pull, a RUN, the disk, a matrix cell (exit 1).</summary>
public sealed class BuildFailedException(string message, Exception? inner = null) : Exception(message, inner);
