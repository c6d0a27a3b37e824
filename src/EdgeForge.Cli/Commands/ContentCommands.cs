using System.CommandLine;
using System.Text.Json;
using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Content.Bundles;
using EdgeForge.Content.Signing;
using EdgeForge.Compression;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Cli.Commands;

/// <summary>The <c>content</c> group: building, inspecting, restoring, signing and verifying content bundles (spec §9).</summary>
internal static class ContentCommands
{
    public static Command Create()
    {
        var content = new Command("content", "Content bundles for air-gapped sites: build, inspect, push, extract, sign and verify.");
        content.Subcommands.Add(Build());
        content.Subcommands.Add(Inspect());
        content.Subcommands.Add(Push());
        content.Subcommands.Add(Extract());
        content.Subcommands.Add(Sign());
        content.Subcommands.Add(Verify());
        return content;
    }

    private static Command Build()
    {
        var images = new Option<string?>("--images") { Description = "An image list: one reference a line, # starts a comment." };
        var profiles = new Option<string[]>("--profile") { Description = "A cluster-profile file (docs/content-profiles.md); repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--output", "-o") { Description = "The directory receiving content-<id>/<name>.<ext>.", Required = true };
        var name = new Option<string>("--name") { Description = "The bundle's file name without extension.", DefaultValueFactory = _ => "content" };
        var format = new Option<string>("--format") { Description = "zst (zstd-compressed tar, default), tar, or iso (ISO 9660 for a USB stick).", DefaultValueFactory = _ => "zst" };
        var level = new Option<int>("--level") { Description = "zstd compression level.", DefaultValueFactory = _ => 3 };
        var arch = new Option<string?>("--arch") { Description = "Keep only this architecture of multi-arch images (e.g. amd64; digests of indexes change). Default: every platform." };
        var privateKey = new Option<string?>("--private-key") { Description = "RSA private key (PEM): also write a detached signature BUNDLE.sig." };
        var existing = new Option<string[]>("--existing") { Description = "A bundle built before whose blobs are reused instead of fetched; repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print progress as JSON event lines and the result as JSON (as build --json does)." };
        var registry = new RegistryOptions();
        var command = new Command("build", "Build a content bundle: an OCI image layout of every image of an image list and of cluster profiles, with Helm charts, packs and manifests.")
        {
            images, profiles, output, name, format, level, arch, privateKey, existing, json,
        };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var bundleFormat = parseResult.GetValue(format) switch
            {
                "zst" => BundleFormat.Zst,
                "tar" => BundleFormat.Tar,
                "iso" => BundleFormat.Iso,
                var other => throw new InvalidInputException($"--format {other}: use zst, tar or iso"),
            };
            var bundleName = parseResult.GetValue(name)!;
            if (!bundleName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') || bundleName is "" or "." or "..")
            {
                throw new InvalidInputException($"--name {bundleName}: letters, digits, '.', '_' and '-' only");
            }

            var zstdLevel = parseResult.GetValue(level);
            if (zstdLevel < 1 || zstdLevel > Zstd.MaxLevel)
            {
                throw new InvalidInputException($"--level {zstdLevel}: between 1 and {Zstd.MaxLevel}");
            }

            var architecture = parseResult.GetValue(arch);
            if (architecture is not null)
            {
                CommandLineValues.Parse("--arch", architecture.Contains('/') ? architecture : "linux/" + architecture, Platform.Parse);
            }

            var inputs = ContentInputs.Load(parseResult.GetValue(images), parseResult.GetValue(profiles) ?? []);

            var existingBundles = parseResult.GetValue(existing) ?? [];
            foreach (var path in existingBundles)
            {
                RequireFile(path);
            }

            using var key = parseResult.GetValue(privateKey) is { } keyPath ? SigningKeys.LoadPrivateKey(keyPath) : null;
            using var client = registry.CreateClient(parseResult);
            var asJson = parseResult.GetValue(json);
            var writer = parseResult.InvocationConfiguration.Output;
            var builder = new ContentBundleBuilder(client, BlobCache.Default());
            ContentBundleResult result;
            using (var observer = BuildProgress.Create(writer, parseResult.InvocationConfiguration.Error, asJson))
            {
                // The builder's stages (resolve, fetch, write, sign) become steps "content/<stage>" of their own.
                var stages = new StageSequence<ContentBundleStage>(observer, "content");
                try
                {
                    result = await builder.BuildAsync(inputs, new ContentBundleOptions
                    {
                        OutputDirectory = parseResult.GetValue(output)!,
                        Name = bundleName,
                        Format = bundleFormat,
                        Level = zstdLevel,
                        Architecture = architecture,
                        SigningKey = key,
                        ExistingBundles = existingBundles,
                        Log = stages.Message,
                        Progress = new StageProgress(stages),
                    }, cancellationToken);
                    stages.End();
                }
                catch (Exception e)
                {
                    // The failed stage says so in the event stream; the error itself is reported once, by the runner.
                    stages.End(e.Message);
                    throw;
                }
            }

            var totals = result.Definition.Totals;
            if (asJson)
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(new { bundle = result.BundlePath, signature = result.SignaturePath, size = new FileInfo(result.BundlePath).Length, totals },
                    DiagnosticsReport.Json));
                return ExitCodes.Ok;
            }

            await writer.WriteLineAsync(
                $"wrote {result.BundlePath} ({totals.Images} images, {totals.Blobs} blobs, {totals.Charts} charts, {totals.Packs} packs, {new FileInfo(result.BundlePath).Length} bytes)");
            if (result.SignaturePath is { } signature)
            {
                await writer.WriteLineAsync($"wrote {signature}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Synchronous on purpose: <see cref="Progress{T}"/> would post to the thread pool and reorder stages.</summary>
    private sealed class StageProgress(StageSequence<ContentBundleStage> stages) : IProgress<ContentBundleProgress>
    {
        public void Report(ContentBundleProgress value) => stages.Report(value.Stage, value.Bytes, value.Total);
    }

    private static Command Inspect()
    {
        var bundle = new Argument<string>("BUNDLE") { Description = "A content bundle (.zst, .tar or .iso)." };
        var json = new Option<bool>("--json") { Description = "Print bundle-definition.yaml as JSON." };
        var command = new Command("inspect", "Show what a bundle holds (images, charts, packs, sizes, arch), reading only its definition.") { bundle, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(bundle)!;
            RequireFile(path);
            var definition = await ContentBundleReader.ReadDefinitionAsync(path, cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(definition, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync($"Name:     {definition.Name}");
            await output.WriteLineAsync($"Id:       {definition.Id}");
            await output.WriteLineAsync($"Created:  {definition.Created}");
            await output.WriteLineAsync($"Arch:     {definition.Arch}");
            await output.WriteLineAsync($"Images:   {definition.Totals.Images} ({definition.Totals.Blobs} blobs, {definition.Totals.BlobBytes} bytes)");
            foreach (var image in definition.Images)
            {
                await output.WriteLineAsync($"  {image.Reference}  {image.Digest}  {image.Size} bytes  {string.Join(",", image.Platforms)}");
            }

            await output.WriteLineAsync($"Charts:   {definition.Charts.Count}");
            foreach (var chart in definition.Charts)
            {
                await output.WriteLineAsync($"  {chart.Path ?? "oci://" + chart.Reference}  {chart.Digest}  {chart.Size} bytes");
            }

            await output.WriteLineAsync($"Packs:    {definition.Packs.Count}");
            foreach (var pack in definition.Packs)
            {
                await output.WriteLineAsync($"  {pack.Profile} ({pack.ProfileType}) / {pack.Name}{(pack.Version is null ? "" : " " + pack.Version)}: {pack.Images.Count} images, {pack.Charts.Count} charts, {pack.Manifests.Count} manifests");
            }

            await output.WriteLineAsync($"Content:  {definition.Totals.ContentBytes} bytes uncompressed, {new FileInfo(path).Length} bytes on disk");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Push()
    {
        var bundle = new Argument<string>("BUNDLE") { Description = "A content bundle (.zst, .tar or .iso)." };
        var target = new Option<string>("--registry") { Description = "HOST[:PORT][/PATH] receiving every image as REGISTRY/<original repository path>:<tag>.", Required = true };
        var registry = new RegistryOptions();
        var command = new Command("push", "Restore every image of a bundle into a registry (e.g. a site mirror), digests unchanged.") { bundle, target };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(bundle)!;
            RequireFile(path);
            var destination = parseResult.GetValue(target)!.TrimEnd('/');
            if (!ImageReference.TryParse(destination + "/probe:latest", out _, out var error) || destination.Contains("://", StringComparison.Ordinal))
            {
                throw new InvalidInputException($"--registry {destination}: expected HOST[:PORT][/PATH] ({error})");
            }

            using var client = registry.CreateClient(parseResult);
            var log = parseResult.InvocationConfiguration.Error;
            var pushed = await new ContentBundlePusher(client).PushAsync(path, destination, log: line => log.WriteLine("content push: " + line), cancellationToken: cancellationToken);
            foreach (var image in pushed)
            {
                await parseResult.InvocationConfiguration.Output.WriteLineAsync($"pushed {image.Target} {image.Digest}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Extract()
    {
        var bundle = new Argument<string>("BUNDLE") { Description = "A content bundle (.zst, .tar or .iso)." };
        var directory = new Argument<string>("DIR") { Description = "Where to extract (created if needed); entries that would escape it are refused." };
        var command = new Command("extract", "Extract a bundle (OCI layout, charts, packs, manifests, definition) into a directory.") { bundle, directory };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(bundle)!;
            RequireFile(path);
            var target = parseResult.GetValue(directory)!;
            var count = await ContentBundleReader.ExtractAsync(path, target, cancellationToken);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"extracted {count} files into {target}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Sign()
    {
        var file = new Argument<string>("FILE") { Description = "The bundle (or cluster definition) to sign." };
        var privateKey = new Option<string>("--private-key") { Description = "RSA private key (PEM).", Required = true };
        var command = new Command("sign", "Write a detached signature FILE.sig (RSA PKCS#1 v1.5, SHA-256), verifiable with: openssl dgst -sha256 -verify public.pem -signature FILE.sig FILE");
        command.Arguments.Add(file);
        command.Options.Add(privateKey);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            RequireFile(path);
            using var key = SigningKeys.LoadPrivateKey(parseResult.GetValue(privateKey)!);
            var signature = await ContentSignature.SignFileAsync(path, key, cancellationToken);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {signature}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var file = new Argument<string>("BUNDLE") { Description = "The signed file." };
        var publicKey = new Option<string?>("--public-key") { Description = "RSA public key (PEM)." };
        var edgeCustomConfig = new Option<string?>("--edge-custom-config") { Description = "A .edge-custom-config.yaml holding the public key." };
        var signatureOption = new Option<string?>("--signature") { Description = "The detached signature (default: BUNDLE.sig)." };
        var command = new Command("verify", "Check a bundle's detached signature against a public key; exit 1 when it does not verify.");
        command.Arguments.Add(file);
        command.Options.Add(publicKey);
        command.Options.Add(edgeCustomConfig);
        command.Options.Add(signatureOption);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var signaturePath = parseResult.GetValue(signatureOption) ?? path + ContentSignature.Extension;
            RequireFile(path);
            if (!File.Exists(signaturePath))
            {
                throw new InvalidInputException($"{signaturePath}: no signature file (sign with: edgeforge content sign {path} --private-key KEY)");
            }

            using var key = PublicKey(parseResult.GetValue(publicKey), parseResult.GetValue(edgeCustomConfig));
            var signature = await File.ReadAllBytesAsync(signaturePath, cancellationToken);
            if (signature.Length != key.KeySize / 8)
            {
                throw new CommandFailedException($"{path}: signature rejected: {signaturePath} is {signature.Length} bytes, not a signature of this {key.KeySize}-bit key");
            }

            await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            if (!await ContentSignature.VerifyAsync(content, key, signature, cancellationToken))
            {
                throw new CommandFailedException($"{path}: signature rejected: the file was modified or truncated after signing, or it was signed with another key");
            }

            parseResult.InvocationConfiguration.Output.WriteLine($"{path}: signature verified ({key.KeySize}-bit RSA, SHA-256)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static System.Security.Cryptography.RSA PublicKey(string? publicKeyPath, string? edgeCustomConfigPath)
    {
        if ((publicKeyPath is null) == (edgeCustomConfigPath is null))
        {
            throw new InvalidInputException("give exactly one of --public-key PEM and --edge-custom-config FILE");
        }

        if (publicKeyPath is not null)
        {
            return SigningKeys.LoadPublicKey(publicKeyPath);
        }

        var diagnostics = new DiagnosticBag();
        var full = Path.GetFullPath(edgeCustomConfigPath!);
        var config = ProjectInputs.EdgeCustomConfig(Path.GetDirectoryName(full)!, Path.GetFileName(full), isDefaultPath: false, (edgeCustomConfigPath!, null), diagnostics);
        if (diagnostics.HasErrors || config is null)
        {
            throw new InvalidInputException(string.Join("\n", diagnostics.Errors));
        }

        if (config.PublicKeyPem is null)
        {
            throw new InvalidInputException($"{edgeCustomConfigPath}: content.signing.publicKey.base64EncodedValue is empty: no key to verify with");
        }

        return SigningKeys.PublicKeyFromPem(config.PublicKeyPem, edgeCustomConfigPath!);
    }

    private static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path}: no such file");
        }
    }
}
