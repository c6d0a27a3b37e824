using System.Collections.Concurrent;
using System.Text;

namespace EdgeForge.Testing;

/// <summary>A file of a <see cref="FixturePackage"/>: its bytes and mode.</summary>
public sealed record FixtureFile(byte[] Content, UnixFileMode Mode = (UnixFileMode)0x1A4)
{
    /// <summary>An executable (0755) script.</summary>
    public static FixtureFile Executable(string content) => new(Encoding.UTF8.GetBytes(content), (UnixFileMode)0x1ED);

    /// <summary>A text file, 0644.</summary>
    public static implicit operator FixtureFile(string content) => new(Encoding.UTF8.GetBytes(content));
}

/// <summary>A Debian package the fixture builds with <c>dpkg-deb</c>: control fields, files and an optional postinst.</summary>
public sealed record FixturePackage(string Name, string Version = "1.0")
{
    /// <summary><c>amd64</c> or <c>all</c>.</summary>
    public string Architecture { get; init; } = "amd64";

    public IReadOnlyList<string> Depends { get; init; } = [];

    /// <summary>Path inside the package (no leading <c>/</c>) → file.</summary>
    public IReadOnlyDictionary<string, FixtureFile> Files { get; init; } = new Dictionary<string, FixtureFile>();

    /// <summary>Body of <c>DEBIAN/postinst</c> (a <c>#!/bin/sh</c> script), or null for none.</summary>
    public string? Postinst { get; init; }

    public string FileName => $"{Name}_{Version.Replace(':', '%')}_{Architecture}.deb";
}

/// <summary>
/// Signed apt repositories on 127.0.0.1, as a build site's mirror serves them: packages built with <c>dpkg-deb</c>,
/// indexed with <c>apt-ftparchive</c>, the Release files signed with a GnuPG key made for the fixture
/// (<c>InRelease</c> by <c>gpg --clearsign</c>, <c>Release.gpg</c> detached). Several archives — a suite under
/// <c>dists/</c> or a flat one (<c>deb URL /</c>) — and plain files share one key and one server.
/// </summary>
public sealed class FixtureAptRepository : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly string _root;
    private readonly string _gnupgHome;
    private readonly StaticFileServer _server;

    private FixtureAptRepository(string directory)
    {
        _root = Path.Combine(directory, "www");
        _gnupgHome = Path.Combine(directory, "gnupg");
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_gnupgHome);
        File.SetUnixFileMode(_gnupgHome, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _server = new StaticFileServer(_files);
        ArmoredKey = Path.Combine(directory, "fixture-archive.asc");
        BinaryKey = Path.Combine(directory, "fixture-archive.gpg");
    }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Address => _server.Address;

    /// <summary>The signing key's public half, ASCII-armored (apt reads it from a <c>.asc</c> <c>signed-by</c> file).</summary>
    public string ArmoredKey { get; }

    /// <summary>The same key as a binary OpenPGP keyring (what vendors' <c>.gpg</c> keyring files hold).</summary>
    public string BinaryKey { get; }

    /// <summary>Every path requested, in order.</summary>
    public ConcurrentQueue<string> Requests => _server.Requests;

    /// <summary>A repository in <paramref name="directory"/> with a fresh ed25519 signing key, served at once (its archives are added later).</summary>
    public static async Task<FixtureAptRepository> CreateAsync(string directory)
    {
        var repository = new FixtureAptRepository(directory);
        await repository.GpgAsync("--quick-generate-key", "EdgeForge fixture archive <fixture-archive@edgeforge.invalid>", "ed25519", "sign", "never");
        await File.WriteAllTextAsync(repository.ArmoredKey, await repository.GpgAsync("--armor", "--export"));
        await ExternalTool.RunAsync("gpg", new ToolOptions
        {
            Environment = repository.GpgEnvironment,
            ReadOutput = async stream =>
            {
                await using var file = File.Create(repository.BinaryKey);
                await stream.CopyToAsync(file);
            },
        }, "--batch", "--export");
        return repository;
    }

    /// <summary>A suite archive at <paramref name="urlPath"/>: <c>deb ADDRESS/urlPath SUITE main</c>, its packages in <c>pool/main</c>.</summary>
    public async Task AddSuiteAsync(string urlPath, string suite, IEnumerable<FixturePackage> packages)
    {
        var archive = ArchiveDirectory(urlPath);
        var pool = Path.Combine(archive, "pool", "main");
        foreach (var package in packages)
        {
            await BuildAsync(package, pool);
        }

        var dist = Path.Combine(archive, "dists", suite);
        var binary = Path.Combine(dist, "main", "binary-amd64");
        Directory.CreateDirectory(binary);
        await File.WriteAllTextAsync(Path.Combine(binary, "Packages"),
            await ExternalTool.RunAsync("apt-ftparchive", new ToolOptions { WorkingDirectory = archive }, "packages", "pool"));
        await ReleaseAsync(dist, "-o", $"APT::FTPArchive::Release::Suite={suite}", "-o", $"APT::FTPArchive::Release::Codename={suite}",
            "-o", "APT::FTPArchive::Release::Architectures=amd64", "-o", "APT::FTPArchive::Release::Components=main");
        Publish(urlPath, archive);
    }

    /// <summary>A flat archive at <paramref name="urlPath"/> (<c>deb ADDRESS/urlPath/ /</c>, as NVIDIA's CUDA repositories): packages, <c>Packages</c> and <c>Release</c> in one directory.</summary>
    public async Task AddFlatAsync(string urlPath, IEnumerable<FixturePackage> packages)
    {
        var archive = ArchiveDirectory(urlPath);
        foreach (var package in packages)
        {
            await BuildAsync(package, archive);
        }

        await File.WriteAllTextAsync(Path.Combine(archive, "Packages"),
            await ExternalTool.RunAsync("apt-ftparchive", new ToolOptions { WorkingDirectory = archive }, "packages", "."));
        await ReleaseAsync(archive);
        Publish(urlPath, archive);
    }

    /// <summary>Serves <paramref name="content"/> at <paramref name="urlPath"/> (a directory listing, a source list, a key).</summary>
    public void AddText(string urlPath, string content)
    {
        var file = Path.Combine(_root, "text", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(urlPath))));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        _files[urlPath] = file;
    }

    /// <summary>Serves a local file at <paramref name="urlPath"/>.</summary>
    public void AddFile(string urlPath, string file) => _files[urlPath] = file;

    /// <summary><c>dpkg-deb --build</c> of <paramref name="package"/> into <paramref name="directory"/>; returns the .deb.</summary>
    public async Task<string> BuildAsync(FixturePackage package, string directory)
    {
        var tree = Path.Combine(_root, ".build", package.Name);
        Directory.CreateDirectory(Path.Combine(tree, "DEBIAN"));
        var control = new StringBuilder()
            .Append($"Package: {package.Name}\nVersion: {package.Version}\nArchitecture: {package.Architecture}\n")
            .Append("Maintainer: EdgeForge tests <fixture-archive@edgeforge.invalid>\nSection: misc\nPriority: optional\n");
        if (package.Depends.Count > 0)
        {
            control.Append($"Depends: {string.Join(", ", package.Depends)}\n");
        }

        control.Append($"Description: fixture package {package.Name}\n built by the EdgeForge tests; it holds only what a test checks.\n");
        await File.WriteAllTextAsync(Path.Combine(tree, "DEBIAN", "control"), control.ToString());
        if (package.Postinst is { } postinst)
        {
            var script = Path.Combine(tree, "DEBIAN", "postinst");
            await File.WriteAllTextAsync(script, postinst);
            File.SetUnixFileMode(script, (UnixFileMode)0x1ED);
        }

        foreach (var (path, file) in package.Files)
        {
            var target = Path.Combine(tree, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, file.Content);
            File.SetUnixFileMode(target, file.Mode);
        }

        Directory.CreateDirectory(directory);
        var deb = Path.Combine(directory, package.FileName);
        await ExternalTool.RunAsync("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, deb);
        Directory.Delete(tree, recursive: true);
        return deb;
    }

    private string ArchiveDirectory(string urlPath)
    {
        var archive = Path.Combine(_root, urlPath.Trim('/'));
        Directory.CreateDirectory(archive);
        return archive;
    }

    /// <summary><c>Release</c> of <paramref name="directory"/> by apt-ftparchive, then <c>InRelease</c> and <c>Release.gpg</c> signed with the fixture key.</summary>
    private async Task ReleaseAsync(string directory, params string[] options)
    {
        var release = await ExternalTool.RunAsync("apt-ftparchive", new ToolOptions { WorkingDirectory = directory },
            [.. options, "-o", "APT::FTPArchive::Release::Origin=EdgeForge fixture", "-o", "APT::FTPArchive::Release::Label=EdgeForge fixture", "release", "."]);
        var file = Path.Combine(directory, "Release");
        await File.WriteAllTextAsync(file, release);
        await GpgAsync("--yes", "--clearsign", "--output", Path.Combine(directory, "InRelease"), file);
        await GpgAsync("--yes", "--armor", "--detach-sign", "--output", Path.Combine(directory, "Release.gpg"), file);
    }

    /// <summary>Every file under the archive served at its URL path.</summary>
    private void Publish(string urlPath, string archive)
    {
        var prefix = "/" + urlPath.Trim('/');
        foreach (var file in Directory.EnumerateFiles(archive, "*", SearchOption.AllDirectories))
        {
            _files[prefix + "/" + Path.GetRelativePath(archive, file).Replace('\\', '/')] = file;
        }
    }

    private Dictionary<string, string> GpgEnvironment => new(StringComparer.Ordinal) { ["GNUPGHOME"] = _gnupgHome };

    private Task<string> GpgAsync(params string[] arguments) =>
        ExternalTool.RunAsync("gpg", new ToolOptions { Environment = GpgEnvironment }, ["--batch", "--pinentry-mode", "loopback", "--passphrase", "", .. arguments]);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        // gpg started an agent for the fixture's home; it must not outlive the test.
        await ExternalTool.RunUncheckedAsync("gpgconf", new ToolOptions { Environment = GpgEnvironment }, "--kill", "gpg-agent");
    }
}
