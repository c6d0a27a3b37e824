using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.Planning;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.Tests;

public sealed class ProjectLoaderTests
{
    /// <summary>What the seed guide exports before writing its .arg.</summary>
    private static readonly Dictionary<string, string> SeedEnvironment = new() { ["CUSTOM_TAG"] = "palette-learn", ["IMAGE_REGISTRY"] = "spectrocloud" };

    private static ProjectOptions Options(Dictionary<string, string>? environment = null, Dictionary<string, string>? buildArgs = null, string[]? versions = null) => new()
    {
        Environment = k => environment?.GetValueOrDefault(k),
        BuildArguments = buildArgs ?? new Dictionary<string, string>(),
        K8sVersionFilter = versions ?? [],
    };

    [Fact]
    public void The_seed_basic_example_plans_exactly_its_documented_image()
    {
        using var project = new TestProject()
            .With(".arg", Fixtures.Read("seed/basic.arg").Replace("K8s_VERSION", "K8S_VERSION") + "PE_VERSION=v4.4.12\n")
            .WithFixture("seed/basic-user-data", "user-data");

        var result = ProjectLoader.Load(project.Directory, Options(SeedEnvironment));

        result.Diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", result.Diagnostics.Items));
        result.Plan!.ProviderImages.Select(i => i.Reference).ShouldBe(["spectrocloud/ubuntu:k3s-1.27.2-v4.4.12-palette-learn"]);
        result.Plan.Iso.Path.ShouldBe(Path.Combine(project.Directory, "build", "palette-edge-installer.iso"));
        result.Plan.Iso.ChecksumPath.ShouldBe(result.Plan.Iso.Path + ".sha256");
    }

    [Fact]
    public void The_seed_basic_example_as_written_is_rejected_for_its_typo()
    {
        using var project = new TestProject().WithFixture("seed/basic.arg", ".arg").WithFixture("seed/basic-user-data", "user-data");

        var result = ProjectLoader.Load(project.Directory, Options(SeedEnvironment));

        result.Plan.ShouldBeNull();
        var error = result.Diagnostics.Errors.ShouldHaveSingleItem();
        (error.Key, error.Line).ShouldBe(("K8s_VERSION", 7));
        error.Message.ShouldContain("K8S_VERSION");
    }

    [Fact]
    public void The_canvos_template_plans_every_k3s_version()
    {
        using var project = new TestProject().WithFixture("canvos/arg.template", ".arg").WithFixture("canvos/k8s_version.json", "k8s_version.json");

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldNotBeNull(string.Join("\n", result.Diagnostics.Items));
        result.Plan.ProviderImages.Count.ShouldBe(58);
        result.Plan.ProviderImages.ShouldAllBe(i => i.Reference.StartsWith("ttl.sh/ubuntu:k3s-") && i.Reference.EndsWith("-v4.10.0-rc.2-demo"));
        result.Plan.ProviderImages.Select(i => i.Reference).Distinct().Count().ShouldBe(58);
    }

    [Fact]
    public void The_canvos_template_with_the_typo_added_names_K8S_VERSION()
    {
        using var project = new TestProject()
            .With(".arg", Fixtures.Read("canvos/arg.template") + "K8s_VERSION=1.27.2\n")
            .WithFixture("canvos/k8s_version.json", "k8s_version.json");

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan.ShouldBeNull();
        result.Diagnostics.Errors.ShouldHaveSingleItem().Message.ShouldContain("did you mean K8S_VERSION?");
    }

    [Fact]
    public void The_version_filter_narrows_the_matrix_and_rejects_unlisted_versions()
    {
        using var project = new TestProject().With(".arg", "IMAGE_REGISTRY=r.example.com\nCUSTOM_TAG=\n");

        var narrowed = ProjectLoader.Load(project.Directory, Options(versions: ["1.30.14", "1.29.14"]));
        var wrong = ProjectLoader.Load(project.Directory, Options(versions: ["1.30.99"]));

        narrowed.Plan!.ProviderImages.Select(i => i.Reference).ShouldBe(["r.example.com/ubuntu:k3s-1.30.14-v4.10.0-rc.2", "r.example.com/ubuntu:k3s-1.29.14-v4.10.0-rc.2"]);
        narrowed.Plan.KubernetesVersionSource.ShouldBe("(built-in)");
        wrong.Diagnostics.Errors.ShouldHaveSingleItem().File.ShouldBe("--k8s-version");
    }

    [Fact]
    public void The_manifest_names_exactly_the_planned_images_with_and_without_a_custom_tag()
    {
        foreach (var tag in new[] { "palette-learn", "" })
        {
            using var project = new TestProject().With(".arg", $"IMAGE_REGISTRY=127.0.0.1:5000/edge\nCUSTOM_TAG={tag}\nK8S_DISTRIBUTION=rke2\nOS_VERSION=22\n");
            var plan = ProjectLoader.Load(project.Directory, Options(versions: ["1.30.14", "1.31.14"])).Plan!;

            var yaml = new YamlStream();
            yaml.Load(new StringReader(ByoosManifest.Render(plan)));
            var options = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["options"];
            string Option(string name) => ((YamlScalarNode)options[name]).Value!;

            foreach (var image in plan.ProviderImages)
            {
                var uri = Option("system.uri")
                    .Replace("{{ .spectro.pack.edge-native-byoi.options.system.registry }}", Option("system.registry"))
                    .Replace("{{ .spectro.pack.edge-native-byoi.options.system.repo }}", Option("system.repo"))
                    .Replace("{{ .spectro.pack.edge-native-byoi.options.system.k8sDistribution }}", Option("system.k8sDistribution"))
                    .Replace("{{ .spectro.system.kubernetes.version }}", image.K8sVersion)
                    .Replace("{{ .spectro.pack.edge-native-byoi.options.system.peVersion }}", Option("system.peVersion"))
                    .Replace("{{ .spectro.pack.edge-native-byoi.options.system.customTag }}", Option("system.customTag"));
                uri.ShouldBe(image.Reference);
            }

            Option("system.osVersion").ShouldBe("22.04");
            Option("system.osName").ShouldBe("ubuntu");
            Option("system.customTag").ShouldBe(tag);
        }
    }

    [Fact]
    public void Embedded_inputs_are_found_and_checked()
    {
        using var project = new TestProject()
            .With(".arg", "IMAGE_REGISTRY=r.example.com\nCLUSTERCONFIG=spc.tgz\nFORCE_INTERACTIVE_INSTALL=true\n")
            .With("certs/proxy-ca.crt", TestCertificates.SelfSignedPem("CN=Proxy CA"))
            .With("certs/.gitkeep", "")
            .WithFixture("seed/basic-user-data", "user-data");
        Directory.CreateDirectory(Path.Combine(project.Directory, "content-site1"));
        File.WriteAllBytes(Path.Combine(project.Directory, "content-site1", "core.zst"), [0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0]);
        WriteTarGz(Path.Combine(project.Directory, "spc.tgz"));

        var plan = ProjectLoader.Load(project.Directory, Options()).Plan!;

        plan.Inputs.Certificates.ShouldHaveSingleItem().Subjects.ShouldBe(["CN=Proxy CA"]);
        plan.Inputs.ContentBundles.ShouldHaveSingleItem().DisplayName.ShouldBe("content-site1/core.zst");
        plan.Inputs.ClusterConfig!.EntryCount.ShouldBe(1);
        plan.Inputs.UserData!.Summary.HasRegistrationToken.ShouldBeTrue();
        plan.Iso.DefaultBootEntry.ShouldBe(2);
        plan.Estimate.TotalBytes.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void A_tar_content_bundle_is_embedded_like_a_zst_one()
    {
        using var project = new TestProject().With(".arg", "IMAGE_REGISTRY=r.example.com\n").WithFixture("seed/basic-user-data", "user-data");
        var folder = Directory.CreateDirectory(Path.Combine(project.Directory, "content-site1")).FullName;
        using (var tar = new System.Formats.Tar.TarWriter(File.Create(Path.Combine(folder, "core.tar")), System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: false))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "bundle-definition.yaml") { DataStream = new MemoryStream("name: core\n"u8.ToArray()) });
        }

        File.WriteAllText(Path.Combine(folder, "core.iso"), "an ISO-format bundle");

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Plan!.Inputs.ContentBundles.ShouldHaveSingleItem().DisplayName.ShouldBe("content-site1/core.tar");
        result.Diagnostics.Warnings.ShouldContain(d => d.File == "content-site1/core.iso" && d.Message.Contains("not embedded", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cluster_definition_that_expands_without_bound_is_refused_after_a_bounded_read()
    {
        using var project = new TestProject().With(".arg", "IMAGE_REGISTRY=r.example.com\nCLUSTERCONFIG=spc.tgz\n").WithFixture("seed/basic-user-data", "user-data");
        // One tar entry of zeros a little larger than the bound: about a megabyte compressed.
        using (var file = File.Create(Path.Combine(project.Directory, "spc.tgz")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            var size = ProjectInputs.MaxClusterConfigExpansion + (1 << 20);
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "bomb") { DataStream = new ZeroStream(size) });
        }

        var result = ProjectLoader.Load(project.Directory, Options());

        result.Diagnostics.Errors.ShouldContain(d => d.File == "spc.tgz" && d.Message.Contains("expands to more than", StringComparison.Ordinal));
    }

    /// <summary>Zeros of a given length, without holding them (seekable, as TarWriter wants a data stream's length).</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => _position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static void WriteTarGz(string path)
    {
        using var file = File.Create(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        using var tar = new System.Formats.Tar.TarWriter(gzip);
        var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "profile.json") { DataStream = new MemoryStream("{}"u8.ToArray()) };
        tar.WriteEntry(entry);
    }
}
