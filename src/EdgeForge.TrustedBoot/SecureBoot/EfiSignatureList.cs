using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>EFI_SIGNATURE_DATA (UEFI 2.10 §32.4.1): SignatureOwner (EFI_GUID) followed by SignatureSize − 16 bytes of data.</summary>
public sealed record EfiSignatureData(EfiGuid Owner, byte[] Data);

/// <summary>
/// EFI_SIGNATURE_LIST (UEFI 2.10 §32.4.1): SignatureType (EFI_GUID), SignatureListSize, SignatureHeaderSize,
/// SignatureSize (UINT32 LE each), SignatureHeader[SignatureHeaderSize], then EFI_SIGNATURE_DATA entries of
/// SignatureSize bytes each. The PK, KEK, db and dbx variables hold a concatenation of such lists — an "ESL file".
/// </summary>
public sealed class EfiSignatureList
{
    /// <summary>SignatureType, SignatureListSize, SignatureHeaderSize, SignatureSize.</summary>
    public const int HeaderSize = EfiGuid.Size + 12;

    public EfiSignatureList(EfiGuid signatureType, IReadOnlyList<EfiSignatureData> signatures, byte[]? signatureHeader = null)
    {
        if (signatures.Count == 0)
        {
            throw new ArgumentException("a signature list holds at least one signature", nameof(signatures));
        }

        // All entries of one list share SignatureSize (§32.4.1): certificates of different lengths go in separate lists.
        var size = signatures[0].Data.Length;
        if (signatures.Any(s => s.Data.Length != size))
        {
            throw new ArgumentException("every signature of a list has the same size", nameof(signatures));
        }

        SignatureType = signatureType;
        Signatures = signatures;
        SignatureHeader = signatureHeader ?? [];
    }

    public EfiGuid SignatureType { get; }

    /// <summary>SignatureHeader: empty for the X.509 and SHA-256 types the specification defines.</summary>
    public byte[] SignatureHeader { get; }

    public IReadOnlyList<EfiSignatureData> Signatures { get; }

    /// <summary>SignatureSize: the owner GUID plus the data of one entry.</summary>
    public int SignatureSize => EfiGuid.Size + Signatures[0].Data.Length;

    /// <summary>SignatureListSize: the whole list, header included.</summary>
    public int ListSize => HeaderSize + SignatureHeader.Length + Signatures.Count * SignatureSize;

    /// <summary>A list holding one DER certificate, as <c>cert-to-efi-sig-list</c> and sbctl write it.</summary>
    public static EfiSignatureList ForCertificate(EfiGuid owner, byte[] certificateDer) =>
        new(EfiGuid.CertX509, [new EfiSignatureData(owner, certificateDer)]);

    public void Write(Stream destination)
    {
        var header = new byte[HeaderSize];
        SignatureType.Write(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)ListSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), (uint)SignatureHeader.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), (uint)SignatureSize);
        destination.Write(header);
        destination.Write(SignatureHeader);
        var owner = new byte[EfiGuid.Size];
        foreach (var signature in Signatures)
        {
            signature.Owner.Write(owner);
            destination.Write(owner);
            destination.Write(signature.Data);
        }
    }

    /// <summary>The concatenated lists, as the variable's data (and an ESL file) holds them.</summary>
    public static byte[] ToBytes(IEnumerable<EfiSignatureList> lists)
    {
        using var buffer = new MemoryStream();
        foreach (var list in lists)
        {
            list.Write(buffer);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads an ESL file; a malformed one is an <see cref="EfiSignatureListFormatException"/> naming it and the offset.</summary>
    public static IReadOnlyList<EfiSignatureList> ReadFile(string path) => ReadAll(File.ReadAllBytes(path), path);

    /// <summary>
    /// Reads a concatenation of signature lists (an empty input is an empty database). Every size is checked against
    /// what remains, X.509 entries must parse as certificates and SHA-256 entries must be 32 bytes, so a truncated or
    /// foreign file is refused here rather than enrolled as garbage.
    /// </summary>
    public static IReadOnlyList<EfiSignatureList> ReadAll(ReadOnlySpan<byte> data, string source)
    {
        var lists = new List<EfiSignatureList>();
        var offset = 0;
        while (offset < data.Length)
        {
            var remaining = data[offset..];
            if (remaining.Length < HeaderSize)
            {
                throw Malformed(source, offset, $"{remaining.Length} trailing bytes are too few for an EFI_SIGNATURE_LIST header ({HeaderSize})", data);
            }

            var type = EfiGuid.Read(remaining);
            var listSize = BinaryPrimitives.ReadUInt32LittleEndian(remaining[16..]);
            var headerSize = BinaryPrimitives.ReadUInt32LittleEndian(remaining[20..]);
            var signatureSize = BinaryPrimitives.ReadUInt32LittleEndian(remaining[24..]);
            if (listSize > remaining.Length || listSize < HeaderSize)
            {
                throw Malformed(source, offset, $"SignatureListSize {listSize} is outside {HeaderSize}..{remaining.Length} (the bytes left)", data);
            }

            if (headerSize > listSize - HeaderSize)
            {
                throw Malformed(source, offset, $"SignatureHeaderSize {headerSize} does not fit in SignatureListSize {listSize}", data);
            }

            var body = listSize - HeaderSize - headerSize;
            if (signatureSize <= EfiGuid.Size || body == 0 || body % signatureSize != 0)
            {
                throw Malformed(source, offset, $"SignatureSize {signatureSize} does not divide the {body} bytes of entries (each entry is a 16-byte owner GUID and its data)", data);
            }

            if (type == EfiGuid.CertSha256 && signatureSize != EfiGuid.Size + SHA256.HashSizeInBytes)
            {
                throw Malformed(source, offset, $"SignatureSize {signatureSize} of an EFI_CERT_SHA256_GUID list is not 48 (owner GUID + 32-byte digest)", data);
            }

            var header = remaining.Slice(HeaderSize, (int)headerSize).ToArray();
            var signatures = new List<EfiSignatureData>();
            for (var entry = HeaderSize + (int)headerSize; entry < listSize; entry += (int)signatureSize)
            {
                var owner = EfiGuid.Read(remaining[entry..]);
                var value = remaining.Slice(entry + EfiGuid.Size, (int)signatureSize - EfiGuid.Size).ToArray();
                if (type == EfiGuid.CertX509 && !IsCertificate(value))
                {
                    throw Malformed(source, offset + entry, "an EFI_CERT_X509_GUID entry is not a DER X.509 certificate", data);
                }

                signatures.Add(new EfiSignatureData(owner, value));
            }

            lists.Add(new EfiSignatureList(type, signatures, header));
            offset += (int)listSize;
        }

        return lists;
    }

    private static bool IsCertificate(byte[] der)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static EfiSignatureListFormatException Malformed(string source, int offset, string problem, ReadOnlySpan<byte> data)
    {
        // The usual mistake: a file copied from /sys/firmware/efi/efivars starts with the variable's 4-byte attributes.
        var hint = offset == 0 && data.Length >= 4 + HeaderSize && EfiGuid.Read(data[4..]) is var shifted
            && (shifted == EfiGuid.CertX509 || shifted == EfiGuid.CertSha256)
            ? "; it starts with 4 bytes of variable attributes, as files under /sys/firmware/efi/efivars do: drop them (tail -c +5) or export with efi-readvar -v NAME -o FILE"
            : "; export the variable as ESL data (efi-readvar -v NAME -o FILE)";
        return new EfiSignatureListFormatException($"{source}: not EFI signature list data: at offset {offset}: {problem}{hint}", source, offset);
    }
}

/// <summary>Bytes that are not a well-formed EFI_SIGNATURE_LIST sequence: input the user must replace.</summary>
public sealed class EfiSignatureListFormatException(string message, string source, int offset) : SecureBootKeyException(message)
{
    public string SourceName { get; } = source;

    public int Offset { get; } = offset;
}
