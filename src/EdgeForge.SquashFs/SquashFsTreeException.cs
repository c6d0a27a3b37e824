namespace EdgeForge.SquashFs;

/// <summary>
/// The tree given to the writer cannot be stored in SquashFS 4.0 (a name over 256 bytes, more than 65,536 ids, a path
/// listed twice…): the input must change, not the machine.
/// </summary>
public sealed class SquashFsTreeException(string message) : Exception(message);
