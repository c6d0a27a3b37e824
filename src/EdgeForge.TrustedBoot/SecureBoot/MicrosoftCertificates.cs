namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// The Microsoft certificates firmware ships in KEK and db, enrolled beside a set's own so that Windows, shim-signed
/// Linux and option ROMs (GPU, NIC firmware signed by the UEFI CA) keep booting. They are embedded resources taken from
/// Debian's OVMF_VARS_4M.ms.fd (see Microsoft/README.md); the 2023 successors are not included (not available offline).
/// </summary>
public static class MicrosoftCertificates
{
    /// <summary>Microsoft Corporation KEK CA 2011: signs db/dbx updates (Windows Update's dbx revocations).</summary>
    public static byte[] KekCa2011 => Resource("MicCorKEKCA2011_2011-06-24.der");

    /// <summary>Microsoft Windows Production PCA 2011: signs Windows boot managers.</summary>
    public static byte[] WindowsProductionPca2011 => Resource("MicWinProPCA2011_2011-10-19.der");

    /// <summary>Microsoft Corporation UEFI CA 2011: signs shim and third-party drivers and option ROMs.</summary>
    public static byte[] UefiCa2011 => Resource("MicCorUEFCA2011_2011-06-27.der");

    /// <summary>The signature lists for <paramref name="variable"/> (KEK or db), each certificate in its own list, owned by Microsoft's GUID.</summary>
    public static IReadOnlyList<EfiSignatureList> For(SecureBootVariable variable) => variable.Name switch
    {
        "KEK" => [EfiSignatureList.ForCertificate(EfiGuid.MicrosoftOwner, KekCa2011)],
        "db" => [EfiSignatureList.ForCertificate(EfiGuid.MicrosoftOwner, WindowsProductionPca2011), EfiSignatureList.ForCertificate(EfiGuid.MicrosoftOwner, UefiCa2011)],
        _ => [],
    };

    private static byte[] Resource(string name)
    {
        using var stream = typeof(MicrosoftCertificates).Assembly.GetManifestResourceStream($"EdgeForge.TrustedBoot.SecureBoot.Microsoft.{name}")
            ?? throw new InvalidOperationException($"the embedded resource {name} is missing from the build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
