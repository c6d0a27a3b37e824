using System.CommandLine;
using System.Text;
using System.Text.Json;
using EdgeForge.Build.Pipeline;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// The <c>image</c> group: copy images between registries, OCI layouts and archives, inspect them, and import a
/// root filesystem as a base image. Thin over EdgeForge.Oci.
/// </summary>
internal static class ImageCommands
{
    public static Command Create()
    {
        var image = new Command("image", "Copy, inspect and import OCI images (registries, OCI layouts, oci-archive and docker-archive files).");
        image.Subcommands.Add(Copy());
        image.Subcommands.Add(Inspect());
        image.Subcommands.Add(Import());
        return image;
    }

    private const string LocationHelp = "docker://REF, oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REF]; a bare REF means docker://REF";

    private static Command Copy()
    {
        var source = new Argument<string>("SRC") { Description = "The image to copy: " + LocationHelp + "." };
        var destination = new Argument<string>("DST") { Description = "Where to copy it: " + LocationHelp + "." };
        var all = new Option<bool>("--all") { Description = "Copy an index with every platform it lists (default: one platform)." };
        var platform = PlatformOption("The platform chosen from an index (default: linux and the host's architecture).");
        var parallel = new Option<int>("--parallel") { Description = "Blobs transferred at once.", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print progress as JSON event lines and the result as JSON (as build --json does)." };
        var registry = new RegistryOptions();
        var command = new Command("copy", "Copy an image between any two transports, keeping its digest; blobs the destination has are skipped.")
        {
            source, destination, all, platform, parallel, json,
        };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var from = ParseLocation(parseResult.GetValue(source)!, "SRC");
            var to = ParseLocation(parseResult.GetValue(destination)!, "DST");
            var wanted = ParsePlatform(parseResult.GetValue(platform));
            if (parseResult.GetValue(parallel) is < 1 or > 64)
            {
                throw new InvalidInputException("--parallel: between 1 and 64");
            }

            using var client = registry.CreateClient(parseResult);
            var asJson = parseResult.GetValue(json);
            var output = parseResult.InvocationConfiguration.Output;
            CopyResult result;
            // Opened before the step starts: a source that does not exist is invalid input, not a failed copy.
            await using var src = from.OpenSource(client);
            await using var dst = to.OpenDestination(client, parseResult.GetValue(parallel));
            using (var observer = BuildProgress.Create(output, parseResult.InvocationConfiguration.Error, asJson))
            {
                result = await StepScope.RunAsync(observer, "copy", $"{from} → {to}", scope => ImageCopier.CopyAsync(src, dst, new CopyOptions
                {
                    AllPlatforms = parseResult.GetValue(all),
                    Platform = wanted,
                    MaxParallelBlobs = parseResult.GetValue(parallel),
                    Progress = scope,
                }, cancellationToken), copied => $"{copied.ManifestDigest}: {copied.BlobsTransferred} blobs transferred, {copied.BlobsSkipped} already present");
            }

            await output.WriteLineAsync(asJson
                ? JsonSerializer.Serialize(new { source = from.ToString(), destination = to.ToString(), digest = result.ManifestDigest.ToString(), mediaType = result.MediaType,
                    bytesTransferred = result.BytesTransferred, blobsTransferred = result.BlobsTransferred, blobsSkipped = result.BlobsSkipped }, DiagnosticsReport.Json)
                : $"Copied {from} to {to}: {result.ManifestDigest} ({result.BlobsTransferred} blobs transferred, {result.BlobsSkipped} already present)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Inspect()
    {
        var reference = new Argument<string>("REF") { Description = "The image: " + LocationHelp + "." };
        var raw = new Option<bool>("--raw") { Description = "Print the manifest (or index) exactly as stored." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var platform = PlatformOption("The platform described when REF names an index (default: linux and the host's architecture).");
        var registry = new RegistryOptions();
        var command = new Command("inspect", "Show an image's digest, platform, config and layers.") { reference, raw, json, platform };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var location = ParseLocation(parseResult.GetValue(reference)!, "REF");
            var wanted = ParsePlatform(parseResult.GetValue(platform));
            var output = parseResult.InvocationConfiguration.Output;
            using var client = registry.CreateClient(parseResult);
            await using var source = location.OpenSource(client);
            var root = await source.GetManifestAsync(cancellationToken);
            if (parseResult.GetValue(raw))
            {
                await output.WriteLineAsync(Encoding.UTF8.GetString(root.Bytes.Span));
                return ExitCodes.Ok;
            }

            IReadOnlyList<Descriptor>? platforms = root.IsIndex ? root.AsIndex().Manifests : null;
            var image = await SourceImage.LoadAsync(source, wanted, cancellationToken);
            var summary = new ImageSummary(location.ToString(), root.Digest.ToString(), root.MediaType, image.Digest.ToString(),
                image.Config.Platform.ToString(), image.Config.Created, image.Config.Config?.Env ?? [], image.Config.Config?.Labels ?? new Dictionary<string, string>(),
                image.Layers.Select(l => new LayerSummary(l.Digest.ToString(), l.DiffId.ToString(), l.Size, l.MediaType)).ToList(),
                platforms?.Select(m => new PlatformSummary(m.Platform?.ToString() ?? "unknown", m.Digest.ToString(), m.MediaType)).ToList());
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(summary, OciJson.Indented));
            }
            else
            {
                await WriteTextAsync(output, summary);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Import()
    {
        var rootFs = new Argument<string>("ROOTFS") { Description = "A root filesystem: a directory, or a tar file (plain or gzip)." };
        var destination = new Argument<string>("DST") { Description = "Where to write the image: " + LocationHelp + "." };
        var platform = PlatformOption("The platform recorded in the image config.", "linux/amd64");
        var env = new Option<string[]>("--env") { Description = "KEY=VALUE for the image's environment; repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var label = new Option<string[]>("--label") { Description = "KEY=VALUE image label; repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var compression = new Option<string>("--compression") { Description = "Layer compression: gzip (default) or zstd.", DefaultValueFactory = _ => "gzip" };
        var registry = new RegistryOptions();
        var command = new Command("import", "Make a single-layer base image from a root filesystem (bring your own OS). Reproducible: the same tree gives the same digest; times come from SOURCE_DATE_EPOCH (default 0).")
        {
            rootFs, destination, platform, env, label, compression,
        };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(rootFs)!;
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                throw new InvalidInputException($"{path}: no such directory or tar file");
            }

            var to = ParseLocation(parseResult.GetValue(destination)!, "DST");
            var options = new ImportOptions
            {
                Platform = ParsePlatform(parseResult.GetValue(platform)) ?? Platform.LinuxAmd64,
                Env = Pairs(parseResult.GetValue(env), "--env").Select(p => $"{p.Key}={p.Value}").ToList(),
                Labels = Pairs(parseResult.GetValue(label), "--label").ToDictionary(p => p.Key, p => p.Value),
                Layer = new LayerOptions
                {
                    Compression = parseResult.GetValue(compression) switch
                    {
                        "gzip" => LayerCompression.Gzip,
                        "zstd" => LayerCompression.Zstd,
                        var other => throw new InvalidInputException($"--compression {other}: gzip or zstd"),
                    },
                },
            };
            using var client = registry.CreateClient(parseResult);
            var image = await RootFsImporter.ImportAsync(path, BlobCache.Default(), options, cancellationToken);
            await using (var dst = to.OpenDestination(client))
            {
                await ImageCopier.WriteAsync(image, dst, cancellationToken: cancellationToken);
            }

            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Imported {path} as {to}: {image.Digest}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> PlatformOption(string description, string? defaultValue = null) => new("--platform")
    {
        Description = description + " OS/ARCH[/VARIANT], e.g. linux/arm64." + (defaultValue is null ? "" : $" Default {defaultValue}."),
    };

    private static Platform? ParsePlatform(string? value)
    {
        if (value is null)
        {
            return null;
        }

        return CommandLineValues.Parse("--platform", value, Platform.Parse);
    }

    private static ImageLocation ParseLocation(string value, string what) => CommandLineValues.Parse(what, value, ImageLocation.Parse);


    private static IEnumerable<KeyValuePair<string, string>> Pairs(string[]? values, string option)
    {
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=');
            if (equals <= 0)
            {
                throw new InvalidInputException($"{option} '{value}': expected KEY=VALUE");
            }

            yield return new(value[..equals], value[(equals + 1)..]);
        }
    }

    private static async Task WriteTextAsync(TextWriter output, ImageSummary summary)
    {
        await output.WriteLineAsync($"Name:       {summary.Name}");
        await output.WriteLineAsync($"Digest:     {summary.Digest}");
        await output.WriteLineAsync($"MediaType:  {summary.MediaType}");
        if (summary.Manifests is { } manifests)
        {
            await output.WriteLineAsync("Platforms:");
            foreach (var manifest in manifests)
            {
                await output.WriteLineAsync($"  {manifest.Platform,-20} {manifest.Digest}");
            }

            await output.WriteLineAsync($"Image:      {summary.ImageDigest} ({summary.Platform})");
        }

        await output.WriteLineAsync($"Platform:   {summary.Platform}");
        if (summary.Created is not null)
        {
            await output.WriteLineAsync($"Created:    {summary.Created}");
        }

        foreach (var env in summary.Env)
        {
            await output.WriteLineAsync($"Env:        {env}");
        }

        foreach (var (key, value) in summary.Labels)
        {
            await output.WriteLineAsync($"Label:      {key}={value}");
        }

        await output.WriteLineAsync($"Layers ({summary.Layers.Count}, {BuildProgress.Size(summary.Layers.Sum(l => l.Size))}):");
        foreach (var layer in summary.Layers)
        {
            await output.WriteLineAsync($"  {layer.Digest}  {BuildProgress.Size(layer.Size),10}  {layer.MediaType}");
        }
    }

    private sealed record ImageSummary(
        string Name, string Digest, string MediaType, string ImageDigest, string Platform, string? Created,
        IReadOnlyList<string> Env, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<LayerSummary> Layers, IReadOnlyList<PlatformSummary>? Manifests);

    private sealed record LayerSummary(string Digest, string DiffId, long Size, string MediaType);

    private sealed record PlatformSummary(string Platform, string Digest, string MediaType);
}
/// <summary>The options every command that talks to registries shares: credentials, insecure registries, extra CAs.</summary>
internal sealed class RegistryOptions
{
    public Option<string?> Creds { get; } = new("--creds")
    {
        Description = "USER:PASSWORD for the registries of this command (otherwise the Docker config and its credential helpers are used).",
    };

    public Option<string[]> InsecureRegistries { get; } = new("--insecure-registry")
    {
        Description = "HOST[:PORT] that may be reached over plain HTTP or with an unverified certificate; repeatable. Loopback registries may always use HTTP.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string[]> CertDirectories { get; } = new("--cert-dir")
    {
        Description = "A directory of PEM CA certificates (*.pem, *.crt), e.g. the project's certs/, trusted besides the system's; repeatable.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> RegistriesConf { get; } = new("--registries-conf")
    {
        Description = "A containers-registries.conf(5) file (version 2: [[registry]] prefix/location/insecure/blocked, [[registry.mirror]]) and its registries.conf.d/; "
            + "default: $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf, else /etc/containers/registries.conf.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Creds);
        command.Options.Add(InsecureRegistries);
        command.Options.Add(CertDirectories);
        command.Options.Add(RegistriesConf);
    }

    /// <param name="proxy">The proxy for every request (a project's HTTP(S)_PROXY/NO_PROXY); null: the environment's.</param>
    public RegistryClient CreateClient(ParseResult parseResult, IReadOnlyList<string>? extraCertificatePaths = null, Func<ICredentialProvider, ICredentialProvider>? extraCredentials = null,
        System.Net.IWebProxy? proxy = null)
    {
        ICredentialProvider credentials = DockerConfigFile.Default();
        if (parseResult.GetValue(Creds) is { } creds)
        {
            credentials = new StaticCredentialProvider(CommandLineValues.Parse("--creds", creds, RegistryCredential.ParseUserPassword, "expected USER:PASSWORD"));
        }

        var certDirectories = parseResult.GetValue(CertDirectories) ?? [];
        foreach (var directory in certDirectories)
        {
            if (!Directory.Exists(directory) && !File.Exists(directory))
            {
                throw new InvalidInputException($"--cert-dir {directory}: no such directory");
            }
        }

        var mirrors = RegistriesConfiguration.LoadDefault(parseResult.GetValue(RegistriesConf), Environment.GetEnvironmentVariable);

        return new RegistryClient(new RegistryClientOptions
        {
            Credentials = extraCredentials is null ? credentials : extraCredentials(credentials),
            InsecureRegistries = parseResult.GetValue(InsecureRegistries) ?? [],
            CaCertificatePaths = [.. certDirectories, .. extraCertificatePaths ?? []],
            Mirrors = mirrors,
            Proxy = proxy,
        });
    }
}
