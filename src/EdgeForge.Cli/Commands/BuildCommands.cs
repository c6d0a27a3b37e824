using System.CommandLine;
using System.Text.Json;
using EdgeForge.Build.Installer;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Build.Sandbox;
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
    public const string ReportFile = "provider-images.json";
    public const string ManifestFile = "byoos-manifest.yaml";
    public const string IsoReportFile = "iso.json";

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
        public Option<bool> Json { get; } = JsonOption.Create();

        public void AddTo(Command command)
        {
            Project.AddTo(command);
            Registry.AddTo(command);
            command.Options.Add(CacheDirectory);
            command.Options.Add(Json);
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
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var plan = ProjectCommands.LoadOrReport(parseResult, common.Project);
            RefuseUnbuiltFeatures(plan, providerImages: true, iso: false);
            CheckJobs(parseResult, provider);
            using var client = common.Registry.CreateClient(parseResult, ProjectCertificateDirectory(plan));
            var builder = CreateProviderBuilder(parseResult, plan, client, common, provider);
            var report = await BuildProviderImagesAsync(parseResult, plan, builder, common, cancellationToken);
            WriteManifest(parseResult, plan, common);
            if (parseResult.GetValue(common.Json))
            {
                parseResult.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(report, DiagnosticsReport.Json));
            }

            return ExitCodes.Ok;
        });
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
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var plan = ProjectCommands.LoadOrReport(parseResult, common.Project);
            RefuseUnbuiltFeatures(plan, providerImages: false, iso: true);
            CheckBootAssets(parseResult, plan, iso);
            using var client = common.Registry.CreateClient(parseResult, ProjectCertificateDirectory(plan));
            var builder = CreateProviderBuilder(parseResult, plan, client, common, provider: null);
            var result = await BuildIsoAsync(parseResult, plan, builder, client, common, iso, cancellationToken);
            if (parseResult.GetValue(common.Json))
            {
                parseResult.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result, DiagnosticsReport.Json));
            }

            return ExitCodes.Ok;
        });
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
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // Every input of both builds is checked before the first layer is pulled.
            var plan = ProjectCommands.LoadOrReport(parseResult, common.Project);
            RefuseUnbuiltFeatures(plan, providerImages: true, iso: true);
            CheckJobs(parseResult, provider);
            CheckBootAssets(parseResult, plan, iso);
            using var client = common.Registry.CreateClient(parseResult, ProjectCertificateDirectory(plan));
            var builder = CreateProviderBuilder(parseResult, plan, client, common, provider);
            var images = await BuildProviderImagesAsync(parseResult, plan, builder, common, cancellationToken);
            var result = await BuildIsoAsync(parseResult, plan, builder, client, common, iso, cancellationToken);
            WriteManifest(parseResult, plan, common);
            if (parseResult.GetValue(common.Json))
            {
                parseResult.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { providerImages = images, iso = result }, DiagnosticsReport.Json));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void CheckJobs(ParseResult parseResult, ProviderOptions provider)
    {
        if (parseResult.GetValue(provider.Jobs) is < 1 or > 64)
        {
            throw new InvalidInputException("--jobs: use a number from 1 to 64");
        }
    }

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

    private static ProviderImageBuilder CreateProviderBuilder(ParseResult parseResult, BuildPlan plan, RegistryClient client, BuildOptions common, ProviderOptions? provider)
    {
        var error = parseResult.InvocationConfiguration.Error;
        return new ProviderImageBuilder(plan, new ProviderImageBuildOptions
        {
            Registry = client,
            Blobs = common.Blobs(parseResult),
            Push = provider is not null && parseResult.GetValue(provider.Push),
            Jobs = provider is null ? 2 : parseResult.GetValue(provider.Jobs),
            OutputLayout = provider is null ? null : parseResult.GetValue(provider.Output),
            Log = Logger(error),
        });
    }

    private static Action<string> Logger(TextWriter error) => line =>
    {
        lock (error)
        {
            error.WriteLine("edgeforge: " + line);
        }
    };

    private static async Task<ProviderImageBuildReport> BuildProviderImagesAsync(ParseResult parseResult, BuildPlan plan, ProviderImageBuilder builder, BuildOptions common, CancellationToken cancellationToken)
    {
        ProviderImageBuildReport report;
        try
        {
            report = await builder.BuildAsync(cancellationToken);
        }
        catch (SandboxUnavailableException e)
        {
            throw new CommandFailedException(e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException)
        {
            throw new CommandFailedException($"the shared layers could not be built: {e.Message}", e);
        }

        var buildDirectory = Path.Combine(plan.ProjectDirectory, "build");
        AtomicFile.WriteAllText(Path.Combine(buildDirectory, ReportFile), JsonSerializer.Serialize(report, DiagnosticsReport.Json) + "\n");
        var writer = parseResult.InvocationConfiguration.Output;
        if (!parseResult.GetValue(common.Json))
        {
            foreach (var image in report.Images)
            {
                writer.WriteLine(image.Error is null ? $"built  {image.Reference}  {image.Digest}" : $"FAILED {image.Reference}: {image.Error}");
            }

            writer.WriteLine($"{report.Images.Count(i => i.Error is null)} of {report.Images.Count} images; RUN steps executed: {report.RunsExecuted}; " +
                             $"layers built {report.LayersBuilt}, reused {report.LayersReused}; blobs uploaded {report.BlobsUploaded}, already present {report.BlobsSkipped}");
        }

        if (!report.Succeeded)
        {
            if (parseResult.GetValue(common.Json))
            {
                writer.WriteLine(JsonSerializer.Serialize(report, DiagnosticsReport.Json));
            }

            throw new CommandFailedException($"{report.Images.Count(i => i.Error is not null)} of {report.Images.Count} provider images failed (see above and build/{ReportFile})");
        }

        return report;
    }

    private static async Task<InstallerIsoResult> BuildIsoAsync(ParseResult parseResult, BuildPlan plan, ProviderImageBuilder provider, RegistryClient client,
        BuildOptions common, IsoOptions iso, CancellationToken cancellationToken)
    {
        var log = Logger(parseResult.InvocationConfiguration.Error);
        InstallerIsoResult result;
        try
        {
            // The installer image is the provider images' shared part (base + certs + Dockerfile + edge config, §5), from
            // the same layer cache: after provider-images it costs no rebuild.
            log("installer image: base + certificates + Dockerfile customisations + edge configuration");
            var image = await provider.BuildSharedImageAsync(cancellationToken);
            var builder = new InstallerIsoBuilder(plan, new InstallerIsoOptions
            {
                BootAssets = parseResult.GetValue(iso.BootAssets),
                ExtraKernelArguments = parseResult.GetValue(iso.KernelArguments) ?? "",
                Registry = client,
                Blobs = common.Blobs(parseResult),
                Log = log,
            });
            result = await builder.BuildAsync(image, cancellationToken);
        }
        catch (InstallerInputException e)
        {
            throw new InvalidInputException(e.Message);
        }
        catch (SandboxUnavailableException e)
        {
            throw new CommandFailedException(e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException)
        {
            throw new CommandFailedException($"the installer ISO could not be built: {e.Message}", e);
        }

        AtomicFile.WriteAllText(Path.Combine(Path.GetDirectoryName(result.IsoPath)!, IsoReportFile), JsonSerializer.Serialize(result, DiagnosticsReport.Json) + "\n");
        if (!parseResult.GetValue(common.Json))
        {
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine($"built  {Path.GetRelativePath(plan.ProjectDirectory, result.IsoPath)}  {result.Length:N0} bytes  sha256 {result.Sha256}");
            writer.WriteLine($"       kernel {result.Kernel}, initrd {result.Initrd}, rootfs.squashfs {result.RootfsSquashFsSize:N0} bytes, boot assets from {result.BootAssetsFrom}" +
                             (result.ContentParts.Count > 0 ? $", content parts {result.ContentParts.Count}" : ""));
        }

        return result;
    }

    private static void WriteManifest(ParseResult parseResult, BuildPlan plan, BuildOptions common)
    {
        var manifest = ByoosManifest.Render(plan);
        AtomicFile.WriteAllText(Path.Combine(plan.ProjectDirectory, "build", ManifestFile), manifest);
        if (!parseResult.GetValue(common.Json))
        {
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine();
            writer.WriteLine($"BYOOS pack manifest (also in build/{ManifestFile}):");
            writer.Write(manifest);
        }
    }

    /// <summary>Settings the builds cannot honour yet: refused up front rather than silently ignored.</summary>
    private static void RefuseUnbuiltFeatures(BuildPlan plan, bool providerImages, bool iso)
    {
        var refusals = new List<string>();
        if (providerImages && plan.Settings.BundleK8sAndAgentProvider && plan.Settings.K8sProviderSource is null)
        {
            refusals.Add(".arg: K8S_PROVIDER_SOURCE is not set, so there is nowhere to take the Kubernetes binaries from — " +
                "set it to an image template such as registry.example.com/edge/k8s-{distribution}:{version}, or set BUNDLE_K8S_AND_AGENT_PROVIDER=false");
        }

        // The installer ISO carries the same base as the provider images, so kernel and hardening settings concern it too.
        var unbuilt = providerImages
            ? new[] { ("UPDATE_KERNEL", plan.Settings.UpdateKernel), ("CIS_HARDENING", plan.Settings.CisHardening), ("TWO_NODE", plan.Settings.TwoNode) }
            : [("UPDATE_KERNEL", plan.Settings.UpdateKernel), ("CIS_HARDENING", plan.Settings.CisHardening)];
        foreach (var (key, enabled) in unbuilt)
        {
            if (enabled)
            {
                refusals.Add($".arg: {key}=true is not built by this version of edgeforge; the images would silently lack it — " +
                    "set it to false (or add the changes with RUN lines in the Dockerfile)");
            }
        }

        // An arm64 installer boots on UEFI only (bootaa64.efi, no BIOS El Torito entry or hybrid MBR): a different layout.
        if (iso && plan.Settings.Arch != "amd64")
        {
            refusals.Add($".arg: ARCH={plan.Settings.Arch}: the installer ISO is built for amd64 only by this version of edgeforge " +
                "(provider images are built for any ARCH: use build provider-images)");
        }

        if (refusals.Count > 0)
        {
            throw new InvalidInputException(string.Join("\nedgeforge: ", refusals));
        }
    }

    /// <summary>The project's certs/ are trusted for registries too: a private registry's CA usually sits there.</summary>
    private static string[] ProjectCertificateDirectory(BuildPlan plan)
    {
        var certs = Path.Combine(plan.ProjectDirectory, "certs");
        return plan.Inputs.Certificates.Count > 0 && Directory.Exists(certs) ? [certs] : [];
    }
}
