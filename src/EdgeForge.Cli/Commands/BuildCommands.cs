using System.CommandLine;
using System.Text.Json;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Planning;
using EdgeForge.Oci.Blobs;

namespace EdgeForge.Cli.Commands;

/// <summary><c>build provider-images</c> (CanvOS target <c>+build-provider-images</c>).</summary>
internal static class BuildCommands
{
    public const string ReportFile = "provider-images.json";
    public const string ManifestFile = "byoos-manifest.yaml";

    public static Command Create()
    {
        var build = new Command("build", "Build artifacts from a CanvOS project directory.");
        build.Subcommands.Add(ProviderImages());
        return build;
    }

    private static Command ProviderImages()
    {
        var project = new ProjectArguments();
        var registry = new RegistryOptions();
        var push = new Option<bool>("--push") { Description = "Also push every image to its planned reference (IMAGE_REGISTRY/IMAGE_REPO:TAG)." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Kubernetes versions built at once.", DefaultValueFactory = _ => 2 };
        var output = new Option<string?>("--output") { Description = "OCI layout directory for the images (default DIR/build/images)." };
        var cacheDirectory = new Option<string?>("--cache-dir") { Description = "Blob and layer cache (default $EDGEFORGE_CACHE, else ~/.cache/edgeforge); safe to share between builds." };
        var json = JsonOption.Create();
        var command = new Command("provider-images",
            "Build the provider image matrix: one image per Kubernetes version, into an OCI layout (and a registry with --push); then print the BYOOS pack manifest.");
        command.Aliases.Add("+build-provider-images");
        project.AddTo(command);
        registry.AddTo(command);
        command.Options.Add(push);
        command.Options.Add(jobs);
        command.Options.Add(output);
        command.Options.Add(cacheDirectory);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var plan = ProjectCommands.LoadOrReport(parseResult, project);
            var refusals = new List<string>();
            if (plan.Settings.BundleK8sAndAgentProvider && plan.Settings.K8sProviderSource is null)
            {
                refusals.Add(".arg: K8S_PROVIDER_SOURCE is not set, so there is nowhere to take the Kubernetes binaries from — " +
                    "set it to an image template such as registry.example.com/edge/k8s-{distribution}:{version}, or set BUNDLE_K8S_AND_AGENT_PROVIDER=false");
            }

            foreach (var (key, enabled) in new[] { ("UPDATE_KERNEL", plan.Settings.UpdateKernel), ("CIS_HARDENING", plan.Settings.CisHardening), ("TWO_NODE", plan.Settings.TwoNode) })
            {
                if (enabled)
                {
                    refusals.Add($".arg: {key}=true is not built by this version of edgeforge; the images would silently lack it — " +
                        "set it to false (or add the changes with RUN lines in the Dockerfile)");
                }
            }

            if (refusals.Count > 0)
            {
                throw new InvalidInputException(string.Join("\nedgeforge: ", refusals));
            }

            if (parseResult.GetValue(jobs) is < 1 or > 64)
            {
                throw new InvalidInputException("--jobs: use a number from 1 to 64");
            }

            var error = parseResult.InvocationConfiguration.Error;
            using var client = registry.CreateClient(parseResult, ProjectCertificateDirectory(plan));
            var builder = new ProviderImageBuilder(plan, new ProviderImageBuildOptions
            {
                Registry = client,
                Blobs = parseResult.GetValue(cacheDirectory) is { } cache ? new BlobCache(cache) : BlobCache.Default(),
                Push = parseResult.GetValue(push),
                Jobs = parseResult.GetValue(jobs),
                OutputLayout = parseResult.GetValue(output),
                Log = line => { lock (error) { error.WriteLine("edgeforge: " + line); } },
            });

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
            if (parseResult.GetValue(json))
            {
                writer.WriteLine(JsonSerializer.Serialize(report, DiagnosticsReport.Json));
            }
            else
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
                throw new CommandFailedException($"{report.Images.Count(i => i.Error is not null)} of {report.Images.Count} provider images failed (see above and build/{ReportFile})");
            }

            var manifest = ByoosManifest.Render(plan);
            AtomicFile.WriteAllText(Path.Combine(buildDirectory, ManifestFile), manifest);
            if (!parseResult.GetValue(json))
            {
                writer.WriteLine();
                writer.WriteLine($"BYOOS pack manifest (also in build/{ManifestFile}):");
                writer.Write(manifest);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The project's certs/ are trusted for registries too: a private registry's CA usually sits there.</summary>
    private static string[] ProjectCertificateDirectory(BuildPlan plan)
    {
        var certs = Path.Combine(plan.ProjectDirectory, "certs");
        return plan.Inputs.Certificates.Count > 0 && Directory.Exists(certs) ? [certs] : [];
    }
}
