using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Authenticode;

/// <summary>
/// Signs PE images for UEFI Secure Boot the way sbsign does, without sbsign: a PKCS#7 SignedData over an
/// SpcIndirectDataContent holding the image's SHA-256 Authenticode digest, appended as the image's attribute
/// certificate table (Microsoft, "Windows Authenticode Portable Executable Signature Format").
/// </summary>
public static class AuthenticodeSigner
{
    /// <summary>
    /// Writes <paramref name="outputPath"/>: <paramref name="inputPath"/> signed with
    /// <paramref name="certificateWithPrivateKey"/>, its certificate included in the signature. The output appears
    /// whole or not at all (a temporary file in the same directory, renamed); input and output may be the same file.
    /// </summary>
    /// <remarks>
    /// A signature the input already carries is replaced, not kept next to ours (sbsign would add ours as a second
    /// entry). The output is what this build vouches for: it verifies against exactly the key the caller chose, so an
    /// image that passed through a vendor's signing (Debian's shim-signed kernels, a Microsoft-signed loader) cannot
    /// keep booting on machines whose db trusts the vendor but not this build's key, and signing the same input twice
    /// gives one signature, not two.
    /// </remarks>
    /// <exception cref="PeFormatException">The input is not a PE image that can carry a signature.</exception>
    public static async Task SignAsync(string inputPath, string outputPath, X509Certificate2 certificateWithPrivateKey, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(certificateWithPrivateKey);
        RequirePrivateKey(certificateWithPrivateKey);
        var temporary = TemporaryPathFor(outputPath);
        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.Asynchronous))
            {
                await using (var input = PeImageHeaders.OpenRead(inputPath))
                {
                    var headers = await PeImageHeaders.ReadAsync(input, inputPath, cancellation).ConfigureAwait(false);
                    var unsignedLength = UnsignedLength(headers);
                    await StreamRanges.CopyAsync(input, 0, unsignedLength, output, cancellation).ConfigureAwait(false);
                    if (headers.HasCertificateTableEntry)
                    {
                        await WriteCertificateTableEntryAsync(output, headers, default, cancellation).ConfigureAwait(false);
                    }
                }

                await AppendSignatureAsync(output, inputPath, certificateWithPrivateKey, cancellation).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, outputPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    internal static string TemporaryPathFor(string outputPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, $".{Path.GetFileName(outputPath)}.tmp-{Guid.NewGuid():N}");

    internal static void RequirePrivateKey(X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"the signing certificate {certificate.Subject} has no private key", nameof(certificate));
        }
    }

    /// <summary>
    /// Signs the unsigned image open in <paramref name="image"/> (read-write) in place: pads it to 8 bytes, appends the
    /// attribute certificate table, points the Certificate Table entry at it and recomputes the checksum.
    /// </summary>
    internal static async Task AppendSignatureAsync(FileStream image, string fileName, X509Certificate2 certificate, CancellationToken cancellation)
    {
        var headers = await PeImageHeaders.ReadAsync(image, fileName, cancellation).ConfigureAwait(false);
        if (!headers.OptionalHeader.CertificateTable.IsEmpty)
        {
            throw new InvalidOperationException($"{fileName}: already signed");
        }

        // The table must start on a quadword boundary. The zero padding before it belongs to the hashed image data
        // (it is not part of the table), which is also what sbsign and Windows do.
        var tableOffset = WinCertificate.Align(image.Length);
        image.SetLength(tableOffset);
        headers = await PeImageHeaders.ReadAsync(image, fileName, cancellation).ConfigureAwait(false);
        var digest = await AuthenticodeDigest.ComputeAsync(image, headers, cancellation).ConfigureAwait(false);

        var entry = WinCertificate.Encode(CreateSignedData(digest, certificate));
        image.Position = tableOffset;
        await image.WriteAsync(entry, cancellation).ConfigureAwait(false);
        await WriteCertificateTableEntryAsync(image, headers, new DataDirectory(checked((uint)tableOffset), (uint)entry.Length), cancellation).ConfigureAwait(false);
        await PeChecksum.UpdateAsync(image, headers.CheckSumOffset, cancellation).ConfigureAwait(false);
    }

    /// <summary>The PKCS#7 SignedData (DER) of an Authenticode signature over <paramref name="sha256Digest"/>.</summary>
    internal static byte[] CreateSignedData(byte[] sha256Digest, X509Certificate2 certificate)
    {
        // Authenticode is PKCS#7 (RFC 2315), not CMS, in two ways SignedCms does not do by itself (checked against
        // sbverify, which rejected SignedCms's own encoding: "PKCS7_signatureVerify: digest failure"):
        //  - messageDigest is the hash of SpcIndirectDataContent's content octets, without its SEQUENCE tag and
        //    length (RFC 2315 §9.3); SignedCms hashes a non-id-data content with them. So SignedCms is given exactly
        //    those content octets, and hashes what Authenticode hashes.
        //  - the content is the SEQUENCE itself ("content [0] EXPLICIT ANY") in a version 1 SignedData; SignedCms
        //    writes CMS's OCTET STRING wrapper and version 3. Neither is covered by the signature (only the signed
        //    attributes are), so the envelope is rewritten around the unchanged SignerInfo.
        var content = SpcIndirectDataContent.Encode(sha256Digest);
        var contentOctets = SpcIndirectDataContent.ContentOctets(content);
        var signedCms = new SignedCms(new ContentInfo(new Oid(SpcIndirectDataContent.ContentTypeOid), contentOctets), detached: false);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate)
        {
            DigestAlgorithm = new Oid(SpcIndirectDataContent.Sha256Oid),
            IncludeOption = X509IncludeOption.EndCertOnly,
        };

        // contentType and messageDigest are added by SignedCms itself; Authenticode also requires SpcSpOpusInfo.
        signer.SignedAttributes.Add(new AsnEncodedData(SpcIndirectDataContent.SpOpusInfoOid, SpcIndirectDataContent.EncodeEmptyOpusInfo()));
        signedCms.ComputeSignature(signer, silent: true);
        return Pkcs7SignedData.FromCms(signedCms.Encode(), content, contentOctets);
    }

    /// <summary>The length of the image without its attribute certificate table, which must be the file's last bytes.</summary>
    private static long UnsignedLength(PeImageHeaders headers)
    {
        var table = headers.OptionalHeader.CertificateTable;
        if (table.IsEmpty)
        {
            return headers.FileLength;
        }

        if ((long)table.VirtualAddress + table.Size != headers.FileLength || table.VirtualAddress < headers.SectionDataEnd)
        {
            throw new PeFormatException(headers.FileName, $"its attribute certificate table (0x{table.VirtualAddress:X}, {table.Size} bytes) is not at the end of the file after the sections, so its signature cannot be replaced");
        }

        return table.VirtualAddress;
    }

    private static async Task WriteCertificateTableEntryAsync(Stream image, PeImageHeaders headers, DataDirectory entry, CancellationToken cancellation)
    {
        var bytes = new byte[DataDirectory.EntrySize];
        entry.Write(bytes);
        image.Position = headers.DataDirectoryEntryOffset(DataDirectory.CertificateTableIndex);
        await image.WriteAsync(bytes, cancellation).ConfigureAwait(false);
    }
}
