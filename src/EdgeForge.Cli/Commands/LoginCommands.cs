using System.CommandLine;
using System.Text;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// <c>login</c> and <c>logout</c>: store or remove registry credentials in Docker's config file (or the credential
/// helper it names), so docker, skopeo and edgeforge share one login.
/// </summary>
internal static class LoginCommands
{
    public static Command Login()
    {
        var registry = new Argument<string>("REGISTRY") { Description = "The registry host[:port], e.g. registry.example.com or localhost:5000 (docker.io for Docker Hub)." };
        var username = new Option<string?>("--username", "-u") { Description = "The user name (asked for when omitted on a terminal)." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password (or token) from standard input." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "HOST[:PORT] that may use plain HTTP or an unverified certificate; repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var certDirectories = new Option<string[]>("--cert-dir") { Description = "A directory of PEM CA certificates to trust; repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("login", "Check credentials against a registry and store them in the Docker config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json, mode 0600).")
        {
            registry, username, passwordStdin, insecure, certDirectories,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var host = ValidateRegistry(parseResult.GetValue(registry)!);
            var user = parseResult.GetValue(username);
            string password;
            if (parseResult.GetValue(passwordStdin))
            {
                if (string.IsNullOrEmpty(user))
                {
                    throw new InvalidInputException("--password-stdin needs --username");
                }

                password = (await Console.In.ReadToEndAsync(cancellationToken)).TrimEnd('\r', '\n');
            }
            else if (!Console.IsInputRedirected)
            {
                if (string.IsNullOrEmpty(user))
                {
                    Console.Error.Write("Username: ");
                    user = Console.ReadLine()?.Trim();
                }

                Console.Error.Write("Password: ");
                password = ReadHidden();
            }
            else
            {
                throw new InvalidInputException("no terminal to ask for the password: use --username and --password-stdin");
            }

            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(password))
            {
                throw new InvalidInputException("a user name and a password are needed");
            }

            var credential = new RegistryCredential(user, password);
            using var client = new RegistryClient(new RegistryClientOptions
            {
                Credentials = new StaticCredentialProvider(credential),
                InsecureRegistries = parseResult.GetValue(insecure) ?? [],
                CaCertificatePaths = parseResult.GetValue(certDirectories) ?? [],
            });
            var apiHost = host == ImageReference.DockerHubDomain ? "registry-1.docker.io" : host;
            await client.VerifyCredentialsAsync(apiHost, cancellationToken);
            var config = DockerConfigFile.Default();
            await config.StoreAsync(host, credential, cancellationToken);

            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Login Succeeded ({host}, stored in {config.Path})");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Logout()
    {
        var registry = new Argument<string>("REGISTRY") { Description = "The registry host[:port] to forget." };
        var command = new Command("logout", "Remove a registry's credentials from the Docker config file (or its credential helper).") { registry };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var host = ValidateRegistry(parseResult.GetValue(registry)!);
            var config = DockerConfigFile.Default();
            var removed = await config.EraseAsync(host, cancellationToken);

            await parseResult.InvocationConfiguration.Output.WriteLineAsync(removed ? $"Removed login credentials for {host}" : $"Not logged in to {host}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A registry is the domain part of a reference: host[:port], no scheme, no path.</summary>
    private static string ValidateRegistry(string value)
    {
        var host = value.Trim();
        foreach (var scheme in new[] { "https://", "http://" })
        {
            if (host.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                host = host[scheme.Length..];
            }
        }

        host = host.TrimEnd('/');
        if (host is "index.docker.io" or "registry-1.docker.io")
        {
            host = ImageReference.DockerHubDomain;
        }

        if (!ImageReference.TryParse(host + "/probe", out var parsed, out var error) || parsed.Registry != host)
        {
            throw new InvalidInputException($"\"{value}\" is not a registry host[:port]{(error.Length > 0 ? ": " + error : "")}");
        }

        return host;
    }

    private static string ReadHidden()
    {
        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return password.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
    }
}
