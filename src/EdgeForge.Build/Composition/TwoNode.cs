using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Arguments;
using EdgeForge.FileTree;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Build.Composition;

/// <summary>
/// CanvOS's provider-image with <c>TWO_NODE=true</c> (Earthfile, the <c>IF $TWO_NODE</c> block): PostgreSQL installed,
/// made to wait for network-online and disabled (the agent enables it when a second node joins), a login profile
/// for the postgres user, and kine — the etcd shim Kubernetes talks to — at <c>/opt/spectrocloud/bin/kine</c>.
/// </summary>
public static class TwoNode
{
    /// <summary>Where CanvOS installs kine (<c>install -m 755 /dev/stdin /opt/spectrocloud/bin/kine</c>).</summary>
    public const string KinePath = "opt/spectrocloud/bin/kine";

    /// <summary>kine is one static Go binary of some tens of MiB; a source serving more is not serving kine.</summary>
    public const long MaxKineBytes = 512L << 20;

    /// <summary>
    /// The PostgreSQL part as one shell command for the RUN sandbox. apt: CanvOS's tzdata answers, PostgreSQL 16
    /// when the image's sources offer it (Ubuntu 24.04, or the PGDG source a Dockerfile customisation adds — CanvOS
    /// adds PGDG itself with curl, which needs the internet at build time), else the distribution's PostgreSQL; the
    /// postgres user's <c>PERL5LIB</c> profile for the image's perl; the <c>postgresql@.service</c> ordering; the
    /// disable. zypper: the distribution's PostgreSQL (16 when offered), ordering on <c>postgresql.service</c>, which is
    /// the unit openSUSE ships (CanvOS's sed names Debian's template unit, which openSUSE does not have).
    /// </summary>
    public static string PostgresCommand(PackageFamily family, string arch) => OfflineSystemd.Functions + "\n" + family switch
    {
        PackageFamily.Apt => string.Join(" && ",
            "export DEBIAN_FRONTEND=noninteractive",
            "echo 'tzdata tzdata/Areas select Etc' | debconf-set-selections",
            "echo 'tzdata tzdata/Zones/Etc select UTC' | debconf-set-selections",
            "apt-get update",
            "if apt-cache policy postgresql-16 | grep -q 'Candidate: [0-9]'; then set -- postgresql-16; " +
            "if apt-cache policy postgresql-contrib-16 | grep -q 'Candidate: [0-9]'; then set -- \"$@\" postgresql-contrib-16; fi; " +
            "else set -- postgresql postgresql-contrib; fi",
            "apt-get install -y \"$@\" iputils-ping",
            // CanvOS: su postgres -c 'echo "export PERL5LIB=..." > ~/.bash_profile', its paths for Ubuntu 22.04's perl
            // 5.34; the same paths here for the perl the image has.
            "home=$(getent passwd postgres | cut -d: -f6)",
            "perl=$(perl -e 'printf \"%vd\", $^V' | cut -d. -f1,2)",
            $"triplet={Triplet(arch)}",
            "printf 'export PERL5LIB=/usr/share/perl/%s:/etc/perl:/usr/lib/%s/perl5/%s:/usr/share/perl5:/usr/lib/%s/perl/%s:/usr/lib/%s/perl-base\\n' " +
            "\"$perl\" \"$triplet\" \"$perl\" \"$triplet\" \"$perl\" \"$triplet\" > \"$home/.bash_profile\"",
            "chown postgres:postgres \"$home/.bash_profile\"",
            Ordering("/lib/systemd/system/postgresql@.service"),
            Disable),
        PackageFamily.Zypper => string.Join(" && ",
            "if zypper --non-interactive search -x postgresql16-server >/dev/null 2>&1; then set -- postgresql16 postgresql16-server postgresql16-contrib; " +
            "else set -- postgresql postgresql-server postgresql-contrib; fi",
            "zypper --non-interactive install --no-recommends \"$@\" iputils",
            Ordering("/usr/lib/systemd/system/postgresql.service"),
            Disable),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>CanvOS's sed, then a check that it took: a unit without <c>After=network.target</c> would start PostgreSQL before the network.</summary>
    private static string Ordering(string unit) =>
        $"sed -i 's/After=network.target/After=network-online.target/' {unit} && grep -q '^After=.*network-online.target' {unit}";

    /// <summary><c>systemctl disable postgresql</c>, done as systemctl does it offline (<see cref="OfflineSystemd"/>).</summary>
    private const string Disable = "disable_unit postgresql.service";

    private static string Triplet(string arch) => arch == "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";


    /// <summary>
    /// Downloads kine from <paramref name="url"/> into <paramref name="directory"/> (through the environment's proxy, as
    /// registry pulls go), at most <see cref="MaxKineBytes"/>, checks that it is a 64-bit ELF executable for
    /// <paramref name="arch"/>, and returns the tree of the layer (kine 0755, owned by root) and its SHA-256.
    /// </summary>
    public static async Task<(IFileTreeSource Tree, string Sha256)> DownloadKineAsync(string url, string arch, string directory, long time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "kine");
        using var handler = new SocketsHttpHandler { Proxy = EnvironmentProxy.FromEnvironment(), UseProxy = true, AllowAutoRedirect = true, MaxAutomaticRedirections = 10 };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(10) };
        string sha256;
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new UpstreamContentException($"kine from {url} (KINE_SOURCE): HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > MaxKineBytes)
                {
                    throw new UpstreamContentException($"kine from {url} (KINE_SOURCE) is larger than {MaxKineBytes >> 20} MiB: that is not the kine binary");
                }

                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamContentException($"kine from {url} (KINE_SOURCE): {e.Message}");
        }

        CheckExecutable(file, url, arch);
        var tree = MappedFileTree.Create(new DirectoryFileTreeSource(directory, readExtendedAttributes: false), path => path == "kine" ? KinePath : null,
            new InMemoryFileTreeSource().AddDirectory("opt", modificationTime: time).AddDirectory("opt/spectrocloud", modificationTime: time)
                .AddDirectory("opt/spectrocloud/bin", modificationTime: time),
            entry => entry.Path == KinePath ? entry with { Uid = 0, Gid = 0, Mode = 0x1ED, ModificationTime = time } : entry);
        return (tree, sha256);
    }

    /// <summary>ELF header (System V gABI): magic, ELFCLASS64, and e_machine at offset 18 (little-endian on both ARCHes).</summary>
    private static void CheckExecutable(string file, string url, string arch)
    {
        var header = new byte[20];
        using (var stream = File.OpenRead(file))
        {
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || header[0] != 0x7F || header[1] != (byte)'E' ||
                header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2)
            {
                throw new UpstreamContentException($"kine from {url} (KINE_SOURCE) is not a 64-bit ELF executable: the source serves something else (an HTML page, an archive?)");
            }
        }

        // kine for the wrong machine would fail only on the host, at the first boot.
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18));
        var expected = ForeignArchitecture.ElfMachineOf(arch) ?? throw new InvalidOperationException($"no ELF machine is known for ARCH={arch}");
        if (machine != expected)
        {
            throw new UpstreamContentException($"kine from {url} (KINE_SOURCE) is built for ELF machine {machine}, not {arch} ({expected}): point KINE_SOURCE at the {arch} binary");
        }
    }
}
