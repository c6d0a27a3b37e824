using System.Buffers.Binary;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Uki;

/// <summary>
/// Where every section of a UKI goes, and the headers that say so: the stub's sections (data moved, RVAs kept) and
/// the added ones after them. Planned from the headers alone; <see cref="WriteAsync"/> then streams the data.
/// </summary>
internal sealed class UkiLayout
{
    /// <summary>EFI_PAGE_SIZE.</summary>
    public const uint EfiPageSize = 0x1000;

    private readonly PeImageHeaders _stub;
    private readonly uint _fileAlignment;
    private readonly List<(SectionHeader Original, SectionHeader Placed)> _stubSections;
    private readonly List<(AddedSection Section, SectionHeader Placed)> _addedSections;
    private readonly uint _sizeOfHeaders;
    private readonly uint _sizeOfImage;
    private readonly uint _sizeOfCode;
    private readonly uint _sizeOfInitializedData;

    private UkiLayout(PeImageHeaders stub, IReadOnlyList<AddedSection> added)
    {
        _stub = stub;
        var optional = stub.OptionalHeader;
        _fileAlignment = optional.FileAlignment;
        var sectionAlignment = optional.SectionAlignment;
        if (!IsPowerOfTwo(_fileAlignment) || _fileAlignment < 0x200 || !IsPowerOfTwo(sectionAlignment) || sectionAlignment < _fileAlignment)
        {
            throw new PeFormatException(stub.FileName, $"FileAlignment 0x{_fileAlignment:X} and SectionAlignment 0x{sectionAlignment:X} are not powers of two with 0x200 ≤ FileAlignment ≤ SectionAlignment, as the PE format requires of an image");
        }

        // The stub's .sbat is replaced by the merged one, placed with the other added sections. Growing it in place
        // as ukify does is not always possible: in Debian's stub .sdmagic starts 0x100 bytes after .sbat, less than a
        // merged .sbat needs. Two .sbat sections are no option either: shim refuses an image with more than one.
        // Nothing in the stub refers to its .sbat (it is read from the file by shim); its RVA range stays unused.
        var kept = stub.Sections.Where(s => s.Name != SbatText.SectionName).ToList();
        var dropped = stub.Sections.Where(s => s.Name == SbatText.SectionName).Sum(s => (long)s.SizeOfRawData);

        // New section headers need room between the section table and the first section's data. When SizeOfHeaders
        // is too small it grows by whole FileAlignment units and the sections' data moves down with it: section data
        // is found through PointerToRawData only (code refers to RVAs, which do not move), as long as the headers
        // still end below the first section's RVA, where the loader maps them.
        var sectionTableEnd = stub.SectionTableOffset + ((long)(kept.Count + added.Count) * SectionHeader.Size);
        var sizeOfHeaders = AlignUp(Math.Max(optional.SizeOfHeaders, sectionTableEnd), _fileAlignment);
        var firstRva = kept.Select(s => (long)s.VirtualAddress).DefaultIfEmpty(long.MaxValue).Min();
        if (sizeOfHeaders > firstRva)
        {
            throw new UkiException($"{stub.FileName}: no room for {added.Count} more section headers: the headers would need 0x{sizeOfHeaders:X} bytes, but the first section starts at RVA 0x{firstRva:X}");
        }

        // The stub's section data is laid out again from the end of the headers, in its file order, without gaps and
        // without what trails the last section: the COFF symbol and string table some stubs still carry (deprecated
        // in images, PE Format "COFF File Header") would otherwise sit in the middle of the file, hashed and signed,
        // and nothing that boots reads it.
        var position = sizeOfHeaders;
        _stubSections = [];
        foreach (var section in kept.OrderBy(s => s.SizeOfRawData == 0 ? 0 : s.PointerToRawData))
        {
            var rawSize = AlignUp(section.SizeOfRawData, _fileAlignment);
            _stubSections.Add((section, section with { PointerToRawData = section.SizeOfRawData == 0 ? 0 : (uint)position, SizeOfRawData = (uint)rawSize }));
            position += rawSize;
        }

        // Added sections start on an EFI page (or the stub's SectionAlignment if larger). ukify aligns them to
        // SectionAlignment only, which is 0x200 in Debian's stub; a page costs nothing in the file (FileAlignment
        // applies there) and puts the kernel and initrd where page-granular loaders and the kernel's in-place EFI
        // handover expect them.
        var addedAlignment = Math.Max(sectionAlignment, EfiPageSize);
        var virtualEnd = stub.Sections.Select(s => s.VirtualEnd).DefaultIfEmpty(sizeOfHeaders).Max();
        _addedSections = [];
        long addedCode = 0, addedData = 0;
        foreach (var section in added)
        {
            var virtualAddress = AlignUp(virtualEnd, addedAlignment);
            var rawSize = AlignUp(section.Length, _fileAlignment);
            virtualEnd = virtualAddress + section.VirtualSize;
            if (position + rawSize > uint.MaxValue || AlignUp(virtualEnd, sectionAlignment) > uint.MaxValue)
            {
                throw new UkiException($"{stub.FileName}: with {section.Name} ({section.Length} bytes) the image passes 4 GiB, the most a PE image can hold");
            }

            _addedSections.Add((section, new SectionHeader(section.Name, (uint)section.VirtualSize, (uint)virtualAddress, (uint)rawSize, (uint)position, 0, 0, 0, 0, section.Characteristics | SectionHeader.MemoryRead)));
            position += rawSize;

            // SizeOfCode and SizeOfInitializedData sum the raw sizes of code and data sections (PE Format, "Optional
            // Header Standard Fields"); loaders ignore them, but .linux is code, the rest data.
            if ((section.Characteristics & SectionHeader.ContainsCode) != 0)
            {
                addedCode += rawSize;
            }
            else
            {
                addedData += rawSize;
            }
        }

        _sizeOfHeaders = (uint)sizeOfHeaders;
        _sizeOfImage = (uint)AlignUp(virtualEnd, sectionAlignment);
        _sizeOfCode = (uint)Math.Min(uint.MaxValue, optional.SizeOfCode + addedCode);
        _sizeOfInitializedData = (uint)Math.Clamp(optional.SizeOfInitializedData + addedData - dropped, 0, uint.MaxValue);
    }

    public static UkiLayout Plan(PeImageHeaders stub, IReadOnlyList<AddedSection> added) => new(stub, added);

    /// <summary>Writes the whole unsigned UKI, with a zero CheckSum, to <paramref name="output"/> (empty, seekable).</summary>
    public async Task WriteAsync(Stream stub, Stream output, CancellationToken cancellation)
    {
        await output.WriteAsync(await HeadersAsync(stub, cancellation).ConfigureAwait(false), cancellation).ConfigureAwait(false);
        foreach (var (original, placed) in _stubSections.Where(s => s.Original.SizeOfRawData > 0).OrderBy(s => s.Placed.PointerToRawData))
        {
            await StreamRanges.CopyAsync(stub, original.PointerToRawData, original.SizeOfRawData, output, cancellation).ConfigureAwait(false);
            await StreamRanges.WriteZerosAsync(output, placed.RawDataEnd - output.Position, cancellation).ConfigureAwait(false);
        }

        foreach (var (section, placed) in _addedSections)
        {
            if (section.Bytes is { } bytes)
            {
                await output.WriteAsync(bytes, cancellation).ConfigureAwait(false);
            }
            else
            {
                await StreamRanges.CopyAsync(section.Source!, 0, section.Length, output, cancellation).ConfigureAwait(false);
            }

            await StreamRanges.WriteZerosAsync(output, placed.RawDataEnd - output.Position, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>The stub's headers up to its section table, updated, followed by the new section table, zero-padded to SizeOfHeaders.</summary>
    private async Task<byte[]> HeadersAsync(Stream stub, CancellationToken cancellation)
    {
        var headers = new byte[_sizeOfHeaders];
        await PeImageHeaders.ReadExactlyAtAsync(stub, 0, headers.AsMemory(0, (int)_stub.SectionTableOffset), cancellation).ConfigureAwait(false);

        var fileHeader = headers.AsSpan((int)_stub.FileHeaderOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(fileHeader[CoffFileHeader.NumberOfSectionsOffset..], (ushort)(_stubSections.Count + _addedSections.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(fileHeader[CoffFileHeader.PointerToSymbolTableOffset..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(fileHeader[CoffFileHeader.NumberOfSymbolsOffset..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(fileHeader[CoffFileHeader.CharacteristicsOffset..], (ushort)(_stub.FileHeader.Characteristics | CoffFileHeader.LocalSymbolsStripped));

        var optional = headers.AsSpan((int)_stub.OptionalHeaderOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(optional[OptionalHeader.SizeOfCodeOffset..], _sizeOfCode);
        BinaryPrimitives.WriteUInt32LittleEndian(optional[OptionalHeader.SizeOfInitializedDataOffset..], _sizeOfInitializedData);
        BinaryPrimitives.WriteUInt32LittleEndian(optional[OptionalHeader.SizeOfImageOffset..], _sizeOfImage);
        BinaryPrimitives.WriteUInt32LittleEndian(optional[OptionalHeader.SizeOfHeadersOffset..], _sizeOfHeaders);
        BinaryPrimitives.WriteUInt32LittleEndian(optional[OptionalHeader.CheckSumOffset..], 0);
        if (_stub.HasCertificateTableEntry)
        {
            // A stub's signature (which trailed its sections and is not copied) cannot survive new sections; the UKI
            // is unsigned until it is signed as a whole.
            default(DataDirectory).Write(headers.AsSpan((int)_stub.DataDirectoryEntryOffset(DataDirectory.CertificateTableIndex)));
        }

        // The table lists sections in ascending RVA order, as the PE format requires of images.
        var table = headers.AsSpan((int)_stub.SectionTableOffset);
        var rows = _stubSections.Select(s => s.Placed).OrderBy(s => s.VirtualAddress).Concat(_addedSections.Select(s => s.Placed));
        var index = 0;
        foreach (var row in rows)
        {
            row.Write(table[(index++ * SectionHeader.Size)..]);
        }

        return headers;
    }

    private static bool IsPowerOfTwo(uint value) => value != 0 && (value & (value - 1)) == 0;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
