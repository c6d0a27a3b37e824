namespace EdgeForge.TrustedBoot.Uki;

/// <summary>
/// The inputs of a unified kernel image do not fit together (a stub and kernel for different machines, an SBAT line
/// that is not one, a stub with no room for the new sections): an input error whose message names the file.
/// </summary>
public sealed class UkiException(string message) : Exception(message);
