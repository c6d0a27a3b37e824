using System.Buffers.Binary;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class PeImageHeadersTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-pe-");

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> Images => new()
    {
        SystemdBinaries.Stub,
        SystemdBinaries.Boot,
        HostKernel.ImagePath,
    };

    [Theory]
    [MemberData(nameof(Images))]
    public async Task Reads_the_section_table_and_header_fields_objdump_shows(string image)
    {
        var headers = await PeImageHeaders.ReadFileAsync(image, CancellationToken.None);

        headers.FileHeader.Machine.ShouldBe(CoffFileHeader.MachineAmd64);
        headers.OptionalHeader.IsPe32Plus.ShouldBeTrue();
        headers.OptionalHeader.Subsystem.ShouldBe(OptionalHeader.SubsystemEfiApplication);
        headers.OptionalHeader.SizeOfHeaders.ShouldBe((uint)Objdump.Field(image, "SizeOfHeaders"));
        headers.OptionalHeader.SizeOfImage.ShouldBe((uint)Objdump.Field(image, "SizeOfImage"));
        headers.OptionalHeader.SectionAlignment.ShouldBe((uint)Objdump.Field(image, "SectionAlignment"));
        headers.OptionalHeader.FileAlignment.ShouldBe((uint)Objdump.Field(image, "FileAlignment"));
        headers.OptionalHeader.CheckSum.ShouldBe((uint)Objdump.Field(image, "CheckSum"));
        headers.Sections.Select(s => (s.Name, (long)s.VirtualAddress, (long)s.PointerToRawData))
            .ShouldBe(Objdump.Sections(image).Select(s => (s.Name, s.Vma, s.FileOffset)));
    }

    [Fact]
    public async Task Bad_images_are_input_errors_that_name_the_file_and_the_problem()
    {
        var stub = await File.ReadAllBytesAsync(SystemdBinaries.Stub);
        var peOffset = (int)FileHeaderOffset(SystemdBinaries.Stub) - 4;
        var cases = new Dictionary<string, (byte[] Bytes, string Problem)>
        {
            ["empty"] = ([], "too short for an MS-DOS header"),
            ["script"] = ("#!/bin/sh\nexit 0\n"u8.ToArray().Concat(new byte[64]).ToArray(), "does not start with \"MZ\""),
            ["headers-only"] = (stub[..0x300], "truncated"),
            ["no-last-section"] = (stub[..0x11200], "truncated: section .sdmagic"),
            ["dos-only"] = (Patched(stub, peOffset, "NE\0\0"u8.ToArray()), "no \"PE\\0\\0\" signature"),
            ["lfanew-past-end"] = (Patched(stub, 0x3C, [0xFF, 0xFF, 0xFF, 0x7F]), "e_lfanew points to 0x7FFFFFFF"),
            ["rom-magic"] = (Patched(stub, peOffset + 24, [0x07, 0x01]), "optional header magic 0x0107"),
        };

        foreach (var (name, (bytes, problem)) in cases)
        {
            var path = _directory.Combine(name);
            await File.WriteAllBytesAsync(path, bytes);
            var error = await Should.ThrowAsync<PeFormatException>(() => PeImageHeaders.ReadFileAsync(path, CancellationToken.None), name);
            error.Message.ShouldStartWith($"{path}: ", customMessage: name);
            error.Message.ShouldContain(problem, customMessage: name);
        }
    }

    /// <summary>The offset of the COFF file header, from e_lfanew read directly (for tests that patch header fields).</summary>
    internal static long FileHeaderOffset(string image)
    {
        using var stream = File.OpenRead(image);
        var dos = new byte[0x40];
        stream.ReadExactly(dos);
        return BinaryPrimitives.ReadUInt32LittleEndian(dos.AsSpan(0x3C)) + 4;
    }

    private static byte[] Patched(byte[] image, int offset, byte[] bytes)
    {
        var copy = image.ToArray();
        bytes.CopyTo(copy, offset);
        return copy;
    }
}
