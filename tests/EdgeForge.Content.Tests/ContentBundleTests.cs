using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeForge.Cli;
using EdgeForge.Content.Bundles;
using EdgeForge.Content.Signing;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Content.Tests;

/// <summary>
/// Given images in a real registry (one a two-platform index), an image list and a profile file with a local chart,
/// when I build a content bundle, then zstd, tar, skopeo and openssl accept it and it restores every image with its
/// original digest.
/// </summary>
[Collection(nameof(BundleRegistryCollection))]
public sealed class ContentBundleTests(BundleRegistryFixture fixture) : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task<ContentBundleResult> BuildAsync(string? arch = null, RSA? key = null, BundleFormat format = BundleFormat.Zst, string? cacheName = null,
        IReadOnlyList<string>? existing = null, List<string>? log = null)
    {
        var inputs = ContentInputs.Load(fixture.ImageList, [fixture.Profile]);
        using var client = new RegistryClient();
        var builder = new ContentBundleBuilder(client, new BlobCache(_directory.Combine(cacheName ?? "cache")));
        return await builder.BuildAsync(inputs, new ContentBundleOptions
        {
            OutputDirectory = _directory.Combine("out"),
            Name = "site",
            Architecture = arch,
            SigningKey = key,
            Format = format,
            Workers = 2,
            SourceDateEpoch = 1_700_000_000,
            ExistingBundles = existing ?? [],
            Log = log is null ? null : log.Add,
        });
    }

    private static async Task<string> RegistryDigestAsync(string reference)
    {
        var json = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "docker://" + reference);
        return JsonDocument.Parse(json).RootElement.GetProperty("Digest").GetString()!;
    }

    [Fact]
    public async Task A_signed_zstd_bundle_passes_zstd_tar_openssl_and_skopeo_restores_the_multi_arch_index_unchanged()
    {
        var keys = SigningKeys.Generate(2048);
        keys.WriteTo(_directory.Combine("keys"));
        using var key = SigningKeys.LoadPrivateKey(_directory.Combine("keys", SigningKeys.PrivateKeyFile));

        var result = await BuildAsync(key: key);

        Path.GetFileName(result.BundlePath).ShouldBe("site.zst");
        Path.GetFileName(Path.GetDirectoryName(result.BundlePath)!).ShouldStartWith("content-");
        await ExternalTool.RunAsync("zstd", "-t", result.BundlePath);
        var tarPath = _directory.Combine("site.tar");
        await ExternalTool.RunAsync("zstd", "-d", "-q", "-o", tarPath, result.BundlePath);
        var names = (await ExternalTool.RunAsync("tar", "-tf", tarPath)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        names[0].ShouldBe(BundleDefinition.FileName);
        names.ShouldContain("oci-layout");
        names.ShouldContain("index.json");
        names.ShouldContain("charts/hello-0.1.0.tgz");
        names.ShouldContain("packs/edge-infra/base.yaml");
        names.ShouldContain("packs/monitoring/tools.yaml");
        names.ShouldContain("manifests/edge-infra/base/namespace.yaml");
        names.ShouldContain($"blobs/sha256/{fixture.MultiArchDigest.Encoded}");
        names.ShouldContain($"blobs/sha256/{fixture.Amd64Digest.Encoded}");
        names.Where(n => n.StartsWith("blobs/sha256/", StringComparison.Ordinal) && !n.EndsWith('/')).ShouldBeUnique();

        var verify = await ExternalTool.RunUncheckedAsync("openssl", "dgst", "-sha256", "-verify", _directory.Combine("keys", SigningKeys.PublicKeyFile),
            "-signature", result.SignaturePath!, result.BundlePath);
        verify.ExitCode.ShouldBe(0, verify.Error);
        verify.Output.ShouldContain("Verified OK");

        var layout = _directory.Combine("extracted");
        Directory.CreateDirectory(layout);
        await ExternalTool.RunAsync("tar", "-xf", tarPath, "-C", layout);
        var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests");
        var refNames = index.EnumerateArray().Select(m => m.GetProperty("annotations").GetProperty(Annotations.RefName).GetString()).ToList();
        refNames.ShouldBe([fixture.SingleArch, fixture.MultiArch, fixture.OciChart], ignoreOrder: true);

        var restored = $"{fixture.Registry.Address}/restored/app:v1";
        await ExternalTool.RunAsync("skopeo", "copy", "--all", "--dest-tls-verify=false", $"oci:{layout}:{fixture.MultiArch}", "docker://" + restored);
        (await RegistryDigestAsync(restored)).ShouldBe(fixture.MultiArchDigest.ToString());

        result.Definition.Arch.ShouldBe("all");
        var multi = result.Definition.Images.Single(i => i.Reference == fixture.MultiArch);
        multi.Digest.ShouldBe(fixture.MultiArchDigest.ToString());
        multi.Platforms.ShouldBe(["linux/amd64", "linux/arm64"], ignoreOrder: true);
        result.Definition.Totals.Images.ShouldBe(2);
        result.Definition.Charts.Select(c => c.Path ?? c.Reference).ShouldBe(["charts/hello-0.1.0.tgz", fixture.OciChart], ignoreOrder: true);
        result.Definition.Charts.Single(c => c.Reference is not null).Digest.ShouldBe(fixture.OciChartDigest.ToString());
        result.Definition.Created.ShouldBe("2023-11-14T22:13:20Z");
    }

    [Fact]
    public async Task Arch_amd64_reduces_the_index_to_its_amd64_manifest()
    {
        var result = await BuildAsync(arch: "amd64");

        var layout = _directory.Combine("extracted");
        await ContentBundleReader.ExtractAsync(result.BundlePath, layout);
        var entries = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests").EnumerateArray().ToList();
        entries.Count.ShouldBe(3);
        foreach (var entry in entries.Where(e => e.GetProperty("annotations").GetProperty(Annotations.RefName).GetString() != fixture.OciChart))
        {
            MediaTypes.IsIndex(entry.GetProperty("mediaType").GetString()!).ShouldBeFalse();
            entry.GetProperty("platform").GetProperty("architecture").GetString().ShouldBe("amd64");
        }

        var multi = entries.Single(e => e.GetProperty("annotations").GetProperty(Annotations.RefName).GetString() == fixture.MultiArch);
        multi.GetProperty("digest").GetString().ShouldBe(fixture.Amd64Digest.ToString());
        File.Exists(Path.Combine(layout, "blobs", "sha256", fixture.MultiArchDigest.Encoded)).ShouldBeFalse();
        result.Definition.Arch.ShouldBe("amd64");

        // skopeo reads the single-arch layout too.
        var restored = $"{fixture.Registry.Address}/restored/amd64:v1";
        await ExternalTool.RunAsync("skopeo", "copy", "--dest-tls-verify=false", $"oci:{layout}:{fixture.MultiArch}", "docker://" + restored);
        (await RegistryDigestAsync(restored)).ShouldBe(fixture.Amd64Digest.ToString());
    }

    [Fact]
    public async Task A_second_build_is_byte_identical_and_leaves_the_cached_blobs_untouched()
    {
        var first = await BuildAsync();
        var firstBytes = await File.ReadAllBytesAsync(first.BundlePath);
        var cached = Directory.GetFiles(_directory.Combine("cache", "blobs", "sha256")).ToDictionary(f => f, File.GetLastWriteTimeUtc);

        var second = await BuildAsync();

        second.BundlePath.ShouldBe(first.BundlePath);
        (await File.ReadAllBytesAsync(second.BundlePath)).ShouldBe(firstBytes);
        foreach (var (path, written) in cached)
        {
            File.GetLastWriteTimeUtc(path).ShouldBe(written, $"{path} was fetched again");
        }
    }

    [Fact]
    public async Task With_an_existing_bundle_and_an_empty_cache_no_blob_is_fetched_from_the_registry()
    {
        var first = await BuildAsync(format: BundleFormat.Tar);
        var existing = _directory.Combine("previous.tar");
        File.Move(first.BundlePath, existing);
        var log = new List<string>();

        var second = await BuildAsync(format: BundleFormat.Tar, cacheName: "empty-cache", existing: [existing], log: log);

        log.ShouldContain(line => line.StartsWith("cache: 0 of ", StringComparison.Ordinal));
        log.ShouldContain("fetch: 0 blobs from the registries");
        (await File.ReadAllBytesAsync(second.BundlePath)).ShouldBe(await File.ReadAllBytesAsync(existing));
    }

    [Fact]
    public async Task A_blob_damaged_in_the_cache_fails_the_build_and_leaves_no_bundle()
    {
        var first = await BuildAsync();
        File.Delete(first.BundlePath);
        var layer = Directory.GetFiles(_directory.Combine("cache", "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = await File.ReadAllBytesAsync(layer);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(layer, bytes);

        var error = await Should.ThrowAsync<EdgeForge.Oci.Blobs.DigestMismatchException>(() => BuildAsync());

        error.Message.ShouldContain(Path.GetFileName(layer));
        Directory.GetFiles(Path.GetDirectoryName(first.BundlePath)!).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_iso_bundle_holds_the_same_files_for_bsdtar_and_inspect()
    {
        var result = await BuildAsync(format: BundleFormat.Iso);

        Path.GetFileName(result.BundlePath).ShouldBe("site.iso");
        var names = (await ExternalTool.RunAsync("bsdtar", "-tf", result.BundlePath)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.TrimStart('.', '/')).ToList();
        names.ShouldContain("index.json");
        names.ShouldContain($"blobs/sha256/{fixture.MultiArchDigest.Encoded}");
        names.ShouldContain("charts/hello-0.1.0.tgz");

        var definition = await ContentBundleReader.ReadDefinitionAsync(result.BundlePath);
        definition.Images.Select(i => i.Digest).ShouldBe(result.Definition.Images.Select(i => i.Digest));
        var layout = _directory.Combine("from-iso");
        await ContentBundleReader.ExtractAsync(result.BundlePath, layout);
        (await File.ReadAllBytesAsync(Path.Combine(layout, "charts", "hello-0.1.0.tgz"))).ShouldBe(await File.ReadAllBytesAsync(fixture.Chart));
    }

    [Fact]
    public async Task Content_push_restores_every_image_with_its_digest_and_inspect_lists_them()
    {
        var output = _directory.Combine("cli-out");
        var build = await RunCliAsync("content", "build", "--images", fixture.ImageList, "--profile", fixture.Profile, "-o", output, "--name", "site", "--level", "5");
        build.ExitCode.ShouldBe(0, build.Error);
        var bundle = Directory.GetFiles(output, "site.zst", SearchOption.AllDirectories).Single();

        var inspect = await RunCliAsync("content", "inspect", bundle, "--json");
        inspect.ExitCode.ShouldBe(0, inspect.Error);
        var definition = JsonDocument.Parse(inspect.Output).RootElement;
        definition.GetProperty("arch").GetString().ShouldBe("all");
        definition.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("reference").GetString()).ShouldBe([fixture.MultiArch, fixture.SingleArch], ignoreOrder: true);
        definition.GetProperty("packs").GetArrayLength().ShouldBe(2);

        var mirror = $"{fixture.Registry.Address}/mirror";
        var push = await RunCliAsync("content", "push", bundle, "--registry", mirror);
        push.ExitCode.ShouldBe(0, push.Error);

        (await RegistryDigestAsync($"{mirror}/multi/app:v1")).ShouldBe(fixture.MultiArchDigest.ToString());
        (await RegistryDigestAsync($"{mirror}/single/tool:1.0")).ShouldBe(fixture.SingleArchDigest.ToString());
        // skopeo inspect needs an image config; a Helm chart is checked by the digest of its raw manifest.
        var chartManifest = await ExternalTool.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{mirror}/charts/hello:0.1.0");
        Digest.Compute(System.Text.Encoding.UTF8.GetBytes(chartManifest)).ShouldBe(fixture.OciChartDigest);
    }

    [Fact]
    public async Task A_bundle_built_with_a_private_key_verifies_and_a_truncated_copy_is_rejected_with_exit_1()
    {
        var keys = _directory.Combine("keys");
        (await RunCliAsync("keys", "generate", "-o", keys, "--bits", "2048")).ExitCode.ShouldBe(0);
        var output = _directory.Combine("signed-out");
        var build = await RunCliAsync("content", "build", "--images", fixture.ImageList, "-o", output, "--format", "tar", "--private-key", Path.Combine(keys, "private.pem"));
        build.ExitCode.ShouldBe(0, build.Error);
        var bundle = Directory.GetFiles(output, "content.tar", SearchOption.AllDirectories).Single();
        build.Output.ShouldContain($"wrote {bundle}.sig");

        var verified = await RunCliAsync("content", "verify", bundle, "--public-key", Path.Combine(keys, "public.pem"));
        verified.ExitCode.ShouldBe(0, verified.Error);

        var truncated = _directory.Combine("truncated.tar");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(bundle))[..^512]);
        File.Copy(bundle + ".sig", truncated + ".sig");
        var rejected = await RunCliAsync("content", "verify", truncated, "--public-key", Path.Combine(keys, "public.pem"));
        rejected.ExitCode.ShouldBe(1, rejected.Output);
        rejected.Error.ShouldContain("signature rejected");
    }

    [Fact]
    public async Task Extract_refuses_an_entry_that_climbs_out_of_the_directory()
    {
        var bundle = _directory.Combine("evil.tar");
        await using (var file = File.Create(bundle))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "index.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "../escaped") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }

        var target = _directory.Combine("target", "inside");
        var result = await RunCliAsync("content", "extract", bundle, target);

        result.ExitCode.ShouldBe(1, result.Output + result.Error);
        result.Error.ShouldContain("refusing unsafe entry name \"../escaped\"");
        File.Exists(_directory.Combine("target", "escaped")).ShouldBeFalse();
    }

    [Fact]
    public async Task Extract_does_not_follow_a_symbolic_link_already_in_the_directory()
    {
        var result = await BuildAsync(format: BundleFormat.Tar);
        var target = _directory.Combine("target");
        var elsewhere = _directory.Combine("elsewhere");
        Directory.CreateDirectory(target);
        Directory.CreateDirectory(elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(target, "charts"), elsewhere);

        var extract = await RunCliAsync("content", "extract", result.BundlePath, target);

        extract.ExitCode.ShouldBe(1, extract.Output + extract.Error);
        extract.Error.ShouldContain("symbolic link");
        Directory.GetFileSystemEntries(elsewhere).ShouldBeEmpty();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CommandRunner.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}

[CollectionDefinition(nameof(BundleRegistryCollection))]
public sealed class BundleRegistryCollection : ICollectionFixture<BundleRegistryFixture>;
