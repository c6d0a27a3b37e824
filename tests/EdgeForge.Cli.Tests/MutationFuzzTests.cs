using System.Text;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// Random damage to each input file (deterministic seeds): whatever the bytes, validate answers 0 or 2 with a
/// message, never a crash. Complements the hand-written cases, which assert what the message says.
/// </summary>
public sealed class MutationFuzzTests
{
    public static TheoryData<string, int> Inputs()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in new[] { ".arg", "user-data", "k8s_version.json", "Dockerfile", ".edge-custom-config.yaml", "certs/proxy-ca.crt" })
        {
            for (var seed = 0; seed < 25; seed++)
            {
                data.Add(file, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Damaged_input_never_crashes_validate(string file, int seed)
    {
        using var project = new ValidProject();
        var path = Path.Combine(project.Directory, file);
        File.WriteAllBytes(path, Mutate(File.ReadAllBytes(path), new Random(seed * 7919 + file.Length)));

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBeOneOf(0, 2);
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        var edits = random.Next(1, 6);
        for (var i = 0; i < edits && bytes.Count > 0; i++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 40)));
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Pick(random, ":", "- ", "\t", "\"", "'", "{", "[", "#", "$", "${", "\\", "\n", "\r\n", "=", "&a", "*a", "!!binary ", "---\n", "\u00e9", "\0")));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    var block = new byte[random.Next(1, 64)];
                    random.NextBytes(block);
                    bytes.InsertRange(at, block);
                    break;
                default:
                    var length = Math.Min(bytes.Count - at, random.Next(1, 80));
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
            }
        }

        return bytes.ToArray();
    }

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];
}
