using System.CommandLine;
using EdgeForge.Configuration.Planning;

namespace EdgeForge.Cli.Commands;

/// <summary>Arguments and options shared by the commands that read a project directory.</summary>
internal sealed class ProjectArguments
{
    public Argument<string> Directory { get; } = new("DIR")
    {
        Description = "The CanvOS project directory (holding .arg, user-data, k8s_version.json, Dockerfile, certs/ …).",
        DefaultValueFactory = _ => ".",
    };

    public Option<string[]> BuildArgs { get; } = new("--build-arg")
    {
        Description = "KEY=VALUE overriding the .arg file and the environment; repeatable.",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string[]> K8sVersions { get; } = new("--k8s-version")
    {
        Description = "Build only these Kubernetes versions (comma-separated or repeated).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<bool> AllowExternalLinks { get; } = new("--allow-external-links")
    {
        Description = "Read project inputs that are symbolic links (or paths) leading outside the project directory; refused by default.",
    };

    public void AddTo(Command command, bool withVersionFilter = true)
    {
        command.Arguments.Add(Directory);
        command.Options.Add(BuildArgs);
        command.Options.Add(AllowExternalLinks);
        if (withVersionFilter)
        {
            command.Options.Add(K8sVersions);
        }
    }

    public string DirectoryOf(ParseResult parseResult) => parseResult.GetValue(Directory) ?? ".";

    public ProjectOptions OptionsOf(ParseResult parseResult)
    {
        var buildArguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in parseResult.GetValue(BuildArgs) ?? [])
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                throw new InvalidInputException($"--build-arg '{pair}': expected KEY=VALUE, e.g. --build-arg CUSTOM_TAG=lab");
            }

            buildArguments[pair[..equals].Trim()] = pair[(equals + 1)..];
        }

        var versions = (parseResult.GetValue(K8sVersions) ?? [])
            .SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        return new ProjectOptions { BuildArguments = buildArguments, K8sVersionFilter = versions, AllowExternalLinks = parseResult.GetValue(AllowExternalLinks) };
    }
}

internal static class JsonOption
{
    public static Option<bool> Create() => new("--json") { Description = "Print machine-readable JSON instead of text." };
}
