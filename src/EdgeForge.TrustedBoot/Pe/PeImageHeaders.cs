using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// The headers of one PE image, read from a stream without reading the rest of the file, with the file offsets of
/// the fields that signing and UKI assembly rewrite. Microsoft PE Format, "Overview" (the layout MS-DOS stub →
/// signature → COFF file header → optional header → section table) and the sections cited on each type.
/// </summary>
internal sealed class PeImageHeaders
{
    /// <summary>
    /// A bound on SizeOfHeaders, so that a hostile header cannot make us allocate gigabytes: real images have
    /// 0x200–0x1000 bytes of headers, and 96 sections (the Windows loader's limit) take under 4 KiB.
    /// </summary>
    public const uint MaximumSizeOfHeaders = 1 << 20;

    private PeImageHeaders(string fileName, long fileLength, uint peSignatureOffset, CoffFileHeader fileHeader, OptionalHeader optionalHeader, IReadOnlyList<SectionHeader> sections)
    {
        FileName = fileName;
        FileLength = fileLength;
        PeSignatureOffset = peSignatureOffset;
        FileHeader = fileHeader;
        OptionalHeader = optionalHeader;
        Sections = sections;
    }

    public string FileName { get; }

    public long FileLength { get; }

    /// <summary>e_lfanew.</summary>
    public uint PeSignatureOffset { get; }

    public CoffFileHeader FileHeader { get; }

    public OptionalHeader OptionalHeader { get; }

    /// <summary>The section table in file order.</summary>
    public IReadOnlyList<SectionHeader> Sections { get; }

    public long FileHeaderOffset => PeSignatureOffset + PeSignature.Size;

    public long OptionalHeaderOffset => FileHeaderOffset + CoffFileHeader.Size;

    public long CheckSumOffset => OptionalHeaderOffset + OptionalHeader.CheckSumOffset;

    public long SectionTableOffset => OptionalHeaderOffset + FileHeader.SizeOfOptionalHeader;

    public long SectionTableEnd => SectionTableOffset + ((long)Sections.Count * SectionHeader.Size);

    public bool HasCertificateTableEntry => OptionalHeader.DataDirectories.Count > DataDirectory.CertificateTableIndex;

    public long DataDirectoryEntryOffset(int index) => OptionalHeaderOffset + OptionalHeader.DataDirectoryOffset + ((long)index * DataDirectory.EntrySize);

    /// <summary>Where the section data ends: the end of the section whose raw data ends last (the headers when there is none).</summary>
    public long SectionDataEnd => Sections.Where(s => s.SizeOfRawData > 0).Select(s => s.RawDataEnd).DefaultIfEmpty(OptionalHeader.SizeOfHeaders).Max();

    public SectionHeader? FindSection(string name) => Sections.Cast<SectionHeader?>().FirstOrDefault(s => s!.Value.Name == name);

    public static async Task<PeImageHeaders> ReadFileAsync(string path, CancellationToken cancellation)
    {
        await using var stream = OpenRead(path);
        return await ReadAsync(stream, path, cancellation).ConfigureAwait(false);
    }

    /// <summary>Opens an input image for reading, turning "not there" into an input error that names the file.</summary>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            throw new PeFormatException(path, "does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            throw new PeFormatException(path, "does not exist");
        }
    }

    /// <summary>
    /// Reads and checks the headers of the image in <paramref name="stream"/> (seekable; its position is left
    /// anywhere). <paramref name="fileName"/> names the image in a <see cref="PeFormatException"/>.
    /// </summary>
    public static async Task<PeImageHeaders> ReadAsync(Stream stream, string fileName, CancellationToken cancellation)
    {
        var length = stream.Length;
        var dos = new byte[DosHeader.Size];
        if (!await TryReadAtAsync(stream, 0, dos, cancellation).ConfigureAwait(false))
        {
            throw new PeFormatException(fileName, $"is {length} bytes long, too short for an MS-DOS header ({DosHeader.Size} bytes): not a PE image");
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(dos.AsSpan(DosHeader.MagicOffset)) != DosHeader.Magic)
        {
            throw new PeFormatException(fileName, "does not start with \"MZ\": not a PE image");
        }

        var peOffset = BinaryPrimitives.ReadUInt32LittleEndian(dos.AsSpan(DosHeader.NewHeaderOffsetOffset));
        var fixedHeaders = new byte[PeSignature.Size + CoffFileHeader.Size];
        if (peOffset > length || !await TryReadAtAsync(stream, peOffset, fixedHeaders, cancellation).ConfigureAwait(false))
        {
            throw new PeFormatException(fileName, $"e_lfanew points to 0x{peOffset:X}, but the file ({length} bytes) ends before a PE signature and COFF header there: truncated or not a PE image");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(fixedHeaders) != PeSignature.Value)
        {
            throw new PeFormatException(fileName, $"has no \"PE\\0\\0\" signature at 0x{peOffset:X} (an MS-DOS executable, not a PE image)");
        }

        var fileHeader = CoffFileHeader.Parse(fixedHeaders.AsSpan(PeSignature.Size));
        var optionalBytes = new byte[fileHeader.SizeOfOptionalHeader];
        var optionalOffset = (long)peOffset + fixedHeaders.Length;
        if (!await TryReadAtAsync(stream, optionalOffset, optionalBytes, cancellation).ConfigureAwait(false))
        {
            throw new PeFormatException(fileName, $"is truncated: its {fileHeader.SizeOfOptionalHeader}-byte optional header at 0x{optionalOffset:X} runs past the end of the file ({length} bytes)");
        }

        var optionalHeader = OptionalHeader.Parse(optionalBytes, out var problem)
            ?? throw new PeFormatException(fileName, problem);
        if (optionalHeader.SizeOfHeaders > MaximumSizeOfHeaders)
        {
            throw new PeFormatException(fileName, $"SizeOfHeaders is 0x{optionalHeader.SizeOfHeaders:X}, more than any real image has (at most 0x{MaximumSizeOfHeaders:X} is accepted)");
        }

        var sectionTableOffset = optionalOffset + fileHeader.SizeOfOptionalHeader;
        var sectionTableEnd = sectionTableOffset + ((long)fileHeader.NumberOfSections * SectionHeader.Size);
        if (sectionTableEnd > optionalHeader.SizeOfHeaders)
        {
            throw new PeFormatException(fileName, $"the section table ({fileHeader.NumberOfSections} sections, ending at 0x{sectionTableEnd:X}) does not fit in SizeOfHeaders (0x{optionalHeader.SizeOfHeaders:X})");
        }

        if (optionalHeader.SizeOfHeaders > length)
        {
            throw new PeFormatException(fileName, $"is truncated: SizeOfHeaders is 0x{optionalHeader.SizeOfHeaders:X} but the file is {length} bytes long");
        }

        var table = new byte[fileHeader.NumberOfSections * SectionHeader.Size];
        await ReadExactlyAtAsync(stream, sectionTableOffset, table, cancellation).ConfigureAwait(false);
        var sections = new SectionHeader[fileHeader.NumberOfSections];
        for (var i = 0; i < sections.Length; i++)
        {
            sections[i] = SectionHeader.Parse(table.AsSpan(i * SectionHeader.Size, SectionHeader.Size));
            if (sections[i].SizeOfRawData > 0 && sections[i].RawDataEnd > length)
            {
                throw new PeFormatException(fileName, $"is truncated: section {sections[i].Name} has raw data at 0x{sections[i].PointerToRawData:X}–0x{sections[i].RawDataEnd:X}, past the end of the file ({length} bytes)");
            }
        }

        var certificateTable = optionalHeader.CertificateTable;
        if (!certificateTable.IsEmpty && (long)certificateTable.VirtualAddress + certificateTable.Size > length)
        {
            throw new PeFormatException(fileName, $"is truncated: its attribute certificate table at 0x{certificateTable.VirtualAddress:X} ({certificateTable.Size} bytes) runs past the end of the file ({length} bytes)");
        }

        return new PeImageHeaders(fileName, length, peOffset, fileHeader, optionalHeader, sections);
    }

    internal static async Task ReadExactlyAtAsync(Stream stream, long offset, Memory<byte> buffer, CancellationToken cancellation)
    {
        stream.Position = offset;
        await stream.ReadExactlyAsync(buffer, cancellation).ConfigureAwait(false);
    }

    private static async Task<bool> TryReadAtAsync(Stream stream, long offset, Memory<byte> buffer, CancellationToken cancellation)
    {
        if (offset + buffer.Length > stream.Length)
        {
            return false;
        }

        await ReadExactlyAtAsync(stream, offset, buffer, cancellation).ConfigureAwait(false);
        return true;
    }
}
