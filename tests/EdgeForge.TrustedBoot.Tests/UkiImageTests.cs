using System.Security.Cryptography;
using System.Text;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Pe;
using EdgeForge.TrustedBoot.Uki;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class UkiImageTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-uki-");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Objdump_lists_the_added_sections_in_ukify_order_with_the_inputs_at_their_offsets()
    {
        var (contents, output) = await WriteUkiAsync(signer: null);

        var sections = Objdump.Sections(output);
        var names = sections.Select(s => s.Name).ToList();
        names.TakeLast(6).ShouldBe([".osrel", ".cmdline", ".uname", ".initrd", ".sbat", ".linux"]);
        names.Count(n => n == ".sbat").ShouldBe(1);
        foreach (var (previous, next) in sections.Zip(sections.Skip(1)))
        {
            next.Vma.ShouldBeGreaterThanOrEqualTo(previous.Vma + previous.Size, $"{next.Name} overlaps {previous.Name}");
        }

        foreach (var added in sections.TakeLast(6))
        {
            (added.Vma % 0x1000).ShouldBe(0, $"{added.Name} at 0x{added.Vma:X} is not page aligned");
            (added.FileOffset % 0x200).ShouldBe(0, $"{added.Name} data at 0x{added.FileOffset:X} is not file aligned");
        }

        Objdump.SectionBytes(output, ".osrel", _directory).ShouldBe(Encoding.UTF8.GetBytes(contents.OsRelease));
        Objdump.SectionBytes(output, ".cmdline", _directory).ShouldBe(Encoding.UTF8.GetBytes(contents.CommandLine));
        Objdump.SectionBytes(output, ".uname", _directory).ShouldBe(Encoding.UTF8.GetBytes(contents.Uname));
        sections.Single(s => s.Name == ".cmdline").Size.ShouldBe(Encoding.UTF8.GetByteCount(contents.CommandLine));
        sections.Single(s => s.Name == ".initrd").Size.ShouldBe(new FileInfo(contents.InitrdPath).Length);
        Sha256At(output, sections.Single(s => s.Name == ".initrd")).ShouldBe(Sha256(contents.InitrdPath));

        // objdump shows .linux's file size (its VirtualSize, the kernel's SizeOfImage, is larger); the data is the kernel as is.
        var linux = sections.Single(s => s.Name == ".linux");
        linux.Size.ShouldBe(AlignUp(new FileInfo(contents.KernelPath).Length, 0x200));
        Sha256At(output, linux with { Size = new FileInfo(contents.KernelPath).Length }).ShouldBe(Sha256(contents.KernelPath));
    }

    [Fact]
    public async Task The_stub_sections_keep_their_addresses_and_contents()
    {
        var (_, output) = await WriteUkiAsync(signer: null);

        var stub = Objdump.Sections(SystemdBinaries.Stub).Where(s => s.Name != ".sbat").ToList();
        var uki = Objdump.Sections(output);
        foreach (var section in stub)
        {
            var copy = uki.Single(s => s.Name == section.Name);
            (copy.Vma, copy.Size).ShouldBe((section.Vma, section.Size), section.Name);
            Objdump.SectionBytes(output, section.Name, _directory).ShouldBe(Objdump.SectionBytes(SystemdBinaries.Stub, section.Name, _directory), section.Name);
        }

        var sizeOfImage = Objdump.Field(output, "SizeOfImage");
        sizeOfImage.ShouldBeGreaterThanOrEqualTo(uki[^1].Vma + Objdump.Field(HostKernel.ImagePath, "SizeOfImage"), "the loaded .linux spans the kernel's SizeOfImage");
        (sizeOfImage % Objdump.Field(SystemdBinaries.Stub, "SectionAlignment")).ShouldBe(0);
        ExternalTool.Output("objdump", "-p", output).ShouldContain("(EFI application)");
    }

    [Fact]
    public async Task The_sbat_section_merges_the_stub_lines_under_one_header_with_the_uki_line()
    {
        var (_, output) = await WriteUkiAsync(signer: null);

        var stubLines = Encoding.UTF8.GetString(Objdump.SectionBytes(SystemdBinaries.Stub, ".sbat", _directory)).TrimEnd('\0').Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var lines = Encoding.UTF8.GetString(Objdump.SectionBytes(output, ".sbat", _directory)).TrimEnd('\0').Split('\n', StringSplitOptions.RemoveEmptyEntries);

        lines[0].ShouldStartWith("sbat,1,");
        lines.Count(l => l.StartsWith("sbat,", StringComparison.Ordinal)).ShouldBe(1);
        lines.Skip(1).ShouldBe([.. stubLines.Where(l => !l.StartsWith("sbat,", StringComparison.Ordinal)), "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/"]);
    }

    [Fact]
    public async Task Sbverify_accepts_the_signed_uki_and_rejects_it_once_a_byte_of_the_kernel_changes()
    {
        var key = SigningKey.Create(_directory, "db");
        using var certificate = key.LoadWithPrivateKey();
        var (_, output) = await WriteUkiAsync(certificate);

        ExternalTool.Run("sbverify", "--cert", key.CertificatePath, output).ShouldExit();
        var list = ExternalTool.Output("sbverify", "--list", output);
        list.ShouldContain("signature 1");
        list.ShouldNotContain("signature 2");
        PeChecksumTests.OsslsigncodeChecksum(output, key).ShouldBe(Objdump.Field(output, "CheckSum"));

        var linux = Objdump.Sections(output).Single(s => s.Name == ".linux");
        var tampered = _directory.Combine("tampered.efi");
        File.Copy(output, tampered);
        FlipByte(tampered, linux.FileOffset + 4096);
        ExternalTool.Run("sbverify", "--cert", key.CertificatePath, tampered).ExitCode.ShouldNotBe(0);
    }

    [Fact]
    public async Task The_unsigned_uki_has_the_checksum_osslsigncode_computes()
    {
        var key = SigningKey.Create(_directory, "db");
        var (_, output) = await WriteUkiAsync(signer: null);

        var list = ExternalTool.Run("sbverify", "--list", output);
        (list.Output + list.Error).ShouldContain("No signature table present");
        PeChecksumTests.OsslsigncodeChecksum(output, key).ShouldBe(Objdump.Field(output, "CheckSum"));
    }

    [Fact]
    public async Task A_stub_that_is_not_a_pe_image_is_named_in_the_error()
    {
        var text = _directory.Combine("stub.txt");
        await File.WriteAllTextAsync(text, "#!/bin/sh\necho not a stub\n");
        var truncated = _directory.Combine("truncated.stub");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(SystemdBinaries.Stub))[..0x300]);

        var notPe = await Should.ThrowAsync<PeFormatException>(() => UkiImage.WriteAsync(text, Contents(), _directory.Combine("out.efi"), null));
        notPe.Message.ShouldStartWith(text);
        notPe.Message.ShouldContain("not a PE image");
        var cut = await Should.ThrowAsync<PeFormatException>(() => UkiImage.WriteAsync(truncated, Contents(), _directory.Combine("out.efi"), null));
        cut.Message.ShouldStartWith(truncated);
        cut.Message.ShouldContain("truncated");
        Directory.GetFiles(_directory.Path).ShouldNotContain(f => f.Contains("out.efi", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stub_for_another_machine_than_the_kernel_is_refused()
    {
        var arm = _directory.Combine("linuxaa64.efi.stub");
        File.Copy(SystemdBinaries.Stub, arm);
        Patch(arm, PeImageHeadersTests.FileHeaderOffset(arm) + CoffFileHeader.MachineOffset, [0x64, 0xAA]);

        var mismatch = await Should.ThrowAsync<UkiException>(() => UkiImage.WriteAsync(arm, Contents(), _directory.Combine("out.efi"), null));
        mismatch.Message.ShouldContain(arm);
        mismatch.Message.ShouldContain("x86-64");
        mismatch.Message.ShouldContain("AArch64");
    }

    [Fact]
    public async Task A_pe32_stub_for_x86_64_and_a_boot_loader_as_stub_are_refused()
    {
        var pe32 = _directory.Combine("pe32.stub");
        File.Copy(SystemdBinaries.Stub, pe32);
        Patch(pe32, PeImageHeadersTests.FileHeaderOffset(pe32) + CoffFileHeader.Size, [0x0B, 0x01]);

        (await Should.ThrowAsync<Exception>(() => UkiImage.WriteAsync(pe32, Contents(), _directory.Combine("out.efi"), null))).Message.ShouldStartWith(pe32);
        var loader = await Should.ThrowAsync<UkiException>(() => UkiImage.WriteAsync(SystemdBinaries.Boot, Contents(), _directory.Combine("out.efi"), null));
        loader.Message.ShouldContain(".osrel");
    }

    private UkiContents Contents()
    {
        var initrd = _directory.Combine("initrd.img");
        if (!File.Exists(initrd))
        {
            // An odd length, so that padding to FileAlignment is exercised; content that is not zeros, so misplacement shows.
            var bytes = new byte[(3 << 20) + 123];
            new Random(14).NextBytes(bytes);
            File.WriteAllBytes(initrd, bytes);
        }

        return new UkiContents(HostKernel.ImagePath, initrd, "console=ttyS0 root=LABEL=COS_ACTIVE rd.immucore.debug", "NAME=\"EdgeForge test\"\nID=edgeforge\nVERSION_ID=1\n", HostKernel.Version);
    }

    private async Task<(UkiContents Contents, string Output)> WriteUkiAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? signer)
    {
        var contents = Contents();
        var output = _directory.Combine(signer is null ? "uki.efi" : "uki.signed.efi");
        await UkiImage.WriteAsync(SystemdBinaries.Require(SystemdBinaries.Stub), contents, output, signer);
        return (contents, output);
    }

    private static string Sha256At(string file, Objdump.Section section)
    {
        using var stream = File.OpenRead(file);
        stream.Position = section.FileOffset;
        var bytes = new byte[section.Size];
        stream.ReadExactly(bytes);
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    internal static void FlipByte(string file, long offset)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0xFF));
    }

    internal static void Patch(string file, long offset, byte[] bytes)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        stream.Write(bytes);
    }
}
