using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

/// <summary>The Docker config is read only when it is a regular file of bounded size: a FIFO or a device is refused at once.</summary>
public sealed class DockerConfigFileInputTests
{
    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    public async Task A_config_that_is_not_a_regular_file_is_refused_naming_it(string kind)
    {
        using var work = new TestDirectory();
        var path = work.Combine("config.json");
        SpecialFiles.Create(path, kind);

        var read = new DockerConfigFile(path).GetCredentialAsync("registry.example.com").WaitAsync(TimeSpan.FromSeconds(30));

        var error = await Should.ThrowAsync<DockerConfigFileException>(read);
        error.Message.ShouldContain(path);
        error.Message.ShouldContain("not a regular file");
    }

}
