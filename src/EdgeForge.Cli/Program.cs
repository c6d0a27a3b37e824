using System.CommandLine;
using EdgeForge.Cli;

return await CommandRunner.RunAsync(args, Console.Out, Console.Error);
