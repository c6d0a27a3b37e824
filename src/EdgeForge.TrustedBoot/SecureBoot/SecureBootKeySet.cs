using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>What <see cref="SecureBootKeySet.Create"/> wrote: the files (relative to the directory) and how many signature lists each database holds.</summary>
public sealed record SecureBootKeySetSummary(string Directory, IReadOnlyList<string> Files, IReadOnlyDictionary<string, int> SignatureLists, bool MicrosoftKeysIncluded, bool BroughtOwnKeys);

/// <summary>
/// A Secure Boot key set in CanvOS's <c>secure-boot/</c> layout (<see cref="SecureBootLayout"/>): PK, KEK and db key pairs,
/// their signature lists and the signed updates (<c>.auth</c>) systemd-boot enrols from <c>loader/keys/auto/</c>.
/// <see cref="Create"/> makes one; <see cref="Load"/> opens one for a build; <see cref="Validate"/> lists what is wrong with one.
/// </summary>
public sealed class SecureBootKeySet : IDisposable
{
    private SecureBootKeySet(string directory, X509Certificate2 dbCertificate, IReadOnlyDictionary<string, byte[]> auth)
    {
        Directory = directory;
        DbCertificate = dbCertificate;
        PkAuth = auth["PK"];
        KekAuth = auth["KEK"];
        DbAuth = auth["db"];
        DbxAuth = auth.GetValueOrDefault("dbx");
    }

    public string Directory { get; }

    /// <summary>The db certificate with its private key: what signs the UKI and the boot loader (Authenticode).</summary>
    public X509Certificate2 DbCertificate { get; }

    public string PkAuthPath => Path.Combine(Directory, SecureBootLayout.EnrollmentFile(SecureBootVariable.PK, "auth"));

    public string KekAuthPath => Path.Combine(Directory, SecureBootLayout.EnrollmentFile(SecureBootVariable.KEK, "auth"));

    public string DbAuthPath => Path.Combine(Directory, SecureBootLayout.EnrollmentFile(SecureBootVariable.Db, "auth"));

    /// <summary>Present only when the set enrols a dbx (from exported keys).</summary>
    public string? DbxAuthPath => DbxAuth is null ? null : Path.Combine(Directory, SecureBootLayout.EnrollmentFile(SecureBootVariable.Dbx, "auth"));

    public string TpmPcrPrivateKeyPath => Path.Combine(Directory, SecureBootLayout.TpmPcrPrivateKeyFile);

    public byte[] PkAuth { get; }

    public byte[] KekAuth { get; }

    public byte[] DbAuth { get; }

    public byte[]? DbxAuth { get; }

    public void Dispose() => DbCertificate.Dispose();

    /// <summary>Opens the set in <paramref name="directory"/> after <see cref="Validate"/> found nothing wrong; otherwise every problem is in the exception.</summary>
    public static SecureBootKeySet Load(string directory, DateTimeOffset? now = null)
    {
        var problems = Validate(directory, now);
        if (problems.Count > 0)
        {
            throw new SecureBootKeyException($"{directory}: not a usable Secure Boot key set:\n  " + string.Join("\n  ", problems));
        }

        var auth = new Dictionary<string, byte[]>();
        foreach (var variable in new[] { SecureBootVariable.PK, SecureBootVariable.KEK, SecureBootVariable.Db, SecureBootVariable.Dbx })
        {
            var path = Path.Combine(directory, SecureBootLayout.EnrollmentFile(variable, "auth"));
            if (File.Exists(path))
            {
                auth[variable.Name] = File.ReadAllBytes(path);
            }
        }

        using var certificate = SecureBootCertificate.LoadCertificate(Path.Combine(directory, SecureBootLayout.CertificateFile(SecureBootVariable.Db)));
        using var key = SecureBootCertificate.LoadPrivateKey(Path.Combine(directory, SecureBootLayout.KeyFile(SecureBootVariable.Db)));
        return new SecureBootKeySet(directory, certificate.CopyWithPrivateKey(key), auth);
    }

    /// <summary>
    /// Every problem with the set in <paramref name="directory"/>, each naming the file: a missing file, a key that is
    /// not its certificate's, an expired certificate of the set's own (Microsoft's are not checked: firmware ignores
    /// their dates), a malformed ESL or .auth, a .der that is not the certificate, an ESL without its own certificate,
    /// a .auth whose data is not the ESL or that its signer (PK for PK and KEK, KEK for db and dbx) did not sign.
    /// </summary>
    public static IReadOnlyList<string> Validate(string directory, DateTimeOffset? now = null)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [$"{directory}: no such directory (make a key set with edgeforge keys secureboot -o {directory} --org NAME)"];
        }

        var at = now ?? DateTimeOffset.UtcNow;
        var problems = new List<string>();
        var certificates = new Dictionary<string, X509Certificate2>();
        try
        {
            foreach (var variable in SecureBootVariable.KeyVariables)
            {
                if (Checked(problems, () => SecureBootCertificate.LoadCertificate(Path.Combine(directory, SecureBootLayout.CertificateFile(variable)))) is not { } certificate)
                {
                    continue;
                }

                certificates[variable.Name] = certificate;
                var certificatePath = Path.Combine(directory, SecureBootLayout.CertificateFile(variable));
                if (SecureBootCertificate.ValidityProblem(certificate, certificatePath, at) is { } expired)
                {
                    problems.Add(expired);
                }

                var keyPath = Path.Combine(directory, SecureBootLayout.KeyFile(variable));
                using var key = Checked(problems, () => SecureBootCertificate.LoadPrivateKey(keyPath));
                if (key is not null && !SecureBootCertificate.Matches(certificate, key))
                {
                    problems.Add($"{keyPath}: not the private key of {certificatePath} (the public keys differ); put the matching pair in place");
                }

                var derPath = Path.Combine(directory, SecureBootLayout.EnrollmentFile(variable, "der"));
                if (!File.Exists(derPath))
                {
                    problems.Add($"{derPath}: missing (the DER form of {certificatePath})");
                }
                else if (!File.ReadAllBytes(derPath).AsSpan().SequenceEqual(certificate.RawData))
                {
                    problems.Add($"{derPath}: not the DER form of {certificatePath}");
                }
            }

            Checked(problems, () => SecureBootCertificate.LoadPrivateKey(Path.Combine(directory, SecureBootLayout.TpmPcrPrivateKeyFile)))?.Dispose();

            foreach (var variable in new[] { SecureBootVariable.PK, SecureBootVariable.KEK, SecureBootVariable.Db, SecureBootVariable.Dbx })
            {
                ValidateEnrollment(directory, variable, certificates, problems);
            }
        }
        finally
        {
            foreach (var certificate in certificates.Values)
            {
                certificate.Dispose();
            }
        }

        return problems;
    }

    private static void ValidateEnrollment(string directory, SecureBootVariable variable, Dictionary<string, X509Certificate2> certificates, List<string> problems)
    {
        var eslPath = Path.Combine(directory, SecureBootLayout.EnrollmentFile(variable, "esl"));
        var authPath = Path.Combine(directory, SecureBootLayout.EnrollmentFile(variable, "auth"));
        var optional = variable == SecureBootVariable.Dbx;
        if (optional && !File.Exists(eslPath) && !File.Exists(authPath))
        {
            return;
        }

        foreach (var path in new[] { eslPath, authPath }.Where(p => !File.Exists(p)))
        {
            problems.Add($"{path}: missing (make the enrollment files again with edgeforge keys secureboot)");
        }

        if (!File.Exists(eslPath) || !File.Exists(authPath))
        {
            return;
        }

        var esl = File.ReadAllBytes(eslPath);
        if (Checked(problems, () => EfiSignatureList.ReadAll(esl, eslPath)) is { } lists && certificates.TryGetValue(variable.Name, out var own)
            && !lists.Any(l => l.SignatureType == EfiGuid.CertX509 && l.Signatures.Any(s => s.Data.AsSpan().SequenceEqual(own.RawData))))
        {
            problems.Add($"{eslPath}: does not hold the set's own {variable.Name} certificate ({SecureBootLayout.CertificateFile(variable)})");
        }

        if (Checked(problems, () => AuthenticatedVariable.Parse(File.ReadAllBytes(authPath), authPath)) is not { } auth)
        {
            return;
        }

        if (!auth.Data.AsSpan().SequenceEqual(esl))
        {
            problems.Add($"{authPath}: its data is not {eslPath}; sign the ESL again");
        }
        else if (certificates.TryGetValue(variable.SignerName, out var signer) && !auth.IsSignedBy(variable, signer))
        {
            problems.Add($"{authPath}: not signed by {SecureBootLayout.CertificateFile(SecureBootVariable.KeyVariables.First(v => v.Name == variable.SignerName))} (the {variable.SignerName} key signs {variable.Name} updates); sign it again");
        }
    }

    /// <summary>Runs a load that reports a user's problem as <see cref="SecureBootKeyException"/>, recording the message instead.</summary>
    private static T? Checked<T>(List<string> problems, Func<T> load)
        where T : class
    {
        try
        {
            return load();
        }
        catch (SecureBootKeyException e)
        {
            problems.Add(e.Message);
            return null;
        }
    }

    /// <summary>
    /// Makes a key set in <paramref name="directory"/> (CanvOS <c>+uki-genkey</c>, or <c>+uki-byok</c> with
    /// <see cref="SecureBootKeySetOptions.BringYourOwnDirectory"/>). Everything is computed and checked first and written
    /// as a set (see <see cref="WriteSet"/>); an existing set is replaced only with <paramref name="force"/>.
    /// </summary>
    public static SecureBootKeySetSummary Create(string directory, SecureBootKeySetOptions options, bool force)
    {
        options.Validate();
        var target = Path.GetFullPath(directory);
        var now = options.Now ?? DateTimeOffset.UtcNow;
        var byo = options.BringYourOwnDirectory is { } own ? Path.GetFullPath(own) : null;

        var existing = ExistingSetDirectories(target, byo);
        if (existing.Count > 0 && !force)
        {
            throw new SecureBootKeyException($"{directory}: {string.Join(", ", existing.Select(e => e + "/"))} already hold a key set; nothing was written (use --force to replace it)");
        }

        var exported = ReadExported(options.ExportedKeysDirectory);
        var files = new List<SetFile>();
        var pairs = new Dictionary<string, (X509Certificate2 Certificate, RSA Key)>();
        try
        {
            if (byo is null)
            {
                foreach (var variable in SecureBootVariable.KeyVariables)
                {
                    var key = RSA.Create(options.Bits);
                    pairs[variable.Name] = (SecureBootCertificate.CreateSelfSigned($"{options.Organization}-{variable.Name}", key, now, options.ExpiryDays), key);
                    files.Add(new SetFile(SecureBootLayout.KeyFile(variable), Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"), Secret: true));
                    files.Add(new SetFile(SecureBootLayout.CertificateFile(variable), Encoding.ASCII.GetBytes(pairs[variable.Name].Certificate.ExportCertificatePem() + "\n")));
                }

                files.Add(NewTpmPcrKey());
            }
            else
            {
                LoadOwn(byo, now, pairs, files);
            }

            // One owner GUID for the set's own entries, as genkey (sbctl's GUID) and cert-to-efi-sig-list -g do.
            var owner = EfiGuid.NewRandom();
            var timeStamp = EfiTime.ForAuthentication(now);
            var counts = new Dictionary<string, int>();
            foreach (var variable in SecureBootVariable.KeyVariables)
            {
                var certificate = pairs[variable.Name].Certificate;
                var lists = new List<EfiSignatureList> { EfiSignatureList.ForCertificate(owner, certificate.RawData) };
                if (options.IncludeMicrosoftKeys)
                {
                    lists.AddRange(MicrosoftCertificates.For(variable));
                }

                lists.AddRange(exported.GetValueOrDefault(variable.Name, []));
                AddEnrollment(variable, lists, timeStamp, pairs[variable.SignerName], files, counts);
                files.Add(new SetFile(SecureBootLayout.EnrollmentFile(variable, "der"), certificate.RawData));
            }

            if (exported.GetValueOrDefault("dbx") is { Count: > 0 } dbx)
            {
                AddEnrollment(SecureBootVariable.Dbx, dbx, timeStamp, pairs["KEK"], files, counts);
            }

            WriteSet(target, files);
            return new SecureBootKeySetSummary(directory, [.. files.Select(f => f.RelativePath)], counts, options.IncludeMicrosoftKeys, byo is not null);
        }
        finally
        {
            foreach (var (certificate, key) in pairs.Values)
            {
                certificate.Dispose();
                key.Dispose();
            }
        }
    }

    private static void AddEnrollment(SecureBootVariable variable, IReadOnlyList<EfiSignatureList> lists, EfiTime timeStamp, (X509Certificate2 Certificate, RSA Key) signer, List<SetFile> files, Dictionary<string, int> counts)
    {
        var esl = EfiSignatureList.ToBytes(lists);
        files.Add(new SetFile(SecureBootLayout.EnrollmentFile(variable, "esl"), esl));
        files.Add(new SetFile(SecureBootLayout.EnrollmentFile(variable, "auth"), AuthenticatedVariable.Sign(variable, esl, timeStamp, signer.Certificate, signer.Key).ToBytes()));
        counts[variable.Name] = lists.Count;
    }

    private static SetFile NewTpmPcrKey()
    {
        // CanvOS: openssl genrsa -out tpm2-pcr-private.pem 2048 (PKCS#8 with OpenSSL 3). systemd-measure signs PCR policies with it.
        using var key = RSA.Create(2048);
        return new SetFile(SecureBootLayout.TpmPcrPrivateKeyFile, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"), Secret: true);
    }

    /// <summary>
    /// The user's keys (CanvOS uki-byok): each key must be an RSA key matching its certificate, which must not have
    /// expired. Every file of private-keys/ and public-keys/ is carried over as it is, so a set made in place
    /// (<c>--bring-your-own DIR -o DIR</c>) loses nothing; a missing tpm2-pcr-private.pem is made.
    /// </summary>
    private static void LoadOwn(string source, DateTimeOffset now, Dictionary<string, (X509Certificate2, RSA)> pairs, List<SetFile> files)
    {
        if (!System.IO.Directory.Exists(source))
        {
            throw new SecureBootKeyException($"--bring-your-own {source}: no such directory (it holds private-keys/{{PK,KEK,db}}.key and public-keys/{{PK,KEK,db}}.pem)");
        }

        foreach (var variable in SecureBootVariable.KeyVariables)
        {
            var certificatePath = Path.Combine(source, SecureBootLayout.CertificateFile(variable));
            var keyPath = Path.Combine(source, SecureBootLayout.KeyFile(variable));
            var certificate = SecureBootCertificate.LoadCertificate(certificatePath);
            RSA key;
            try
            {
                key = SecureBootCertificate.LoadPrivateKey(keyPath);
            }
            catch
            {
                certificate.Dispose();
                throw;
            }

            pairs[variable.Name] = (certificate, key);
            if (!SecureBootCertificate.Matches(certificate, key))
            {
                throw new SecureBootKeyException($"{keyPath}: not the private key of {certificatePath} (the public keys differ); put the matching pair in place");
            }

            if (key.KeySize < 2048)
            {
                throw new SecureBootKeyException($"{keyPath}: a {key.KeySize}-bit RSA key is too weak; use 2048 bits or more");
            }

            if (SecureBootCertificate.ValidityProblem(certificate, certificatePath, now) is { } expired)
            {
                throw new SecureBootKeyException(expired);
            }
        }

        foreach (var sub in new[] { SecureBootLayout.PrivateKeys, SecureBootLayout.PublicKeys })
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Path.Combine(source, sub)).Order(StringComparer.Ordinal))
            {
                files.Add(new SetFile(Path.Combine(sub, Path.GetFileName(file)), File.ReadAllBytes(file), Secret: sub == SecureBootLayout.PrivateKeys));
            }
        }

        var tpm = Path.Combine(source, SecureBootLayout.TpmPcrPrivateKeyFile);
        if (File.Exists(tpm))
        {
            SecureBootCertificate.LoadPrivateKey(tpm).Dispose();
        }
        else
        {
            files.Add(NewTpmPcrKey());
        }
    }

    /// <summary>
    /// CanvOS's exported-keys: ESL files named KEK, db and dbx, each optional, appended to the set's own lists. An empty
    /// directory adds nothing, as in CanvOS (its +secure-boot-dirs makes the directory empty); the summary's list counts show it.
    /// </summary>
    private static Dictionary<string, IReadOnlyList<EfiSignatureList>> ReadExported(string? directory)
    {
        var exported = new Dictionary<string, IReadOnlyList<EfiSignatureList>>();
        if (directory is null)
        {
            return exported;
        }

        if (!System.IO.Directory.Exists(directory))
        {
            throw new SecureBootKeyException($"--exported-keys {directory}: no such directory (it holds the ESL files KEK, db and dbx exported from the device, e.g. efi-readvar -v db -o db)");
        }

        foreach (var name in new[] { "KEK", "db", "dbx" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                exported[name] = EfiSignatureList.ReadFile(path);
            }
        }

        return exported;
    }

    /// <summary>The set's directories in <paramref name="target"/> that hold something (CanvOS's secure-boot-dirs leaves them empty), except the BYO source's own key directories.</summary>
    private static List<string> ExistingSetDirectories(string target, string? byo)
    {
        var existing = new List<string>();
        foreach (var sub in SecureBootLayout.SetDirectories)
        {
            var path = Path.Combine(target, sub);
            if (File.Exists(path))
            {
                throw new SecureBootKeyException($"{path}: a file where the key set's directory goes; move it away");
            }

            var isSource = byo is not null && sub != SecureBootLayout.Enrollment && Path.Combine(byo, sub) == path;
            if (System.IO.Directory.Exists(path) && System.IO.Directory.EnumerateFileSystemEntries(path).Any() && !isSource)
            {
                existing.Add(sub);
            }
        }

        return existing;
    }

    /// <summary>
    /// Writes the set beside <paramref name="target"/> (a staging directory in its parent, so the renames stay on one
    /// file system), private keys 0600 from their first byte in a 0700 directory, every file flushed; then renames it
    /// into place: the whole directory when <paramref name="target"/> does not exist, else each of enrollment/,
    /// private-keys/ and public-keys/, moving the old ones aside and back again if a rename fails. A full or read-only
    /// disk leaves the old set as it was and no staging directory.
    /// </summary>
    private static void WriteSet(string target, IReadOnlyList<SetFile> files)
    {
        var parent = Path.GetDirectoryName(target) ?? throw new SecureBootKeyException($"{target}: a key set cannot be the root directory");
        System.IO.Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.edgeforge-{Guid.NewGuid():N}");
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode Readable = Owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        System.IO.Directory.CreateDirectory(staging, Owner);
        try
        {
            foreach (var sub in SecureBootLayout.SetDirectories)
            {
                var path = Path.Combine(staging, sub);
                System.IO.Directory.CreateDirectory(path, sub == SecureBootLayout.PrivateKeys ? Owner : Readable);
                File.SetUnixFileMode(path, sub == SecureBootLayout.PrivateKeys ? Owner : Readable);
            }

            foreach (var file in files)
            {
                var mode = file.Secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
                using var stream = new FileStream(Path.Combine(staging, file.RelativePath), new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode });
                stream.Write(file.Content);
                stream.Flush(flushToDisk: true);
            }

            if (!System.IO.Directory.Exists(target))
            {
                File.SetUnixFileMode(staging, Readable);
                System.IO.Directory.Move(staging, target);
                return;
            }

            SwapInto(target, staging);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void SwapInto(string target, string staging)
    {
        var displaced = new List<string>();
        var placed = new List<string>();
        try
        {
            foreach (var sub in SecureBootLayout.SetDirectories)
            {
                var destination = Path.Combine(target, sub);
                if (System.IO.Directory.Exists(destination))
                {
                    System.IO.Directory.Move(destination, Path.Combine(staging, ".old-" + sub));
                    displaced.Add(sub);
                }

                System.IO.Directory.Move(Path.Combine(staging, sub), destination);
                placed.Add(sub);
            }
        }
        catch
        {
            foreach (var sub in Enumerable.Reverse(placed))
            {
                System.IO.Directory.Move(Path.Combine(target, sub), Path.Combine(staging, sub));
            }

            foreach (var sub in displaced)
            {
                System.IO.Directory.Move(Path.Combine(staging, ".old-" + sub), Path.Combine(target, sub));
            }

            throw;
        }
    }

    private sealed record SetFile(string RelativePath, byte[] Content, bool Secret = false);
}
