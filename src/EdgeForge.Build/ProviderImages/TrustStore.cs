namespace EdgeForge.Build.ProviderImages;

/// <summary>
/// Where a distribution keeps extra CA certificates, how it regenerates its bundle, and the bundle file itself
/// (EDGEFORGE.md §5 step 2): Debian/Ubuntu <c>update-ca-certificates</c>, openSUSE/SLES and RHEL <c>update-ca-trust</c>.
/// </summary>
public sealed record TrustStore(string AnchorDirectory, string CertificateExtension, string[] RegenerateCommand, string BundleFile)
{
    public static TrustStore For(string osDistribution) => osDistribution switch
    {
        "opensuse-leap" or "opensuse" or "sles" or "suse" => new("usr/share/pki/trust/anchors", ".pem", ["update-ca-certificates"], "var/lib/ca-certificates/ca-bundle.pem"),
        "rhel" or "centos" or "rocky" or "almalinux" or "fedora" => new("etc/pki/ca-trust/source/anchors", ".pem", ["update-ca-trust", "extract"], "etc/pki/tls/certs/ca-bundle.crt"),
        _ => new("usr/local/share/ca-certificates", ".crt", ["update-ca-certificates"], "etc/ssl/certs/ca-certificates.crt"),
    };

    /// <summary>The tool that regenerates the bundle, when the image has it (found under the usual sbin/bin directories).</summary>
    public string? FindRegenerateTool(string rootfs) =>
        new[] { "usr/sbin", "usr/bin", "sbin", "bin" }
            .Select(d => Path.Combine(d, RegenerateCommand[0]))
            .FirstOrDefault(p => File.Exists(Path.Combine(rootfs, p)) || new FileInfo(Path.Combine(rootfs, p)).LinkTarget is not null);
}
