using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// A client of the OCI distribution-spec v2 API. Authentication and retries happen below it, in the handler chain
/// <see cref="RegistryRetryHandler"/> → <see cref="RegistryAuthenticationHandler"/> → <see cref="SocketsHttpHandler"/>;
/// this class only speaks the protocol: manifests by tag or digest, blobs checked by HEAD, mounted across
/// repositories, uploaded monolithically or in chunks, and every pulled byte verified against its digest.
/// One instance serves any number of registries and concurrent operations.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly HttpClient _http;
    private readonly HttpMessageInvoker _tokenTransport;
    private readonly ConcurrentDictionary<string, Lazy<Task<Uri>>> _baseUris = new(StringComparer.OrdinalIgnoreCase);
    private readonly X509Certificate2Collection _extraRoots;
    private readonly ConcurrentDictionary<string, bool> _hostsThatPresentedCertificates = new(StringComparer.OrdinalIgnoreCase);

    // Per logical repository (registry/repository as the user named it), the source that last served a manifest:
    // the blobs and child manifests of that image are asked of it first.
    private readonly ConcurrentDictionary<string, PullSource> _pullSources = new(StringComparer.Ordinal);

    public RegistryClient(RegistryClientOptions? options = null)
    {
        _options = options ?? new RegistryClientOptions();
        _extraRoots = LoadCertificates(_options.CaCertificatePaths);
        var sockets = new SocketsHttpHandler
        {
            Proxy = _options.Proxy ?? EnvironmentProxy.FromEnvironment(),
            UseProxy = true,
            ConnectTimeout = _options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // Blob GETs redirect to storage backends (S3, CDN); the handler drops Authorization on redirect.
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 10,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateServerCertificate },
        };
        // Token requests get retries but, of course, not the authentication handler itself.
        // Silence is bounded under the retries: a registry that stops answering is retried, then reported.
        var silenceBounded = new RegistryTimeoutHandler(_options.IdleTimeout) { InnerHandler = sockets };
        _tokenTransport = new HttpMessageInvoker(new RegistryRetryHandler(_options.Retry) { InnerHandler = silenceBounded }, disposeHandler: false);
        var chain = new RegistryRetryHandler(_options.Retry)
        {
            InnerHandler = new RegistryAuthenticationHandler(_options.Credentials, _tokenTransport) { InnerHandler = silenceBounded },
        };
        _http = new HttpClient(chain, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("edgeforge", "1.0"));
    }

    public RegistryClientOptions Options => _options;

    /// <summary>
    /// A small body (a manifest, an error) read whole but never past <paramref name="limit"/>: Content-Length may be
    /// absent (chunked) or false, and an endless body must end in an error, not in all the memory there is.
    /// </summary>
    internal static async Task<byte[]> ReadBoundedAsync(HttpContent content, long limit, string what, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new InvalidDataException($"{what} is larger than {limit} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Checks that the registry speaks the v2 API (GET /v2/, distribution-spec "Determining support").</summary>
    public async Task PingAsync(string registry, CancellationToken cancellationToken = default)
    {
        var baseUri = await BaseUriAsync(registry, cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/v2/"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK && response.StatusCode != HttpStatusCode.Unauthorized)
        {
            throw await RegistryException.FromResponseAsync(response, $"GET {registry}/v2/", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Checks that the configured credentials are accepted (what <c>docker login</c> does): GET /v2/ answered 200
    /// after authentication, where a bearer registry is asked for a token without scope.
    /// </summary>
    public async Task VerifyCredentialsAsync(string registry, CancellationToken cancellationToken = default)
    {
        var baseUri = await BaseUriAsync(registry, cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/v2/"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await RegistryException.FromResponseAsync(response, $"login to {registry}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The manifest or index a reference names (by its digest when pinned, else by tag), verified.</summary>
    public Task<ManifestContent> GetManifestAsync(ImageReference reference, CancellationToken cancellationToken = default) =>
        PullAsync(reference, preferRemembered: false, remember: true, async source =>
        {
            var content = await FetchManifestAsync(source.Reference, source.Reference.Identifier, cancellationToken).ConfigureAwait(false);
            if (reference.Digest is { } pinned && content.Digest != pinned)
            {
                // Never a reason to try the next mirror: a source that serves other bytes for a digest is broken or hostile.
                throw new DigestMismatchException($"{reference}: {SourceName(reference, source)} returned a manifest with digest {content.Digest}");
            }

            return content;
        }, cancellationToken);

    /// <summary>A manifest of the reference's repository by descriptor (an index's child), verified against it.</summary>
    public Task<ManifestContent> GetManifestAsync(ImageReference repository, Descriptor descriptor, CancellationToken cancellationToken = default) =>
        PullAsync(repository, preferRemembered: true, remember: true, async source =>
        {
            var content = await FetchManifestAsync(source.Reference, descriptor.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            return content.VerifiedAgainst(descriptor);
        }, cancellationToken);

    /// <summary>The descriptor of a manifest without fetching it (HEAD), or null when the registry does not have it.</summary>
    public Task<Descriptor?> HeadManifestAsync(ImageReference reference, CancellationToken cancellationToken = default) =>
        PullOrNullAsync(reference, source => HeadManifestAtAsync(source.Reference, cancellationToken), cancellationToken);

    private async Task<Descriptor?> HeadManifestAtAsync(ImageReference reference, CancellationToken cancellationToken)
    {
        using var request = await CreateRequestAsync(HttpMethod.Head, reference, $"manifests/{reference.Identifier}", [RegistryScope.Pull(reference.Repository)], cancellationToken).ConfigureAwait(false);
        foreach (var type in MediaTypes.AcceptedManifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"HEAD {reference}", cancellationToken).ConfigureAwait(false);
        if (!response.Headers.TryGetValues("Docker-Content-Digest", out var digests) || !Digest.TryParse(digests.First(), out var digest))
        {
            return null;
        }

        return new Descriptor
        {
            MediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypes.OciManifest,
            Digest = digest,
            Size = response.Content.Headers.ContentLength ?? 0,
        };
    }

    private async Task<ManifestContent> FetchManifestAsync(ImageReference repository, string identifier, CancellationToken cancellationToken)
    {
        using var request = await CreateRequestAsync(HttpMethod.Get, repository, $"manifests/{identifier}", [RegistryScope.Pull(repository.Repository)], cancellationToken).ConfigureAwait(false);
        foreach (var type in MediaTypes.AcceptedManifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"manifest {repository.Name}:{identifier}", cancellationToken).ConfigureAwait(false);
        const long limit = 16 << 20;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new InvalidDataException($"manifest {repository.Name}:{identifier} is larger than {limit} bytes");
        }

        var bytes = await ReadBoundedAsync(response.Content, limit, $"manifest {repository.Name}:{identifier}", cancellationToken).ConfigureAwait(false);
        // Content-Type is the manifest's media type (distribution-spec "Pulling manifests"); the body's own
        // mediaType field settles it when the server sends something generic.
        var headerType = response.Content.Headers.ContentType?.MediaType;
        var mediaType = headerType is not null && (MediaTypes.IsImageManifest(headerType) || MediaTypes.IsIndex(headerType)) ? headerType : null;
        var content = new ManifestContent(bytes, mediaType);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var claimed) && Digest.TryParse(claimed.First(), out var claimedDigest)
            && claimedDigest.Algorithm == "sha256" && claimedDigest != content.Digest)
        {
            throw new DigestMismatchException($"manifest {repository.Name}:{identifier}: registry says {claimedDigest}, content is {content.Digest}");
        }

        return content;
    }

    /// <summary>Streams a blob; the stream verifies size and digest as it is read and throws at its end on a mismatch.</summary>
    public Task<Stream> OpenBlobAsync(ImageReference repository, Descriptor descriptor, CancellationToken cancellationToken = default) =>
        PullAsync(repository, preferRemembered: true, remember: false, source => OpenBlobAtAsync(source.Reference, descriptor, cancellationToken), cancellationToken);

    private async Task<Stream> OpenBlobAtAsync(ImageReference repository, Descriptor descriptor, CancellationToken cancellationToken)
    {
        using var request = await CreateRequestAsync(HttpMethod.Get, repository, $"blobs/{descriptor.Digest}", [RegistryScope.Pull(repository.Repository)], cancellationToken).ConfigureAwait(false);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, $"blob {repository.Name}@{descriptor.Digest}", cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new DigestVerifyingStream(body, descriptor.Digest, descriptor.Size, $"blob {repository.Name}@{descriptor.Digest}");
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Whether the repository has the blob (HEAD, distribution-spec "Checking if content exists").</summary>
    public async Task<bool> BlobExistsAsync(ImageReference repository, Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        repository = PushDestination(repository);
        using var request = await CreateRequestAsync(HttpMethod.Head, repository, $"blobs/{descriptor.Digest}", [RegistryScope.PullPush(repository.Repository)], cancellationToken).ConfigureAwait(false);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, $"HEAD blob {repository.Name}@{descriptor.Digest}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Asks the registry to link a blob it already holds in <paramref name="fromRepository"/> into this repository
    /// (distribution-spec "Mounting a blob from another repository"). False when the registry declined; the upload
    /// session it may have opened instead is left to expire.
    /// </summary>
    public async Task<bool> TryMountBlobAsync(ImageReference repository, Descriptor descriptor, string fromRepository, CancellationToken cancellationToken = default)
    {
        if (!_options.Mirrors.IsEmpty)
        {
            // Both names are rewritten; a mount only works inside one physical registry.
            var from = PushDestination(repository.WithRepository(fromRepository));
            repository = PushDestination(repository);
            if (!string.Equals(from.Registry, repository.Registry, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            fromRepository = from.Repository;
        }

        var query = $"?mount={Uri.EscapeDataString(descriptor.Digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}";
        using var request = await CreateRequestAsync(HttpMethod.Post, repository, "blobs/uploads/" + query,
            [RegistryScope.PullPush(repository.Repository), RegistryScope.Pull(fromRepository)], cancellationToken).ConfigureAwait(false);
        request.Content = new ByteArrayContent([]);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return true;
        }

        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            return false;
        }

        await EnsureSuccessAsync(response, $"mount {descriptor.Digest} from {fromRepository} into {repository.Name}", cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Uploads a blob: POST to open a session, then one PUT with the whole body and the digest (distribution-spec
    /// "Pushing a blob monolithically", POST-then-PUT form). Registries or proxies that refuse a large single body
    /// (413, or 400/416 for the PUT) get the chunked form instead: PATCH with Content-Range per chunk, then a closing
    /// PUT with the digest. <paramref name="open"/> is called again whenever the body must be resent.
    /// </summary>
    public async Task UploadBlobAsync(ImageReference repository, Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default)
    {
        repository = PushDestination(repository);
        if (!_options.ForceChunkedUpload)
        {
            var location = await StartUploadAsync(repository, cancellationToken).ConfigureAwait(false);
            using var put = await CreateRequestAsync(HttpMethod.Put, repository, WithDigest(location, descriptor.Digest), [RegistryScope.PullPush(repository.Repository)], cancellationToken).ConfigureAwait(false);
            put.Content = new ReopenableStreamContent(open, descriptor.Size);
            using var response = await _http.SendAsync(put, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (response.StatusCode is not (HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.RequestedRangeNotSatisfiable or HttpStatusCode.BadRequest or HttpStatusCode.MethodNotAllowed))
            {
                throw await RegistryException.FromResponseAsync(response, $"upload {descriptor.Digest} to {repository.Name}", cancellationToken).ConfigureAwait(false);
            }
        }

        await UploadChunkedAsync(repository, descriptor, open, cancellationToken).ConfigureAwait(false);
    }

    private async Task UploadChunkedAsync(ImageReference repository, Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken)
    {
        var location = await StartUploadAsync(repository, cancellationToken).ConfigureAwait(false);
        var scopes = new[] { RegistryScope.PullPush(repository.Repository) };
        for (long offset = 0; offset < descriptor.Size;)
        {
            var length = Math.Min(_options.ChunkSize, descriptor.Size - offset);
            var chunkOffset = offset;
            using var patch = await CreateRequestAsync(HttpMethod.Patch, repository, location, scopes, cancellationToken).ConfigureAwait(false);
            patch.Content = new ReopenableStreamContent(async ct => new SliceReadStream(await open(ct).ConfigureAwait(false), chunkOffset, length), length);
            // distribution-spec "Pushing a blob in chunks": Content-Range is inclusive, without a unit.
            patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{chunkOffset}-{chunkOffset + length - 1}");
            using var response = await _http.SendAsync(patch, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            await EnsureSuccessAsync(response, $"upload chunk {chunkOffset} of {descriptor.Digest} to {repository.Name}", cancellationToken).ConfigureAwait(false);
            location = LocationOf(response) ?? location;
            offset += length;
        }

        using var close = await CreateRequestAsync(HttpMethod.Put, repository, WithDigest(location, descriptor.Digest), scopes, cancellationToken).ConfigureAwait(false);
        close.Content = new ByteArrayContent([]);
        using var closing = await _http.SendAsync(close, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(closing, $"finish upload of {descriptor.Digest} to {repository.Name}", cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> StartUploadAsync(ImageReference repository, CancellationToken cancellationToken)
    {
        using var request = await CreateRequestAsync(HttpMethod.Post, repository, "blobs/uploads/", [RegistryScope.PullPush(repository.Repository)], cancellationToken).ConfigureAwait(false);
        request.Content = new ByteArrayContent([]);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"start upload to {repository.Name}", cancellationToken).ConfigureAwait(false);
        return LocationOf(response) ?? throw new RegistryException($"start upload to {repository.Name}: the registry sent no Location", response.StatusCode, []);
    }

    private static string? LocationOf(HttpResponseMessage response)
    {
        var location = response.Headers.Location;
        if (location is null)
        {
            return null;
        }

        // A relative Location is relative to the request URL (RFC 9110 §10.2.2).
        return location.IsAbsoluteUri ? location.ToString() : new Uri(response.RequestMessage!.RequestUri!, location).ToString();
    }

    private static string WithDigest(string location, Digest digest) =>
        location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest.ToString());

    /// <summary>Stores a manifest under a tag or its digest; returns the digest the registry reports.</summary>
    public async Task<Digest> PutManifestAsync(ImageReference repository, string tagOrDigest, ManifestContent manifest, CancellationToken cancellationToken = default)
    {
        repository = PushDestination(repository);
        using var request = await CreateRequestAsync(HttpMethod.Put, repository, $"manifests/{tagOrDigest}", [RegistryScope.PullPush(repository.Repository)], cancellationToken).ConfigureAwait(false);
        request.Content = new ByteArrayContent(manifest.Bytes.ToArray());
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"put manifest {repository.Name}:{tagOrDigest}", cancellationToken).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.First(), out var stored) && stored != manifest.Digest && stored.Algorithm == manifest.Digest.Algorithm)
        {
            throw new DigestMismatchException($"put manifest {repository.Name}:{tagOrDigest}: registry stored {stored}, sent {manifest.Digest}");
        }

        return manifest.Digest;
    }

    /// <summary>The tags of a repository (distribution-spec "Listing Tags"), following <c>Link</c> pagination.</summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(ImageReference repository, CancellationToken cancellationToken = default) =>
        PullAsync(repository, preferRemembered: false, remember: false, source => ListTagsAtAsync(source.Reference, cancellationToken), cancellationToken);

    private async Task<IReadOnlyList<string>> ListTagsAtAsync(ImageReference repository, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        string? path = "tags/list";
        while (path is not null)
        {
            using var request = await CreateRequestAsync(HttpMethod.Get, repository, path, [RegistryScope.Pull(repository.Repository)], cancellationToken).ConfigureAwait(false);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            await EnsureSuccessAsync(response, $"list tags of {repository.Name}", cancellationToken).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (document.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                tags.AddRange(list.EnumerateArray().Select(t => t.GetString()!).Where(t => t is not null));
            }

            path = null;
            if (response.Headers.TryGetValues("Link", out var links))
            {
                var link = links.First();
                var start = link.IndexOf('<');
                var end = link.IndexOf('>');
                if (start >= 0 && end > start)
                {
                    var baseUri = await BaseUriAsync(repository.RegistryApiHost, cancellationToken).ConfigureAwait(false);
                    path = new Uri(baseUri, link[(start + 1)..end]).ToString();
                }
            }
        }

        return tags;
    }

    /// <summary>
    /// The source (mirror or primary location) that last served a manifest of the reference's repository, for logs
    /// and plans; null before any manifest of it was pulled.
    /// </summary>
    public PullSource? LastSourceFor(ImageReference reference) => _pullSources.TryGetValue(reference.Name, out var source) ? source : null;

    private ImageReference PushDestination(ImageReference reference) =>
        _options.Mirrors.IsEmpty ? reference : _options.Mirrors.PushDestination(reference);

    private async Task<T> PullAsync<T>(ImageReference reference, bool preferRemembered, bool remember, Func<PullSource, Task<T>> attempt, CancellationToken cancellationToken)
        where T : class =>
        (await PullFromSourcesAsync<T>(reference, preferRemembered, remember, async source => await attempt(source).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))!;

    private Task<T?> PullOrNullAsync<T>(ImageReference reference, Func<PullSource, Task<T?>> attempt, CancellationToken cancellationToken)
        where T : class =>
        PullFromSourcesAsync(reference, preferRemembered: false, remember: true, attempt, cancellationToken);

    /// <summary>
    /// Runs one pull request against the reference's sources in order (containers-registries.conf(5): "the first one
    /// that can be contacted and contains the image will be used"). A source that cannot be reached, answers an error
    /// status (404, 401/403, 5xx after retries) or, for a HEAD, does not have the manifest, gives way to the next; what
    /// a source sends that fails verification (a digest mismatch) ends the pull. The last source's error is the
    /// error, with the earlier attempts added to its message. An <paramref name="attempt"/> result of null means
    /// "not here".
    /// </summary>
    private async Task<T?> PullFromSourcesAsync<T>(ImageReference reference, bool preferRemembered, bool remember, Func<PullSource, Task<T?>> attempt, CancellationToken cancellationToken)
        where T : class
    {
        if (_options.Mirrors.IsEmpty)
        {
            // Without a configuration: the one request to the named registry, as always.
            var direct = new PullSource(reference, false, false, null);
            var only = await attempt(direct).ConfigureAwait(false);
            if (remember && only is not null)
            {
                _pullSources[reference.Name] = direct;
            }

            return only;
        }

        var sources = OrderedSources(reference, preferRemembered);
        var failures = new List<string>();
        for (var i = 0; i < sources.Count; i++)
        {
            var source = sources[i];
            T? result;
            try
            {
                result = await attempt(source).ConfigureAwait(false);
            }
            catch (Exception e) when (i < sources.Count - 1 && IsUnavailable(e, cancellationToken))
            {
                failures.Add(Describe(source, e));
                continue;
            }
            catch (Exception e) when (failures.Count > 0 && IsUnavailable(e, cancellationToken))
            {
                throw WithEarlierAttempts(e, failures);
            }

            if (result is null)
            {
                failures.Add($"{SourceName(reference, source)}: not found");
                continue;
            }

            if (remember)
            {
                _pullSources[reference.Name] = source;
            }

            return result;
        }

        return null;
    }

    /// <summary>The configured order, except that the source that served the image's manifest comes first for its blobs.</summary>
    private List<PullSource> OrderedSources(ImageReference reference, bool preferRemembered)
    {
        var sources = _options.Mirrors.PullSources(reference).ToList();
        if (preferRemembered && _pullSources.TryGetValue(reference.Name, out var remembered))
        {
            var index = sources.FindIndex(s => s.Reference.Name == remembered.Reference.Name && s.IsMirror == remembered.IsMirror);
            if (index > 0)
            {
                var first = sources[index];
                sources.RemoveAt(index);
                sources.Insert(0, first);
            }
        }

        return sources;
    }

    private static bool IsUnavailable(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or RegistryException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string SourceName(ImageReference reference, PullSource source) =>
        source.IsMirror ? $"mirror {source.Reference.Name}" : source.Reference.Name != reference.Name ? $"location {source.Reference.Name}" : source.Reference.Name;

    private static string Describe(PullSource source, Exception e) =>
        e is RegistryException ? (source.IsMirror ? "mirror " : "") + e.Message : $"{(source.IsMirror ? "mirror " : "")}{source.Reference.Name}: {e.Message}";

    private static Exception WithEarlierAttempts(Exception e, List<string> failures)
    {
        var message = $"{e.Message} (tried first: {string.Join("; ", failures)})";
        return e switch
        {
            RegistryUnauthorizedException unauthorized => new RegistryUnauthorizedException(message, unauthorized.ErrorCodes),
            RegistryException registry => new RegistryException(message, registry.StatusCode, registry.ErrorCodes),
            HttpRequestException http => new HttpRequestException(message, http, http.StatusCode),
            _ => new HttpRequestException(message, e),
        };
    }

    private async Task<HttpRequestMessage> CreateRequestAsync(HttpMethod method, ImageReference repository, string pathOrUrl, IReadOnlyList<RegistryScope> scopes, CancellationToken cancellationToken)
    {
        Uri uri;
        if (Uri.TryCreate(pathOrUrl, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
        {
            uri = absolute;
        }
        else
        {
            var baseUri = await BaseUriAsync(repository.RegistryApiHost, cancellationToken).ConfigureAwait(false);
            uri = new Uri(baseUri, $"/v2/{repository.Repository}/{pathOrUrl}");
        }

        var request = new HttpRequestMessage(method, uri);
        request.Options.Set(RegistryRequestOptions.Scopes, scopes);
        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await RegistryException.FromResponseAsync(response, what, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The scheme and authority of a registry. HTTPS always comes first. Registries marked insecure and loopback
    /// registries fall back to plain HTTP when HTTPS fails to connect — Docker's rule (a registry on 127.0.0.0/8 or
    /// ::1 is implicitly insecure, daemon/config "insecure-registries").
    /// </summary>
    private Task<Uri> BaseUriAsync(string registry, CancellationToken cancellationToken) =>
        _baseUris.GetOrAdd(registry, r => new Lazy<Task<Uri>>(() => ResolveBaseUriAsync(r, cancellationToken))).Value;

    private async Task<Uri> ResolveBaseUriAsync(string registry, CancellationToken cancellationToken)
    {
        var https = new Uri("https://" + registry + "/");
        if (!IsInsecure(registry) && !IsLoopback(registry))
        {
            return https;
        }

        try
        {
            using var probe = new HttpRequestMessage(HttpMethod.Get, new Uri(https, "/v2/"));
            probe.Options.Set(RegistryRequestOptions.NoRetry, true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            using var response = await _http.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return https;
        }
        catch (HttpRequestException) when (_hostsThatPresentedCertificates.ContainsKey(HostOf(registry).Trim('[', ']')))
        {
            // A TLS server answered but its certificate was not trusted: that is an error to report (add its CA
            // with --ca-certs or mark it --insecure-registry), not a reason to talk plain HTTP to a TLS port.
            return https;
        }
        catch (HttpRequestException)
        {
            return new Uri("http://" + registry + "/");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Uri("http://" + registry + "/");
        }
    }

    private bool IsInsecure(string registry)
    {
        var host = HostOf(registry);
        return _options.InsecureRegistries.Any(r => string.Equals(r, registry, StringComparison.OrdinalIgnoreCase) || string.Equals(r, host, StringComparison.OrdinalIgnoreCase))
            || _options.Mirrors.IsInsecureRegistry(registry);
    }

    internal static bool IsLoopback(string registry)
    {
        var host = HostOf(registry).Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    private static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']');
            return close > 0 ? registry[..(close + 1)] : registry;
        }

        var colon = registry.LastIndexOf(':');
        return colon > 0 ? registry[..colon] : registry;
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        var targetHost = (sender as SslStream)?.TargetHostName ?? "";
        _hostsThatPresentedCertificates[targetHost] = true;
        if (_options.InsecureRegistries.Any(r => string.Equals(HostOf(r).Trim('[', ']'), targetHost, StringComparison.OrdinalIgnoreCase))
            || _options.Mirrors.IsInsecureHost(targetHost))
        {
            return true;
        }

        // The host name must match whatever the issuer; only an untrusted chain may be rescued by the extra CAs.
        if (certificate is null || _extraRoots.Count == 0 || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_extraRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static X509Certificate2Collection LoadCertificates(IReadOnlyList<string> paths)
    {
        var collection = new X509Certificate2Collection();
        foreach (var path in paths)
        {
            IEnumerable<string> files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path).Where(f => f.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".crt", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList()
                : File.Exists(path) ? [path] : throw new FileNotFoundException($"CA certificates: {path} does not exist");
            foreach (var file in files)
            {
                try
                {
                    collection.ImportFromPemFile(file);
                }
                catch (System.Security.Cryptography.CryptographicException e)
                {
                    throw new InvalidDataException($"CA certificates: {file} is not a PEM certificate file ({e.Message})", e);
                }
            }
        }

        return collection;
    }

    public void Dispose()
    {
        _http.Dispose();
        _tokenTransport.Dispose();
    }
}

/// <summary>A window <c>[offset, offset+length)</c> of a stream, reached by seeking when possible, else by reading past.</summary>
internal sealed class SliceReadStream(Stream inner, long offset, long length) : Stream
{
    private long _position = -1;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => Math.Max(_position, 0); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset1, int count) => ReadAsync(buffer, offset1, count).GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < 0)
        {
            if (inner.CanSeek)
            {
                inner.Seek(offset, SeekOrigin.Begin);
            }
            else
            {
                var skip = new byte[1 << 16];
                for (var left = offset; left > 0;)
                {
                    var read = await inner.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, left)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new EndOfStreamException("blob shorter than its descriptor");
                    }

                    left -= read;
                }
            }

            _position = 0;
        }

        var want = (int)Math.Min(buffer.Length, length - _position);
        if (want <= 0)
        {
            return 0;
        }

        var n = await inner.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset1, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset1, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset1, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset1, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
