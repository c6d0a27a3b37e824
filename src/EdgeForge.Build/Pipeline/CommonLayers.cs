using System.Globalization;
using EdgeForge.Build.Composition;
using EdgeForge.Build.Layers;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Planning;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// The layers every artifact of a build shares, on the pinned base image: CA certificates from <c>certs/</c> into the
/// trust store, then the user's Dockerfile customisations (CanvOS <c>base-image</c>: <c>FROM DOCKERFILE</c>). Each
/// step is cached across runs by <see cref="LayerCache"/> under a key chained from the base digest, so a re-run
/// unpacks nothing and runs no RUN; the root filesystem is unpacked only when a step has to run.
/// </summary>
internal sealed class CommonLayers(BuildContext build)
{
    private BuildPlan plan => build.Plan;

    private EdgeBuildOptions options => build.Options;

    /// <summary>The base image (pinned: its registry digest roots every cache key) with the shared layers on top.</summary>
    public async Task<LayeredImage> BuildAsync(PinnedImage pinnedBase, CancellationToken cancellationToken)
    {
        var baseImage = pinnedBase.Image;
        var cache = build.LayerCache;
        var context = new ContextFiles(plan.ProjectDirectory, DockerIgnore.Load(plan.ProjectDirectory));
        var variables = new BuildVariables(baseImage.Config.Config?.Env);
        var proxies = BuildProxies();
        var workingDirectory = string.IsNullOrEmpty(baseImage.Config.Config?.WorkingDir) ? "/" : baseImage.Config.Config!.WorkingDir!;
        var user = baseImage.Config.Config?.User;
        var labels = new Dictionary<string, string>(baseImage.Config.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var key = pinnedBase.Digest.ToString();
        var image = BuiltImage.AppendLayers(baseImage, []);
        Workspace? workspace = null;
        try
        {
            async Task Step(string createdBy, string material, Func<RootfsSteps, Task>? onRootfs, Func<IFileTreeSource>? generated = null)
            {
                key = LayerCache.ChainKey(key, material);
                var cached = cache.TryGet(key);
                ILayer? layer;
                if (cached is not null)
                {
                    build.Counters.LayerReused();
                    layer = cached.Layer;
                    build.Log($"cached: {createdBy}");
                    if (workspace is not null)
                    {
                        await workspace.ApplyAsync(layer, cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (generated is not null)
                {
                    layer = await LayerWriter.WriteAsync(generated(), options.Blobs, build.LayerOptions(), cancellationToken).ConfigureAwait(false);
                    build.Counters.LayerBuilt();
                    cache.Put(key, layer);
                }
                else
                {
                    workspace ??= await Workspace.CreateAsync(image, build, cancellationToken).ConfigureAwait(false);
                    build.Log($"step: {createdBy}");
                    var before = FilesystemSnapshot.Take(workspace.Root);
                    await onRootfs!(workspace.Steps(context)).ConfigureAwait(false);
                    var changes = FilesystemChanges.Between(workspace.Root, before, FilesystemSnapshot.Take(workspace.Root));
                    layer = changes.IsEmpty ? null : await LayerWriter.WriteAsync(changes, options.Blobs, build.LayerOptions(), cancellationToken).ConfigureAwait(false);
                    build.Counters.LayerBuilt();
                    cache.Put(key, layer);
                }

                var history = new HistoryEntry { Created = build.Created(), CreatedBy = createdBy };
                image = layer is null
                    ? BuiltImage.WithConfig(image, c => c, history)
                    : BuiltImage.AppendLayers(image, [(layer, history)]);
            }

            if (plan.Inputs.Certificates.Count > 0)
            {
                var store = TrustStore.For(plan.Settings.OsDistribution);
                var certificates = plan.Inputs.Certificates;
                await Step($"edgeforge: CA certificates {string.Join(", ", certificates.Select(c => c.DisplayName))} into /{store.AnchorDirectory}",
                    "certs\n" + store + "\n" + context.Fingerprint(certificates.Select(c => Path.GetRelativePath(plan.ProjectDirectory, c.Path))),
                    steps => steps.InstallCertificatesAsync(certificates, store, WithProxies(variables.ForRun(), proxies), cancellationToken)).ConfigureAwait(false);
            }

            foreach (var instruction in plan.Customisations.Instructions)
            {
                switch (instruction)
                {
                    case RunInstruction run:
                        var runUser = user;
                        var runDirectory = workingDirectory;
                        await Step($"RUN {run.ShellCommand ?? string.Join(' ', run.Exec!)}",
                            $"RUN\n{run.ShellCommand}\n{string.Join('\0', run.Exec ?? [])}\n{variables.Fingerprint()}\n{runUser}\n{runDirectory}",
                            async steps =>
                            {
                                build.Counters.Run();
                                await steps.RunAsync(run, variables, proxies, runDirectory, runUser, cancellationToken).ConfigureAwait(false);
                            }).ConfigureAwait(false);
                        break;
                    case CopyInstruction copy:
                        var copyDirectory = workingDirectory;
                        await Step($"{copy.Keyword} {string.Join(' ', copy.Sources)} {copy.Destination}",
                            $"{copy.Keyword}\n{string.Join('\0', copy.Sources.Select(variables.Substitute))}\n{variables.Substitute(copy.Destination)}\n{copy.Chown}\n{copy.Chmod}\n{copyDirectory}\n" +
                            context.Fingerprint(copy.Sources.Select(variables.Substitute)),
                            steps => steps.CopyAsync(copy, variables, copyDirectory, cancellationToken)).ConfigureAwait(false);
                        break;
                    case WorkdirInstruction workdir:
                        var path = variables.Substitute(workdir.Path);
                        workingDirectory = path.StartsWith('/') ? path : workingDirectory.TrimEnd('/') + "/" + path;
                        var directory = workingDirectory;
                        await Step($"WORKDIR {directory}", $"WORKDIR\n{directory}", steps =>
                        {
                            steps.MakeWorkingDirectory(directory);
                            return Task.CompletedTask;
                        }).ConfigureAwait(false);
                        break;
                    case EnvInstruction env:
                        foreach (var (name, value) in env.Variables)
                        {
                            variables.SetEnv(name, variables.Substitute(value));
                        }

                        break;
                    case ArgInstruction arg:
                        variables.SetArg(arg.Name, plan.BuildArguments.GetValueOrDefault(arg.Name) ?? arg.DefaultValue ?? "");
                        break;
                    case LabelInstruction label:
                        foreach (var (name, value) in label.Labels)
                        {
                            labels[variables.Substitute(name)] = variables.Substitute(value);
                        }

                        break;
                    case UserInstruction userInstruction:
                        user = variables.Substitute(userInstruction.User);
                        break;
                }
            }

            // CanvOS base-image, after FROM DOCKERFILE: IF IS_UKI, COPY cloudconfigs/80_stylus_uki.yaml /etc/kairos/.
            if (plan.Inputs.TrustedBootCloudConfig is { } cloudConfig)
            {
                var tree = new InMemoryFileTreeSource().AddFile("etc/kairos/80_stylus_uki.yaml", await File.ReadAllBytesAsync(cloudConfig, cancellationToken).ConfigureAwait(false));
                await Step($"COPY {EdgeForge.Configuration.Inputs.ProjectInputs.TrustedBootCloudConfigPath} /etc/kairos/80_stylus_uki.yaml",
                    "trusted-boot-cloud-config\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false), null, () => tree).ConfigureAwait(false);
            }

            // CanvOS base-image, its OS block with UPDATE_KERNEL=true: the newest vendor kernel and its initramfs.
            if (plan.Settings.UpdateKernel)
            {
                var command = Composition.UpdateKernel.Command(plan.Settings);
                var kernelUser = user;
                await Step($"RUN {command}", $"RUN\n{command}\n{variables.Fingerprint()}\n{kernelUser}\n/", async steps =>
                {
                    build.Log("UPDATE_KERNEL=true: installing the newest vendor kernel and regenerating its initramfs");
                    build.Counters.Run();
                    await steps.RunAsync(new RunInstruction(0, command, null), variables, proxies, "/", kernelUser, cancellationToken, "UPDATE_KERNEL=true (CanvOS base-image)").ConfigureAwait(false);
                }).ConfigureAwait(false);
            }

            // CanvOS base-image, right after its kernel steps: the GPU driver blocks, against the now final kernel.
            if (plan.Settings.NvidiaDrivers is { } nvidia)
            {
                var script = GpuDrivers.NvidiaScript(plan.Settings);
                var gpuUser = user;
                await SubStepAsync(GpuDrivers.NvidiaStepName, GpuDrivers.NvidiaTitle(nvidia), () => Step(GpuDrivers.NvidiaTitle(nvidia), $"RUN\n{script}\n{variables.Fingerprint()}\n{gpuUser}\n/", async steps =>
                {
                    build.Log($"INSTALL_NVIDIA_GPU_DRIVERS=true: NVIDIA driver {nvidia.Branch} ({nvidia.Type.ToString().ToLowerInvariant()}) and its DKMS modules for the image's kernel");
                    build.Counters.Run();
                    await steps.RunAsync(new RunInstruction(0, script, null), variables, proxies, "/", gpuUser, cancellationToken, "INSTALL_NVIDIA_GPU_DRIVERS=true (CanvOS base-image)").ConfigureAwait(false);
                })).ConfigureAwait(false);
            }

            if (plan.Settings.AmdGpuDrivers is { } amd)
            {
                var script = GpuDrivers.AmdScript(plan.Settings);
                var artifact = plan.Inputs.AmdGpuArtifact;
                var artifactHash = artifact is null ? "" : await Sha256Async(artifact, cancellationToken).ConfigureAwait(false);
                var gpuUser = user;
                await SubStepAsync(GpuDrivers.AmdStepName, GpuDrivers.AmdTitle(amd), () => Step(GpuDrivers.AmdTitle(amd), $"RUN\n{script}\n{variables.Fingerprint()}\n{gpuUser}\n/\n{artifactHash}", async steps =>
                {
                    build.Log($"INSTALL_AMD_GPU_DRIVERS=true: amdgpu ({amd.Source.ToString().ToLowerInvariant()}{(artifact is null ? "" : ", prebuilt artifact")}) for the image's kernel");
                    if (artifact is not null)
                    {
                        steps.PlaceFile(artifact, GpuDrivers.AmdGpuArtifactInRootfs);
                    }

                    build.Counters.Run();
                    await steps.RunAsync(new RunInstruction(0, script, null), variables, proxies, "/", gpuUser, cancellationToken, "INSTALL_AMD_GPU_DRIVERS=true (CanvOS base-image)").ConfigureAwait(false);
                })).ConfigureAwait(false);
            }

            // CanvOS base-image, last of its OS steps: IF CIS_HARDENING, cis-harden/harden.sh (here our controls and a report).
            if (plan.Settings.CisHardening)
            {
                var command = Composition.CisHardening.Command(plan.Settings);
                var hardeningUser = user;
                await Step($"RUN edgeforge CIS hardening ({Composition.CisHardening.Controls.Count} controls, report /{Composition.CisHardening.ReportPath})",
                    $"RUN\n{command}\n{variables.Fingerprint()}\n{hardeningUser}\n/", async steps =>
                {
                    build.Log($"CIS_HARDENING=true: applying {Composition.CisHardening.Controls.Count} controls ({Composition.CisHardening.Benchmark} sections)");
                    build.Counters.Run();
                    await steps.RunAsync(new RunInstruction(0, command, null), variables, proxies, "/", hardeningUser, cancellationToken, "CIS_HARDENING=true").ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
        }
        finally
        {
            workspace?.Dispose();
        }

        var finalUser = user;
        var finalDirectory = workingDirectory;
        return new LayeredImage(BuiltImage.WithConfig(image, config => config with
        {
            Architecture = plan.Settings.Arch,
            Os = "linux",
            Config = (config.Config ?? new ContainerConfig()) with
            {
                Env = variables.ImageEnv,
                User = string.IsNullOrEmpty(finalUser) ? null : finalUser,
                WorkingDir = finalDirectory == "/" ? null : finalDirectory,
                Labels = labels,
            },
        }), key);
    }

    /// <summary>
    /// One shell command CanvOS's Earthfile runs on an upstream image (not the project's Dockerfile), run the same way:
    /// in the RUN sandbox, with the image's environment and the build's proxies, its changes as one layer cached under
    /// the chain key.
    /// </summary>
    public async Task<LayeredImage> RunAsync(LayeredImage on, string command, CancellationToken cancellationToken)
    {
        var config = on.Image.Config.Config;
        var variables = new BuildVariables(config?.Env);
        var directory = string.IsNullOrEmpty(config?.WorkingDir) ? "/" : config!.WorkingDir!;
        var key = LayerCache.ChainKey(on.Key, $"RUN\n{command}\n{variables.Fingerprint()}\n{config?.User}\n{directory}");
        var history = new HistoryEntry { Created = build.Created(), CreatedBy = "RUN " + command };
        ILayer? layer;
        if (build.LayerCache.TryGet(key) is { } cached)
        {
            build.Counters.LayerReused();
            build.Log($"cached: RUN {command}");
            layer = cached.Layer;
        }
        else
        {
            using var workspace = await Workspace.CreateAsync(on.Image, build, cancellationToken).ConfigureAwait(false);
            build.Log($"step: RUN {command}");
            build.Counters.Run();
            var before = FilesystemSnapshot.Take(workspace.Root);
            await workspace.Steps(new ContextFiles(plan.ProjectDirectory, DockerIgnore.Load(plan.ProjectDirectory)))
                .RunAsync(new RunInstruction(0, command, null), variables, BuildProxies(), directory, config?.User, cancellationToken, $"CanvOS's RUN {command}").ConfigureAwait(false);
            var changes = FilesystemChanges.Between(workspace.Root, before, FilesystemSnapshot.Take(workspace.Root));
            layer = changes.IsEmpty ? null : await LayerWriter.WriteAsync(changes, options.Blobs, build.LayerOptions(), cancellationToken).ConfigureAwait(false);
            build.Counters.LayerBuilt();
            build.LayerCache.Put(key, layer);
        }

        return new LayeredImage(layer is null
            ? BuiltImage.WithConfig(on.Image, c => c, history with { EmptyLayer = true })
            : BuiltImage.AppendLayers(on.Image, [(layer, history)]), key);
    }

    /// <summary>
    /// <paramref name="work"/> as a step of its own inside common-layers (<c>common-layers/NAME</c>, as the ISO's stages
    /// are inside installer-iso): its messages, the sandbox's output among them, and its time show under its name.
    /// </summary>
    private Task SubStepAsync(string name, string title, Func<Task> work) =>
        StepScope.RunAsync<bool>(options.Observer, "common-layers/" + name, title, async scope =>
        {
            // The current scope is async-local: set here, it is the caller's again when this returns.
            build.Scope = scope;
            await work().ConfigureAwait(false);
            return true;
        });

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The .arg proxies, in both spellings tools read: for RUN only, never in the image.</summary>
    private Dictionary<string, string> BuildProxies()
    {
        var settings = plan.Settings;
        var proxies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in new[] { ("HTTP_PROXY", settings.HttpProxy), ("HTTPS_PROXY", settings.HttpsProxy), ("NO_PROXY", settings.NoProxy) })
        {
            if (value.Length > 0)
            {
                proxies[name] = value;
                proxies[name.ToLowerInvariant()] = value;
            }
        }

        return proxies;
    }

    private static Dictionary<string, string> WithProxies(Dictionary<string, string> environment, IReadOnlyDictionary<string, string> proxies)
    {
        foreach (var (name, value) in proxies)
        {
            environment[name] = value;
        }

        return environment;
    }


    /// <summary>The unpacked root filesystem the RUN/COPY steps work on; created on the first step that must run.</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly RunSandbox _sandbox;
        private readonly Action<string> _log;

        private Workspace(string root, RunSandbox sandbox, Action<string> log)
        {
            Root = root;
            _sandbox = sandbox;
            _log = log;
        }

        public string Root { get; }

        public static async Task<Workspace> CreateAsync(IImage image, BuildContext build, CancellationToken cancellationToken)
        {
            var sandbox = RunSandbox.Detect(build.Options.Sandbox);
            ForeignArchitecture.Require(build.Plan.Settings.Arch, build.Options.BinfmtDirectory);
            var root = Directory.CreateTempSubdirectory("edgeforge-rootfs-").FullName;
            File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("755", 8));
            build.Log($"unpack {image.Layers.Count} layer(s) for the steps that must run");
            await SafeExtractor.ExtractImageAsync(image, root, cancellationToken).ConfigureAwait(false);
            return new Workspace(root, sandbox, build.Log);
        }

        public RootfsSteps Steps(ContextFiles context) => new(Root, context, _sandbox, _log);

        public async Task ApplyAsync(ILayer? layer, CancellationToken cancellationToken)
        {
            if (layer is null)
            {
                return;
            }

            await using var tar = await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false);
            await SafeExtractor.ExtractLayerAsync(tar, Root, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
