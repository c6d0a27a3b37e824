using System.Security.Cryptography;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Authenticode;

/// <summary>
/// The SHA-256 Authenticode digest of a PE image, as Microsoft's "Windows Authenticode Portable Executable Signature
/// Format" ("Calculating the PE Image Hash") defines it and as UEFI firmware checks it against db/dbx: the headers up
/// to SizeOfHeaders without the CheckSum field and the Certificate Table data-directory entry, then every section's
/// raw data in PointerToRawData order, then whatever follows (SUM_OF_BYTES_HASHED up to the file length minus the
/// attribute certificate table). Read from the stream; the file is never held in memory.
/// </summary>
public static class AuthenticodeDigest
{
    /// <summary>The digest of the image in <paramref name="image"/> (seekable).</summary>
    /// <exception cref="PeFormatException">The stream does not hold a PE image that can carry a signature.</exception>
    public static async Task<byte[]> ComputeAsync(Stream image, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var headers = await PeImageHeaders.ReadAsync(image, image is FileStream file ? file.Name : "PE image", cancellation).ConfigureAwait(false);
        return await ComputeAsync(image, headers, cancellation).ConfigureAwait(false);
    }

    internal static async Task<byte[]> ComputeAsync(Stream image, PeImageHeaders headers, CancellationToken cancellation)
    {
        if (!headers.HasCertificateTableEntry)
        {
            throw new PeFormatException(headers.FileName, $"its optional header has {headers.OptionalHeader.DataDirectories.Count} data directories, too few for a Certificate Table entry (the fifth): it cannot carry an Authenticode signature");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var checkSum = headers.CheckSumOffset;
        var certificateEntry = headers.DataDirectoryEntryOffset(DataDirectory.CertificateTableIndex);
        long sizeOfHeaders = headers.OptionalHeader.SizeOfHeaders;
        await StreamRanges.HashAsync(image, 0, checkSum, hash, cancellation).ConfigureAwait(false);
        await StreamRanges.HashAsync(image, checkSum + 4, certificateEntry - (checkSum + 4), hash, cancellation).ConfigureAwait(false);
        await StreamRanges.HashAsync(image, certificateEntry + DataDirectory.EntrySize, sizeOfHeaders - (certificateEntry + DataDirectory.EntrySize), hash, cancellation).ConfigureAwait(false);

        var hashed = sizeOfHeaders;
        foreach (var section in headers.Sections.Where(s => s.SizeOfRawData > 0).OrderBy(s => s.PointerToRawData))
        {
            await StreamRanges.HashAsync(image, section.PointerToRawData, section.SizeOfRawData, hash, cancellation).ConfigureAwait(false);
            hashed += section.SizeOfRawData;
        }

        // The specification's step 14: data after the sections that is not the certificate table is hashed too, from
        // SUM_OF_BYTES_HASHED (the end of the last section in an image without gaps between sections).
        var extra = headers.FileLength - headers.OptionalHeader.CertificateTable.Size - hashed;
        if (extra > 0)
        {
            await StreamRanges.HashAsync(image, hashed, extra, hash, cancellation).ConfigureAwait(false);
        }

        return hash.GetHashAndReset();
    }
}
