using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using EdgeForge.Configuration.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.Inputs;

/// <summary>A CA certificate file to trust while building and to install into the image trust store.</summary>
public sealed record CertificateFile(string Path, string DisplayName, IReadOnlyList<string> Subjects);

/// <summary>
/// The content-signing public key of <c>EDGE_CUSTOM_CONFIG</c>: <see cref="PublicKeyPem"/> is the decoded PEM, null
/// (and <see cref="KeyBits"/> 0) when no key is configured.
/// </summary>
public sealed record EdgeCustomConfigFile(string Path, string DisplayName, int KeyBits, string? PublicKeyPem = null);

public sealed record ClusterConfigFile(string Path, string DisplayName, long Size, int EntryCount);

public sealed record ContentBundleFile(string Path, string DisplayName, long Size);

/// <summary>Up-front checks of the project's files other than <c>.arg</c>, user data and the Dockerfile (EDGEFORGE.md §2).</summary>
public static partial class ProjectInputs
{
    private static readonly byte[] ZstdMagic = [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>"ustar" at byte 257 of the first header: POSIX ustar/pax (followed by NUL) and GNU tar (followed by spaces).</summary>
    private static readonly byte[] TarMagic = "ustar"u8.ToArray();

    private const int TarMagicOffset = 257;

    /// <summary>The ISO's part size for content bundles (EDGEFORGE.md §6, CanvOS's <c>split --bytes=3GB</c>) and the most parts two digits name.</summary>
    public const long MaxPartSize = 3_000_000_000;

    public const int MaxParts = 100;

    /// <summary>Every file of <c>certs/</c> (hidden files aside) must hold PEM X.509 certificates; so must <c>PROXY_CERT_PATH</c>.</summary>
    public static IReadOnlyList<CertificateFile> Certificates(InputFileReader inputs, string? proxyCertPath, (string File, int? Line) proxyCertLocation, DiagnosticBag diagnostics)
    {
        var files = new List<(string Path, string Display, bool MayLeaveProject)>();
        var certs = Path.Combine(inputs.ProjectDirectory, "certs");
        if (inputs.ProbeDirectory(certs, "certs/", diagnostics) == InputFileState.Usable)
        {
            files.AddRange(Directory.EnumerateFiles(certs)
                .Where(f => !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .Select(f => (f, "certs/" + Path.GetFileName(f), false)));
        }

        if (proxyCertPath is not null)
        {
            // PROXY_CERT_PATH is an absolute path by definition: it may be outside the project, but it is still only a file.
            var state = inputs.ProbeFile(proxyCertPath, proxyCertPath, diagnostics, mayLeaveProject: true);
            if (state == InputFileState.Usable)
            {
                files.Add((proxyCertPath, proxyCertPath, true));
            }
            else if (state == InputFileState.Missing)
            {
                diagnostics.Error(proxyCertLocation.File, $"'{proxyCertPath}' does not exist", proxyCertLocation.Line, "PROXY_CERT_PATH", "fix the path, or move the certificate into certs/");
            }
        }

        var result = new List<CertificateFile>();
        foreach (var (path, display, mayLeaveProject) in files)
        {
            if (inputs.ReadBytes(path, display, diagnostics, mayLeaveProject: mayLeaveProject) is not { } bytes)
            {
                continue;
            }

            // A binary certificate is almost always DER, and the fix for that is a conversion, not an encoding.
            if (InputFileReader.DecodeText(bytes, display, new DiagnosticBag()) is not { } text)
            {
                diagnostics.Error(display, "is not a PEM certificate (the file is binary: DER-encoded?)",
                    hint: "certs/ may hold only PEM CA certificates (.crt/.pem); convert DER with: openssl x509 -inform der -in FILE -out FILE.crt");
                continue;
            }

            var (certificates, problem) = PemCertificates.Parse(text);
            if (problem is not null)
            {
                diagnostics.Error(display, problem, hint: "certs/ may hold only PEM CA certificates (.crt/.pem); convert DER with: openssl x509 -inform der -in FILE -out FILE.crt");
                continue;
            }

            foreach (var certificate in certificates)
            {
                if (certificate.NotAfter < DateTime.UtcNow)
                {
                    diagnostics.Warning(display, $"certificate '{certificate.Subject}' expired on {certificate.NotAfter:yyyy-MM-dd}");
                }
            }

            result.Add(new CertificateFile(path, display, certificates.Select(c => c.Subject).ToList()));
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }

        return result;
    }

    /// <summary>
    /// <c>content.signing.publicKey.base64EncodedValue</c> must be base64 of a PEM RSA public key; empty means no key.
    /// A missing file at the default path means no key (CanvOS copies it only if present).
    /// </summary>
    public static EdgeCustomConfigFile? EdgeCustomConfig(string projectDirectory, string relativePath, bool isDefaultPath, (string File, int? Line) location, DiagnosticBag diagnostics) =>
        EdgeCustomConfig(new InputFileReader(projectDirectory, allowExternalLinks: true), relativePath, isDefaultPath, location, diagnostics);

    /// <inheritdoc cref="EdgeCustomConfig(string, string, bool, ValueTuple{string, int?}, DiagnosticBag)"/>
    public static EdgeCustomConfigFile? EdgeCustomConfig(InputFileReader inputs, string relativePath, bool isDefaultPath, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, relativePath);
        var state = inputs.ProbeFile(path, relativePath, diagnostics);
        if (state == InputFileState.Refused)
        {
            return null;
        }

        if (state == InputFileState.Missing)
        {
            if (!isDefaultPath)
            {
                diagnostics.Error(location.File, $"'{relativePath}' does not exist", location.Line, "EDGE_CUSTOM_CONFIG",
                    "fix the path, or create the file with: edgeforge keys generate");
            }

            return null;
        }

        var text = inputs.ReadText(path, relativePath, diagnostics, 1 << 20);
        if (text is null)
        {
            return null;
        }

        var stream = Yaml.YamlLoader.Load(relativePath, text, diagnostics, "check the indentation (spaces only)");
        if (stream is null)
        {
            return null;
        }

        const string keyPath = "content.signing.publicKey.base64EncodedValue";
        YamlNode? node = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        foreach (var key in keyPath.Split('.'))
        {
            node = node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
        }

        if (node is null)
        {
            diagnostics.Error(relativePath, $"has no {keyPath}", 1, hint: "see the CanvOS .edge-custom-config.yaml template, or run: edgeforge keys generate");
            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            diagnostics.Error(relativePath, "expected a base64 string", (int)node.Start.Line, key: keyPath);
            return null;
        }

        var value = scalar.Value ?? "";
        if (value.Length == 0 || value == "null")
        {
            return new EdgeCustomConfigFile(path, relativePath, 0);
        }

        byte[] pem;
        try
        {
            pem = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            diagnostics.Error(relativePath, "is not valid base64", (int)node.Start.Line, key: keyPath, hint: "encode the PEM public key with: base64 -w0 public.pem");
            return null;
        }

        var pemText = System.Text.Encoding.ASCII.GetString(pem);
        if (!pemText.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal) && !pemText.Contains("-----BEGIN RSA PUBLIC KEY-----", StringComparison.Ordinal))
        {
            var hint = pemText.Contains("PRIVATE KEY", StringComparison.Ordinal)
                ? "this is a PRIVATE key: never embed it; use the public key (openssl rsa -in private.pem -pubout)"
                : "the decoded value must be a PEM public key (-----BEGIN PUBLIC KEY-----)";
            diagnostics.Error(relativePath, "does not decode to a PEM public key", (int)node.Start.Line, key: keyPath, hint: hint);
            return null;
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pemText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            diagnostics.Error(relativePath, "decodes to a PEM public key that is not an RSA key", (int)node.Start.Line, key: keyPath,
                hint: "content signing uses RSA keys: edgeforge keys generate");
            return null;
        }

        if (rsa.KeySize < 2048)
        {
            diagnostics.Error(relativePath, $"the RSA key has {rsa.KeySize} bits; at least 2048 are needed", (int)node.Start.Line, key: keyPath,
                hint: "generate a new pair: edgeforge keys generate");
        }

        return new EdgeCustomConfigFile(path, relativePath, rsa.KeySize, pemText);
    }

    /// <summary>The project file CanvOS's <c>base-image</c> copies into <c>/etc/kairos/</c> when <c>IS_UKI=true</c>.</summary>
    public const string TrustedBootCloudConfigPath = "cloudconfigs/80_stylus_uki.yaml";

    /// <summary>
    /// <see cref="TrustedBootCloudConfigPath"/>, required with <c>IS_UKI=true</c> (CanvOS copies it without
    /// <c>--if-exists</c>): the Kairos stages that make a Trusted Boot install work — the agent provider link, the
    /// unpack of the stylus package carried on the medium, its copy to the persistent partition after install. It
    /// must be YAML Kairos can read; its contents are the project's.
    /// </summary>
    public static string? TrustedBootCloudConfig(InputFileReader inputs, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, TrustedBootCloudConfigPath);
        switch (inputs.ProbeFile(path, TrustedBootCloudConfigPath, diagnostics))
        {
            case InputFileState.Missing:
                diagnostics.Error(location.File, $"IS_UKI=true needs {TrustedBootCloudConfigPath} (CanvOS's base-image copies it to /etc/kairos/): it does not exist",
                    location.Line, "IS_UKI", $"copy {TrustedBootCloudConfigPath} from your CanvOS checkout into the project");
                return null;
            case InputFileState.Refused:
                return null;
        }

        var text = inputs.ReadText(path, TrustedBootCloudConfigPath, diagnostics, 1 << 20);
        if (text is null || Yaml.YamlLoader.Load(TrustedBootCloudConfigPath, text, diagnostics, "check the indentation (spaces only)") is null)
        {
            return null;
        }

        return path;
    }

    /// <summary>A prebuilt amdgpu artifact is modules and firmware, some hundreds of MiB; past this the check stops reading.</summary>
    public const long MaxAmdGpuArtifactExpansion = 8L << 30;

    /// <summary>
    /// <c>AMDGPU_ARTIFACT_PATH</c> (CanvOS's <c>prebuild-amdgpu-artifact.sh</c> output, which its Earthfile COPYs from
    /// the build context): a file inside the project, a gzip-compressed tar with an <c>amdgpu.ko</c> under
    /// <c>lib/modules/&lt;kernel&gt;/updates/dkms/</c>. Which kernel it must be built for is known only from the image,
    /// so the build checks that. Returns the full path, or null after an error.
    /// </summary>
    public static string? AmdGpuArtifact(InputFileReader inputs, string relativePath, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        const string key = "AMDGPU_ARTIFACT_PATH";
        const string hint = "make it with CanvOS's scripts/prebuild-amdgpu-artifact.sh (AMDGPU_DRIVER_RELEASE and BASE_IMAGE as this build's), or unset AMDGPU_ARTIFACT_PATH to build amdgpu-dkms in the image";
        var path = Path.Combine(inputs.ProjectDirectory, relativePath);
        switch (inputs.ProbeFile(path, relativePath, diagnostics))
        {
            case InputFileState.Missing:
                diagnostics.Error(location.File, $"'{relativePath}' does not exist", location.Line, key, hint);
                return null;
            case InputFileState.Refused:
                return null;
        }

        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[2];
            if (file.Read(magic) < 2 || magic[0] != 0x1F || magic[1] != 0x8B)
            {
                diagnostics.Error(relativePath, "is not gzip-compressed (the prebuilt amdgpu artifact is a .tar.gz)", key: key, hint: hint);
                return null;
            }

            file.Position = 0;
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var bounded = new ExpansionLimitStream(gzip, MaxAmdGpuArtifactExpansion, relativePath);
            using var tar = new TarReader(bounded);
            while (tar.GetNextEntry() is { } entry)
            {
                if (AmdGpuModulePattern().IsMatch(entry.Name.TrimStart('.', '/')))
                {
                    return path;
                }
            }

            diagnostics.Error(relativePath, "holds no lib/modules/<kernel>/updates/dkms/amdgpu.ko*: it is not a prebuilt amdgpu driver", key: key, hint: hint);
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            diagnostics.Error(relativePath, "is not a valid gzip-compressed tar archive (" + e.Message.TrimEnd('.') + ")", key: key, hint: hint);
            return null;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^lib/modules/[^/]+/updates/dkms/(.+/)?amdgpu\.ko(\.[a-z]+)?$")]
    private static partial System.Text.RegularExpressions.Regex AmdGpuModulePattern();

    /// <summary>A cluster definition is kilobytes to a few MiB of YAML and manifests; past this it is not one.</summary>
    public const long MaxClusterConfigExpansion = 1L << 30;

    /// <summary>
    /// <c>CLUSTERCONFIG</c> must be a gzip-compressed tar. A missing file is a warning, not an error: CanvOS's own
    /// template sets <c>CLUSTERCONFIG=spc.tgz</c> and embeds it only if it exists.
    /// </summary>
    public static ClusterConfigFile? ClusterConfig(InputFileReader inputs, string relativePath, (string File, int? Line) location, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, relativePath);
        var state = inputs.ProbeFile(path, relativePath, diagnostics);
        if (state == InputFileState.Refused)
        {
            return null;
        }

        if (state == InputFileState.Missing)
        {
            diagnostics.Warning(location.File, $"'{relativePath}' does not exist: the ISO will carry no cluster definition", location.Line, "CLUSTERCONFIG",
                "export the cluster definition to that path, or remove CLUSTERCONFIG");
            return null;
        }

        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[2];
            if (file.Read(magic) < 2 || magic[0] != 0x1F || magic[1] != 0x8B)
            {
                diagnostics.Error(relativePath, "is not gzip-compressed", key: "CLUSTERCONFIG", hint: "the cluster definition is the .tgz exported from Palette");
                return null;
            }

            file.Position = 0;
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            // Every entry is read to check it; a gzip bomb must cost a bounded amount of work, not its expanded size.
            using var bounded = new ExpansionLimitStream(gzip, MaxClusterConfigExpansion, relativePath);
            using var tar = new TarReader(bounded);
            var entries = 0;
            while (tar.GetNextEntry() is not null)
            {
                entries++;
            }

            if (entries == 0)
            {
                diagnostics.Error(relativePath, "is an empty archive", key: "CLUSTERCONFIG", hint: "export the cluster definition again");
                return null;
            }

            return new ClusterConfigFile(path, relativePath, new FileInfo(path).Length, entries);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            diagnostics.Error(relativePath, "is not a valid gzip-compressed tar archive (" + e.Message.TrimEnd('.') + ")", key: "CLUSTERCONFIG",
                hint: "the cluster definition is the .tgz exported from Palette");
            return null;
        }
    }

    /// <summary>
    /// Content bundles: every <c>*.zst</c> file in a <c>content-*</c> folder, each starting with the zstd frame magic
    /// (RFC 8878 §3.1.1), and every <c>*.tar</c> one with the ustar magic at offset 257 (POSIX.1-2001 pax/ustar header) —
    /// the guide offers both formats for an ISO (CanvOS copies only <c>*.zst</c>; decisions.md). Two bundles with one
    /// file name, or one too large for the two-digit <c>_partNN</c> names, are refused here, before any build.
    /// </summary>
    public static IReadOnlyList<ContentBundleFile> ContentBundles(InputFileReader inputs, DiagnosticBag diagnostics)
    {
        var projectDirectory = inputs.ProjectDirectory;
        var result = new List<ContentBundleFile>();
        var magic = new byte[ZstdMagic.Length];
        foreach (var folder in Directory.EnumerateDirectories(projectDirectory, "content-*").Order(StringComparer.Ordinal))
        {
            var folderName = Path.GetFileName(folder);
            if (inputs.ProbeDirectory(folder, folderName, diagnostics) != InputFileState.Usable)
            {
                continue;
            }

            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            var bundles = files.Where(f => f.EndsWith(".zst", StringComparison.Ordinal) || f.EndsWith(".tar", StringComparison.Ordinal)).ToList();
            if (bundles.Count == 0)
            {
                diagnostics.Warning(folderName, "holds no .zst or .tar content bundle and is ignored", hint: "put the bundle built by 'edgeforge content build' here");
            }

            foreach (var other in files.Except(bundles).Where(f => !f.EndsWith(".sig", StringComparison.Ordinal)))
            {
                diagnostics.Warning(Relative(projectDirectory, other), "is not a .zst or .tar content bundle and is not embedded",
                    hint: other.EndsWith(".iso", StringComparison.Ordinal) ? "an ISO-format bundle is for a USB stick; build it with --format zst or tar to embed it" : null);
            }

            foreach (var bundle in bundles)
            {
                var display = Relative(projectDirectory, bundle);
                if (inputs.ProbeFile(bundle, display, diagnostics) != InputFileState.Usable)
                {
                    continue;
                }

                using var stream = File.OpenRead(bundle);
                if (bundle.EndsWith(".tar", StringComparison.Ordinal))
                {
                    var header = new byte[TarMagicOffset + TarMagic.Length];
                    if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.AsSpan(TarMagicOffset).SequenceEqual(TarMagic))
                    {
                        diagnostics.Error(display, "is not a tar archive (no ustar header)", hint: "a .tar content bundle is made by 'edgeforge content build --format tar' or Palette's content builder");
                        continue;
                    }
                }
                else if (stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) < magic.Length || !magic.AsSpan().SequenceEqual(ZstdMagic))
                {
                    diagnostics.Error(display, "is not zstd-compressed (wrong magic bytes)", hint: "content bundles are .zst files made by 'edgeforge content build' or Palette's content builder");
                    continue;
                }

                if (result.FirstOrDefault(b => Path.GetFileName(b.Path) == Path.GetFileName(bundle)) is { } same)
                {
                    diagnostics.Error(display, $"has the same file name as {same.DisplayName}; the ISO holds every bundle side by side in /opt/spectrocloud/content", hint: "rename one of them");
                    continue;
                }

                if ((stream.Length + MaxPartSize - 1) / MaxPartSize > MaxParts)
                {
                    diagnostics.Error(display, $"needs more than {MaxParts} parts of {MaxPartSize:N0} bytes on the ISO (the _partNN names have two digits)", hint: "split the content over several bundles");
                    continue;
                }

                result.Add(new ContentBundleFile(bundle, display, stream.Length));
            }
        }

        return result;
    }

    internal static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');
}

/// <summary>Reads through to <c>inner</c> and fails once more than <c>limit</c> bytes came out (decompression bombs).</summary>
internal sealed class ExpansionLimitStream(Stream inner, long limit, string display) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        _read += read;
        return _read > limit ? throw new InvalidDataException($"{display} expands to more than {limit:N0} bytes") : read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
