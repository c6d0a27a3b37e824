using EdgeForge.Oci.Model;

namespace EdgeForge.Luet;

/// <summary>A package (or a version of it that a requirement asks for) that the repository does not have.</summary>
public sealed class LuetPackageNotFoundException : Exception
{
    public LuetPackageNotFoundException(ImageReference repository, LuetPackageReference package, string message)
        : base(message)
    {
        Repository = repository;
        Package = package;
    }

    public ImageReference Repository { get; }

    public LuetPackageReference Package { get; }
}

/// <summary>An index, tree or metadata file that is not what luet writes; the message names the image, file and field.</summary>
public sealed class LuetRepositoryFormatException : Exception
{
    public LuetRepositoryFormatException(string message)
        : base(message)
    {
    }

    public LuetRepositoryFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
