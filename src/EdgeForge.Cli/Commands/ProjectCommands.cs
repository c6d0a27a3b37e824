using EdgeForge.Build;
using System.CommandLine;
using System.Text.Json;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Planning;
using EdgeForge.Configuration.Scaffolding;

namespace EdgeForge.Cli.Commands;

/// <summary><c>validate</c>, <c>plan</c>, <c>manifest</c> and <c>init</c>: the commands over a project directory that build nothing.</summary>
internal static class ProjectCommands
{
    public static Command Validate()
    {
        var project = new ProjectArguments();
        var json = JsonOption.Create();
        var command = new Command("validate", "Check every input of a project directory and report all problems at once, grouped by file.");
        project.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var result = ProjectLoader.Load(project.DirectoryOf(parseResult), project.OptionsOf(parseResult));
            var valid = !result.Diagnostics.HasErrors;
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    valid,
                    errors = result.Diagnostics.Errors.Count(),
                    warnings = result.Diagnostics.Warnings.Count(),
                    diagnostics = result.Diagnostics.Items.Select(DiagnosticsReport.ToJson),
                }, DiagnosticsReport.Json));
            }
            else
            {
                DiagnosticsReport.WriteText(output, result.Diagnostics);
                output.WriteLine((valid ? "valid: " : "invalid: ") + DiagnosticsReport.Summary(result.Diagnostics));
            }

            return valid ? ExitCodes.Ok : ExitCodes.InvalidInput;
        });
        return command;
    }

    public static Command Plan()
    {
        var project = new ProjectArguments();
        var json = JsonOption.Create();
        var command = new Command("plan", "Resolve and print the build plan: base image, every provider image, the ISO, embedded inputs and a disk estimate.");
        project.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var plan = LoadOrReport(parseResult, project);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(PlanReport.ToJson(plan), DiagnosticsReport.Json));
            }
            else
            {
                PlanReport.WriteText(output, plan);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Manifest()
    {
        var project = new ProjectArguments();
        var outputFile = new Option<string?>("--output", "-o") { Description = "Write the manifest to this file instead of standard output." };
        var json = JsonOption.Create();
        var command = new Command("manifest", "Print the BYOOS pack manifest (edge-native-byoi options) for the provider images of the plan.");
        project.AddTo(command);
        command.Options.Add(outputFile);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var plan = LoadOrReport(parseResult, project);
            var manifest = parseResult.GetValue(json)
                ? JsonSerializer.Serialize(new { manifest = ByoosManifest.Render(plan), images = plan.ProviderImages.Select(i => i.Reference) }, DiagnosticsReport.Json) + "\n"
                : ByoosManifest.Render(plan);
            if (parseResult.GetValue(outputFile) is { } path)
            {
                AtomicFile.WriteAllText(path, manifest);
                parseResult.InvocationConfiguration.Output.WriteLine($"wrote {path}");
            }
            else
            {
                parseResult.InvocationConfiguration.Output.Write(manifest);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Init()
    {
        var directory = new Argument<string>("DIR") { Description = "Directory to create or fill.", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Overwrite files that already exist." };
        var command = new Command("init", "Scaffold a CanvOS-style project directory (.arg, user-data, k8s_version.json, Dockerfile, .edge-custom-config.yaml, certs/).");
        command.Arguments.Add(directory);
        command.Options.Add(force);
        command.SetAction(parseResult =>
        {
            var target = parseResult.GetValue(directory) ?? ".";
            var result = ProjectScaffolder.Create(target, parseResult.GetValue(force));
            if (result.Written.Count == 0)
            {
                throw new InvalidInputException($"{target}: {string.Join(", ", result.Existing)} already exist{(result.Existing.Count == 1 ? "s" : "")}; " +
                    "nothing was written (use --force to overwrite)");
            }

            var output = parseResult.InvocationConfiguration.Output;
            foreach (var file in result.Written)
            {
                output.WriteLine($"{(result.Existing.Contains(file) ? "overwrote" : "created")} {Path.Combine(target, file)}");
            }

            output.WriteLine($"created {Path.Combine(target, "certs")}/");
            output.WriteLine("Next: set IMAGE_REGISTRY in .arg and the registration token in user-data, then run: edgeforge validate " + target);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Loads the project; on any error prints every problem to stderr and ends the command with exit code 2.</summary>
    public static BuildPlan LoadOrReport(ParseResult parseResult, ProjectArguments project)
    {
        var result = ProjectLoader.Load(project.DirectoryOf(parseResult), project.OptionsOf(parseResult));
        var error = parseResult.InvocationConfiguration.Error;
        if (result.Plan is null)
        {
            DiagnosticsReport.WriteText(error, result.Diagnostics);
            throw new InvalidInputException("the project is invalid: " + DiagnosticsReport.Summary(result.Diagnostics));
        }

        var warnings = new DiagnosticBag();
        warnings.AddRange(result.Diagnostics.Warnings);
        DiagnosticsReport.WriteText(error, warnings);
        return result.Plan;
    }
}
