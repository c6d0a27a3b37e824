using EdgeForge.Build;
using System.CommandLine;
using System.Text.Json;
using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// <c>build provider-images</c> (CanvOS target <c>+build-provider-images</c>), <c>build iso</c> (<c>+iso</c>) and
/// <c>build all</c> (<c>+build-all-images</c>).
/// </summary>
internal static class BuildCommands
{
    public const string ReportFile = EdgeBuild.ProviderReportFile;
    public const string ManifestFile = EdgeBuild.ManifestFile;
    public const string IsoReportFile = EdgeBuild.IsoReportFile;

    public static Command Create()
    {
        var build = new Command("build", "Build artifacts from a CanvOS project directory.");
        build.Subcommands.Add(ProviderImages());
        build.Subcommands.Add(Iso());
        build.Subcommands.Add(All());
        return build;
    }

    /// <summary>The options of every build subcommand, each instance added to one command.</summary>
    private sealed class BuildOptions
    {
        public ProjectArguments Project { get; } = new();
        public RegistryOptions Registry { get; } = new();
        public Option<string?> CacheDirectory { get; } = new("--cache-dir") { Description = "Blob and layer cache (default $EDGEFORGE_CACHE, else ~/.cache/edgeforge); safe to share between builds." };
        public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON event per line while building (step started/progress/finished/failed), then the result as JSON." };
        public Option<bool> Locked { get; } = new("--locked") { Description = "Rebuild exactly build/plan.lock.json: the same upstream digests, values and SOURCE_DATE_EPOCH as the run that wrote it." };

        public void AddTo(Command command)
        {
            Project.AddTo(command);
            Registry.AddTo(command);
            command.Options.Add(CacheDirectory);
            command.Options.Add(Json);
            command.Options.Add(Locked);
        }

        public BlobCache Blobs(ParseResult parseResult) => parseResult.GetValue(CacheDirectory) is { } cache ? new BlobCache(cache) : BlobCache.Default();
    }

    private sealed class ProviderOptions
    {
        public Option<bool> Push { get; } = new("--push") { Description = "Also push every image to its planned reference (IMAGE_REGISTRY/IMAGE_REPO:TAG)." };
        public Option<int> Jobs { get; } = new("--jobs", "-j") { Description = "Kubernetes versions built at once.", DefaultValueFactory = _ => 2 };
        public Option<string?> Output { get; } = new("--output") { Description = "OCI layout directory for the images (default DIR/build/images)." };

        public void AddTo(Command command)
        {
            command.Options.Add(Push);
            command.Options.Add(Jobs);
            command.Options.Add(Output);
        }
    }

    private sealed class IsoOptions
    {
        public Option<string?> BootAssets { get; } = new("--boot-assets")
        {
            Description = "Directory (or image) with eltorito.img, boot_hybrid.img and EFI/BOOT/bootx64.efi (+grubx64.efi after a shim); overrides BOOT_ASSETS. Default: found in the installer image.",
        };

        public Option<string?> KernelArguments { get; } = new("--kernel-args") { Description = "Extra kernel arguments appended to every boot menu entry." };

        public void AddTo(Command command)
        {
            command.Options.Add(BootAssets);
            command.Options.Add(KernelArguments);
        }
    }

    private static Command ProviderImages()
    {
        var common = new BuildOptions();
        var provider = new ProviderOptions();
        var command = new Command("provider-images",
            "Build the provider image matrix: one image per Kubernetes version, into an OCI layout (and a registry with --push); then print the BYOOS pack manifest.");
        command.Aliases.Add("+build-provider-images");
        common.AddTo(command);
        provider.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, common, provider, null, BuildTarget.ProviderImages, cancellationToken));
        return command;
    }

    private static Command Iso()
    {
        var common = new BuildOptions();
        var iso = new IsoOptions();
        var command = new Command("iso",
            "Build the installer ISO (build/ISO_NAME.iso and .sha256): the installer image's kernel, initramfs and SquashFS root, the GRUB menu, " +
            "user data, signing key, content bundles and cluster definition; bootable from CD and USB on BIOS and UEFI.");
        command.Aliases.Add("+iso");
        common.AddTo(command);
        iso.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, common, null, iso, BuildTarget.Iso, cancellationToken));
        return command;
    }

    private static Command All()
    {
        var common = new BuildOptions();
        var provider = new ProviderOptions();
        var iso = new IsoOptions();
        var command = new Command("all", "Build the provider images, then the installer ISO, then print the BYOOS pack manifest (CanvOS +build-all-images).");
        command.Aliases.Add("+build-all-images");
        common.AddTo(command);
        provider.AddTo(command);
        iso.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, common, provider, iso, BuildTarget.All, cancellationToken));
        return command;
    }

    /// <summary>Parse, check the options, run the pipeline, print: every input was checked by the plan before the first pull.</summary>
    private static async Task<int> RunAsync(ParseResult parseResult, BuildOptions common, ProviderOptions? provider, IsoOptions? iso, BuildTarget target, CancellationToken cancellationToken)
    {
        var plan = ProjectCommands.LoadOrReport(parseResult, common.Project);
        if (provider is not null)
        {
            CheckJobs(parseResult, provider);
            if (BuildRefusals.ProviderImages(plan.Settings) is { } refusal)
            {
                throw new InvalidInputException($".arg: IS_UKI: {refusal}");
            }
        }

        if (iso is not null)
        {
            CheckBootAssets(parseResult, plan, iso);
            if (BuildRefusals.Iso(plan.Settings) is { } refusal)
            {
                throw new InvalidInputException($".arg: IS_UKI: {refusal}");
            }
        }

        var json = parseResult.GetValue(common.Json);
        var locked = parseResult.GetValue(common.Locked) ? PlanLock.Read(Path.Combine(plan.ProjectDirectory, "build", PlanLock.FileName)) : null;
        // spectro-luet-auth.yaml: CanvOS appends it to the luet repository's config; here it authenticates that registry only.
        Func<EdgeForge.Oci.Registry.ICredentialProvider, EdgeForge.Oci.Registry.ICredentialProvider>? luetCredentials = plan.Inputs.LuetAuth is { } auth
            ? inner => EdgeForge.Luet.LuetAuthentication.CreateProvider(EdgeForge.Oci.Model.ImageReference.Parse(plan.Sources.LuetRepository.Reference), auth.Auth, inner)
            : null;
        // The project's proxies carry edgeforge's own requests too (pulls, pushes, luet), not only RUN steps; the
        // proxy's CA sits in certs/, which the client trusts.
        var settings = plan.Settings;
        var proxy = settings.HttpProxy.Length + settings.HttpsProxy.Length > 0
            ? new EdgeForge.Oci.Registry.EnvironmentProxy(NullIfEmpty(settings.HttpProxy), NullIfEmpty(settings.HttpsProxy), NullIfEmpty(settings.NoProxy))
            : null;
        using var client = common.Registry.CreateClient(parseResult, ProjectCertificateDirectory(plan), luetCredentials, proxy);
        var observer = BuildProgress.Create(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, json);
        EdgeBuildResult result;
        try
        {
            result = await EdgeBuild.RunAsync(plan, new EdgeBuildOptions
            {
                Registry = client,
                Blobs = common.Blobs(parseResult),
                Push = provider is not null && parseResult.GetValue(provider.Push),
                Jobs = provider is null ? 2 : parseResult.GetValue(provider.Jobs),
                OutputLayout = provider is null ? null : parseResult.GetValue(provider.Output),
                BootAssets = iso is null ? null : parseResult.GetValue(iso.BootAssets),
                ExtraKernelArguments = (iso is null ? null : parseResult.GetValue(iso.KernelArguments)) ?? "",
                SourceDateEpoch = locked?.SourceDateEpoch ?? EdgeForge.Oci.Layers.DeterministicTarWriter.SourceDateEpochFromEnvironment(),
                Locked = locked,
                Observer = observer,
            }, target, cancellationToken);
        }
        finally
        {
            observer.Dispose();
        }

        Print(parseResult, plan, result, json);
        return ExitCodes.Ok;
    }

    private static void Print(ParseResult parseResult, BuildPlan plan, EdgeBuildResult result, bool json)
    {
        var writer = parseResult.InvocationConfiguration.Output;
        if (json)
        {
            writer.WriteLine(JsonSerializer.Serialize(new { providerImages = result.ProviderImages, iso = result.Iso, planLock = Path.GetRelativePath(plan.ProjectDirectory, result.LockPath) },
                DiagnosticsReport.Json));
            return;
        }

        if (result.ProviderImages is { } report)
        {
            foreach (var image in report.Images)
            {
                writer.WriteLine($"built  {image.Reference}  {image.Digest}");
            }

            writer.WriteLine($"{report.Images.Count} of {report.Images.Count} images; Kubernetes {(report.KubernetesBundled ? "bundled" : "as system extensions")}; " +
                             $"RUN steps executed: {report.RunsExecuted}; layers built {report.LayersBuilt}, reused {report.LayersReused}; " +
                             $"blobs uploaded {report.BlobsUploaded}, already present {report.BlobsSkipped}");
        }

        if (result.Iso is { } iso)
        {
            writer.WriteLine($"built  {Path.GetRelativePath(plan.ProjectDirectory, iso.IsoPath)}  {iso.Length:N0} bytes  sha256 {iso.Sha256}");
            writer.WriteLine($"       {iso.Boot}" +
                             (iso.ContentParts.Count > 0 ? $", content parts {iso.ContentParts.Count}" : ""));
        }

        writer.WriteLine($"plan   {Path.GetRelativePath(plan.ProjectDirectory, result.LockPath)} (rebuild exactly this with --locked)");
        if (result.ManifestPath is { } manifest)
        {
            writer.WriteLine();
            writer.WriteLine($"BYOOS pack manifest (also in build/{ManifestFile}):");
            writer.Write(File.ReadAllText(manifest));
        }
    }

    private static void CheckJobs(ParseResult parseResult, ProviderOptions provider)
    {
        if (parseResult.GetValue(provider.Jobs) is < 1 or > 64)
        {
            throw new InvalidInputException("--jobs: use a number from 1 to 64");
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static void CheckBootAssets(ParseResult parseResult, BuildPlan plan, IsoOptions iso)
    {
        if (parseResult.GetValue(iso.BootAssets) is { } assets)
        {
            var local = Path.Combine(plan.ProjectDirectory, assets);
            if ((assets.StartsWith('/') || assets.StartsWith('.')) && !Directory.Exists(local))
            {
                throw new InvalidInputException($"--boot-assets {assets}: no such directory");
            }
        }
    }

    /// <summary>The project's certs/ are trusted for registries too: a private registry's CA usually sits there.</summary>
    private static string[] ProjectCertificateDirectory(BuildPlan plan)
    {
        var certs = Path.Combine(plan.ProjectDirectory, "certs");
        return plan.Inputs.Certificates.Count > 0 && Directory.Exists(certs) ? [certs] : [];
    }
}
