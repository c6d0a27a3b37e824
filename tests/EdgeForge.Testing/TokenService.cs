using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace EdgeForge.Testing;

/// <summary>
/// A token server for the registry's <c>auth.token</c> mode (distribution docs, "Token Authentication
/// Specification"), on an <see cref="HttpListener"/> at 127.0.0.1. It checks Basic credentials, grants the requested
/// repository actions to the known user (nothing to anonymous callers) and signs RS256 JWTs whose header carries an
/// <c>x5c</c> chain: distribution 2.8 (registry/auth/token/token.go, VerifySigningKey) accepts a key either from
/// an x5c chain that verifies against <c>rootcertbundle</c> or from a <c>kid</c> equal to the libtrust key id of a
/// bundled certificate; the chain is the self-describing choice and needs no libtrust fingerprint.
/// </summary>
public sealed class TokenService : LoopbackHttpServer
{
    public const string Service = "edgeforge-test-registry";
    public const string Issuer = "edgeforge-test-issuer";

    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly string _username;
    private readonly string _password;
    private int _tokensIssued;

    public TokenService(string directory, string username, string password)
    {
        _username = username;
        _password = password;
        _key = RSA.Create(2048);
        var request = new CertificateRequest("CN=edgeforge test token signer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertificateBundlePath = Path.Combine(directory, "token-signer.pem");
        File.WriteAllText(CertificateBundlePath, _certificate.ExportCertificatePem());
        Realm = Address + "/token";
        Start();
    }

    public string Realm { get; }

    public string CertificateBundlePath { get; }

    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    protected override Task HandleAsync(HttpListenerContext context)
    {
        Handle(context);
        return Task.CompletedTask;
    }

    private void Handle(HttpListenerContext context)
    {
        var authorization = context.Request.Headers["Authorization"];
        var authenticated = false;
        if (authorization is not null && authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..]));
            if (decoded != $"{_username}:{_password}")
            {
                context.Response.StatusCode = 401;
                return;
            }

            authenticated = true;
        }

        var scopes = (context.Request.QueryString.GetValues("scope") ?? []).SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var access = new List<object>();
        if (authenticated)
        {
            foreach (var scope in scopes)
            {
                var parts = scope.Split(':');
                if (parts.Length == 3 && parts[0] == "repository")
                {
                    access.Add(new { type = "repository", name = parts[1], actions = parts[2].Split(',') });
                }
            }
        }

        var token = SignToken(authenticated ? _username : "", access);
        Interlocked.Increment(ref _tokensIssued);
        var body = JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = 300, issued_at = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private string SignToken(string subject, IReadOnlyList<object> access)
    {
        var header = new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) },
        };
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _key.Dispose();
        _certificate.Dispose();
    }
}
