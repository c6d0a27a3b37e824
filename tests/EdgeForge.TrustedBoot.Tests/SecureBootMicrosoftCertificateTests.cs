using System.Security.Cryptography.X509Certificates;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>A fact that needs Debian's OVMF variable store; without it the test is reported skipped with the reason, never passed.</summary>
public sealed class DebianOvmfFactAttribute : FactAttribute
{
    public const string Variables = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";

    public DebianOvmfFactAttribute()
    {
        if (!File.Exists(Variables))
        {
            Skip = $"{Variables} is absent: install Debian's ovmf package (scripts/test-packages.txt) to compare the embedded Microsoft certificates with it";
        }
    }
}

/// <summary>The embedded Microsoft certificates are exactly those Debian's OVMF ships in KEK and db (see SecureBoot/Microsoft/README.md).</summary>
public sealed class SecureBootMicrosoftCertificateTests
{
    private const string DebianVariables = DebianOvmfFactAttribute.Variables;

    [DebianOvmfFact]
    public void The_embedded_certificates_are_those_of_debians_ovmf_kek_and_db()
    {
        var variables = Edk2VariableStore.Read(File.ReadAllBytes(DebianVariables));

        MicrosoftEntries(variables, "KEK", EfiGuid.GlobalVariable).ShouldBe([Convert.ToHexString(MicrosoftCertificates.KekCa2011)]);
        MicrosoftEntries(variables, "db", EfiGuid.ImageSecurityDatabase).Order().ShouldBe(
            new[] { MicrosoftCertificates.WindowsProductionPca2011, MicrosoftCertificates.UefiCa2011 }.Select(Convert.ToHexString).Order());
    }

    [Fact]
    public void The_embedded_certificates_are_microsofts_2011_cas()
    {
        Subject(MicrosoftCertificates.KekCa2011).ShouldBe("Microsoft Corporation KEK CA 2011");
        Subject(MicrosoftCertificates.WindowsProductionPca2011).ShouldBe("Microsoft Windows Production PCA 2011");
        Subject(MicrosoftCertificates.UefiCa2011).ShouldBe("Microsoft Corporation UEFI CA 2011");
        MicrosoftCertificates.For(SecureBootVariable.PK).ShouldBeEmpty();
        MicrosoftCertificates.For(SecureBootVariable.Db).ShouldAllBe(l => l.Signatures.Single().Owner == EfiGuid.MicrosoftOwner);
    }

    private static List<string> MicrosoftEntries(IReadOnlyList<Edk2VariableStore.Variable> variables, string name, EfiGuid vendor)
    {
        var variable = variables.Single(v => v.Name == name && v.VendorGuid == vendor);
        variable.Attributes.ShouldBe(AuthenticatedVariable.DefaultAttributes);
        return [.. EfiSignatureList.ReadAll(variable.Data, $"{DebianVariables} {name}")
            .Where(l => l.SignatureType == EfiGuid.CertX509)
            .SelectMany(l => l.Signatures)
            .Where(s => s.Owner == EfiGuid.MicrosoftOwner)
            .Select(s => Convert.ToHexString(s.Data))];
    }

    private static string Subject(byte[] der)
    {
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        return certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }
}
