using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Testing.Upstreams;

/// <summary>
/// Fixture upstreams: every image CanvOS composes from, built here and pushed to a local registry under the path of
/// its real name, reached through a registries.conf mirror for <c>us-docker.pkg.dev</c> — the way an air-gapped build
/// site serves them. The names are those of the CanvOS formulas with the pins below (what the fixture Earthfile says).
/// </summary>
public sealed class CanvosUpstreams
{
    public const string PublicRepository = "us-docker.pkg.dev/palette-images";
    public const string AgentVersion = "v4.10.0-rc.2";
    public const string KairosInitVersion = "v0.17.1";
    public const string K3sProviderVersion = "v4.10.3";
    public const string ThirdPartyVersion = "4.8";
    public static readonly string[] K3sVersions = ["1.30.1", "1.30.2"];

    /// <summary>What the stub agents print, so a test can find them in an unpacked image or a booted ISO.</summary>
    public const string AgentMarker = "kairos-agent fixture";

    private static readonly Lazy<Task<CanvosUpstreams>> SharedInstance = new(StartSharedAsync);

    /// <summary>
    /// One set of fixture upstreams for the whole test process, on its own registry, made the process's default mirror
    /// configuration (<c>CONTAINERS_REGISTRIES_CONF</c>, which edgeforge and skopeo read): every build in the process —
    /// in-process CLI runs and child processes alike — finds the stylus, provider, third-party and luet upstreams.
    /// </summary>
    public static Task<CanvosUpstreams> SharedAsync() => SharedInstance.Value;

    private static async Task<CanvosUpstreams> StartSharedAsync()
    {
        var registry = await RegistryProcess.StartAsync();
        var work = new TestDirectory();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            registry.DisposeAsync().AsTask().GetAwaiter().GetResult();
            work.Dispose();
        };
        using var rootfs = new BusyboxRootfs();
        var upstreams = await PushAsync(registry.Address, rootfs.Root, work.Combine("upstreams"));
        Environment.SetEnvironmentVariable("CONTAINERS_REGISTRIES_CONF", upstreams.RegistriesConf);
        return upstreams;
    }

    private CanvosUpstreams(string registriesConf, string mirror) => (RegistriesConf, Mirror) = (registriesConf, mirror);

    /// <summary>The registries.conf that maps us-docker.pkg.dev to the local registry.</summary>
    public string RegistriesConf { get; }

    /// <summary>The local registry address (host:port).</summary>
    public string Mirror { get; }

    public static string BaseImage(string arch = "amd64") => $"{PublicRepository}/edge/kairos-ubuntu:22.04-core-{arch}-generic-{KairosInitVersion}";
    public static string StylusImage(string arch = "amd64") => $"{PublicRepository}/edge/stylus-framework-linux-{arch}:{AgentVersion}";
    public static string StylusPackageImage(string arch = "amd64") => $"{PublicRepository}/edge/stylus-linux-{arch}:{AgentVersion}";

    /// <summary>What the stylus package fixture holds (the Trusted Boot ISO packs it into stylus-image.tar).</summary>
    public const string StylusPackageMarker = "stylus package fixture";

    public static string ProviderImage => $"{PublicRepository}/edge/kairos-io/provider-k3s:{K3sProviderVersion}";
    public static string ThirdPartyImage => $"{PublicRepository}/third-party/spectro-third-party:{ThirdPartyVersion}";
    /// <summary>CanvOS's <c>ubuntu</c> target, what Trusted Boot provider images are built on.</summary>
    public static string UbuntuImage => $"{PublicRepository}/third-party/ubuntu:22.04";

    /// <summary>What the Ubuntu fixture's <c>apt-get</c> installs as rsync, and where it logs its calls.</summary>
    public const string RsyncMarker = "rsync fixture", AptLog = "var/log/apt-fixture.log";

    public static string LuetRepository(string arch = "amd64") => $"{PublicRepository}/edge/luet-repo-{(arch == "arm64" ? "arm" : "amd")}";

    /// <summary>
    /// Pushes the base (the given root filesystem with a stub kairos-agent, SSH host keys and a machine-id to be cleaned),
    /// the stylus framework, provider-k3s, the third-party image with etcdctl and a luet repository with two k3s versions.
    /// </summary>
    public static async Task<CanvosUpstreams> PushAsync(string registry, string baseRootfs, string work, IReadOnlyList<string>? k3sVersions = null)
    {
        Directory.CreateDirectory(work);
        var conf = Path.Combine(work, "registries.conf");
        await File.WriteAllTextAsync(conf, $"""
            # The build site's mirror of Spectro Cloud's public registry (containers-registries.conf(5), v2).
            [[registry]]
            location = "us-docker.pkg.dev"

            [[registry.mirror]]
            location = "{registry}"
            insecure = true

            """);
        var blobs = new BlobCache(Path.Combine(work, "fixture-blobs"));
        using var client = new RegistryClient();
        string Local(string reference) => registry + reference[reference.IndexOf('/')..];

        File.WriteAllText(Path.Combine(Ensure(baseRootfs, "usr/bin"), "kairos-agent"), $"#!/bin/sh\necho {AgentMarker} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(baseRootfs, "usr/bin/kairos-agent"), (UnixFileMode)0x1ED);
        File.WriteAllText(Path.Combine(Ensure(baseRootfs, "etc/ssh"), "ssh_host_ed25519_key"), "fixture host key: must not reach an image\n");
        File.WriteAllText(Path.Combine(baseRootfs, "etc/ssh/moduli"), "fixture moduli\n");
        File.WriteAllText(Path.Combine(baseRootfs, "etc/ssh/sshd_config"), "# kept\n");
        File.WriteAllText(Path.Combine(baseRootfs, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
        await PushDirectoryAsync(client, blobs, baseRootfs, Local(BaseImage()));

        // The Ubuntu image: busybox with an apt-get that logs its calls and "installs" a stub rsync, so a test sees that
        // the build ran CanvOS's apt-get line in the sandbox on this image and kept its changes as a layer.
        using (var ubuntu = new BusyboxRootfs())
        {
            File.WriteAllText(Path.Combine(Ensure(ubuntu.Root, "usr/bin"), "apt-get"), $$"""
                #!/bin/sh
                mkdir -p /var/log
                echo "apt-get $*" >> /{{AptLog}}
                case "$*" in
                  *install*rsync*) printf '#!/bin/sh\necho {{RsyncMarker}}\n' > /usr/bin/rsync && chmod 755 /usr/bin/rsync ;;
                esac

                """);
            File.SetUnixFileMode(Path.Combine(ubuntu.Root, "usr/bin/apt-get"), (UnixFileMode)0x1ED);
            File.WriteAllText(Path.Combine(Ensure(ubuntu.Root, "etc"), "os-release"), "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\n");
            await PushDirectoryAsync(client, blobs, ubuntu.Root, Local(UbuntuImage));
        }

        var stylusFiles = new Dictionary<string, string>
        {
            ["etc/kairos/branding/interactive_install_text"] = "Palette eXtended Kubernetes Edge (fixture)\n",
            ["etc/kairos/80_stylus.yaml"] = "name: stylus fixture\nstages: {}\n",
            ["oem/stylus_config.yaml"] = "stylus:\n  fixture: true\n",
            ["etc/elemental/config.yaml"] = "install:\n  fixture: true\n",
            ["opt/spectrocloud/bin/palette-agent"] = "#!/bin/sh\necho palette agent fixture\n",
            ["system/oem/50_stylus_fixture.yaml"] = "stages: {}\n",
        };
        await PushFilesAsync(client, blobs, Local(StylusImage()), stylusFiles);
        // The arm64 installer is composed from stylus-framework-linux-arm64, which is an arm64 image.
        await PushFilesAsync(client, blobs, Local(StylusImage("arm64")), stylusFiles, new Platform { Os = "linux", Architecture = "arm64" });
        await PushFilesAsync(client, blobs, Local(StylusPackageImage()), new Dictionary<string, string>
        {
            ["opt/spectrocloud/bin/palette-agent"] = "#!/bin/sh\necho palette agent of the " + StylusPackageMarker + "\n",
            ["etc/systemd/system/stylus-agent.service"] = "[Unit]\nDescription=" + StylusPackageMarker + "\n",
        });
        await PushFilesAsync(client, blobs, Local(ProviderImage), new Dictionary<string, string>
        {
            ["usr/local/system/providers/agent-provider-k3s"] = "#!/bin/sh\necho agent-provider-k3s fixture\n",
        });
        await PushFilesAsync(client, blobs, Local(ThirdPartyImage), new Dictionary<string, string>
        {
            ["binaries/etcdctl/latest/palette/amd64/etcdctl"] = "#!/bin/sh\necho etcdctl fixture 3.5.13\n",
            ["binaries/etcdctl/latest/palette/amd64/etcdctl.version"] = "v3.5.13\n",
            ["binaries/luet/latest/palette/amd64/luet"] = "#!/bin/sh\necho luet fixture 0.35.5\n",
            ["binaries/luet/latest/palette/amd64/luet.version"] = "0.35.5\n",
        });

        var packages = (k3sVersions ?? K3sVersions).Select(version =>
        {
            var files = Path.Combine(work, "luet-k3s-" + version);
            File.WriteAllText(Path.Combine(Ensure(files, "usr/bin"), "k3s"), $"#!/bin/sh\necho k3s v{version}+k3s1\n");
            File.SetUnixFileMode(Path.Combine(files, "usr/bin/k3s"), (UnixFileMode)0x1ED);
            File.WriteAllText(Path.Combine(Ensure(files, "opt/k8s"), "version"), version + "\n");
            File.WriteAllText(Path.Combine(Ensure(files, "var/cache/luet"), "leftover"), "luet's cache: CanvOS deletes it\n");
            return new LuetFixturePackage("k8s", "k3s", version + "-k3s1", new DirectoryFileTreeSource(files, readExtendedAttributes: false));
        }).ToList();
        await LuetRepositoryWriter.PushAsync(client, blobs, ImageReference.Parse(Local(LuetRepository())), packages);
        return new CanvosUpstreams(conf, registry);
    }

    private static string Ensure(string root, string relative)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(path);
        return path;
    }

    private static async Task PushFilesAsync(RegistryClient client, BlobCache blobs, string reference, IReadOnlyDictionary<string, string> files, Platform? platform = null)
    {
        using var directory = new TestDirectory();
        foreach (var (path, content) in files)
        {
            var full = directory.Combine(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
            File.SetUnixFileMode(full, content.StartsWith("#!", StringComparison.Ordinal) ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4);
        }

        await PushDirectoryAsync(client, blobs, directory.Path, reference, platform);
    }

    private static async Task PushDirectoryAsync(RegistryClient client, BlobCache blobs, string directory, string reference, Platform? platform = null)
    {
        var image = await RootFsImporter.ImportAsync(directory, blobs, platform is null ? null : new ImportOptions { Platform = platform });
        await using var destination = ImageLocation.Parse("docker://" + reference).OpenDestination(client);
        await ImageCopier.WriteAsync(image, destination);
    }
}
