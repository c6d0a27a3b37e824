using System.Buffers.Binary;
using System.Text;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>
/// The variables of an EDK2 OVMF_VARS.fd, read far enough to take Microsoft's certificates out of Debian's: the
/// EFI_FIRMWARE_VOLUME_HEADER (PI spec vol. 3 §3.2.1: "_FVH" at 40, HeaderLength at 48), the VARIABLE_STORE_HEADER
/// after it (EDK2 MdeModulePkg/Include/Guid/VariableFormat.h: the authenticated-variable GUID, Size, Format 0x5A,
/// State 0xFE; 28 bytes) and AUTHENTICATED_VARIABLE_HEADER entries (StartId 0x55AA, State, Reserved, Attributes,
/// MonotonicCount, TimeStamp, PubKeyIndex, NameSize, DataSize, VendorGuid: 60 bytes; then name and data, 4-aligned).
/// </summary>
internal static class Edk2VariableStore
{
    private static readonly EfiGuid AuthenticatedVariableGuid = EfiGuid.Parse("aaf32c78-947b-439a-a180-2e144ec37792");

    /// <summary>VAR_ADDED: the live copy of a variable (older copies are marked deleted, 0x3C/0x3D).</summary>
    private const byte VariableAdded = 0x3F;

    private const int HeaderSize = 60;

    public sealed record Variable(string Name, EfiGuid VendorGuid, uint Attributes, byte[] Data);

    public static IReadOnlyList<Variable> Read(byte[] image)
    {
        Encoding.ASCII.GetString(image, 40, 4).ShouldBe("_FVH", "not a firmware volume");
        var store = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(48));
        EfiGuid.Read(image.AsSpan(store)).ShouldBe(AuthenticatedVariableGuid, "not an authenticated variable store");
        var end = store + (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(store + 16));
        var variables = new List<Variable>();
        for (var offset = store + 28; offset + HeaderSize <= end && BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(offset)) == 0x55AA;)
        {
            var header = image.AsSpan(offset);
            var nameSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[36..]);
            var dataSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[40..]);
            if (header[2] == VariableAdded)
            {
                variables.Add(new Variable(
                    Encoding.Unicode.GetString(header.Slice(HeaderSize, nameSize)).TrimEnd('\0'),
                    EfiGuid.Read(header[44..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                    header.Slice(HeaderSize + nameSize, dataSize).ToArray()));
            }

            offset = (offset + HeaderSize + nameSize + dataSize + 3) & ~3;
        }

        return variables;
    }
}
