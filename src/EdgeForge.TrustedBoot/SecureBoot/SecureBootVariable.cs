namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// One of the authenticated variables of the Secure Boot databases (UEFI 2.10 §32.3–§32.6): its name, vendor GUID
/// and the variable whose key signs its updates (PK signs PK and KEK, KEK signs db and dbx — §32.3.1, §32.6.1).
/// </summary>
public sealed record SecureBootVariable(string Name, EfiGuid VendorGuid, string SignerName)
{
    public static readonly SecureBootVariable PK = new("PK", EfiGuid.GlobalVariable, "PK");
    public static readonly SecureBootVariable KEK = new("KEK", EfiGuid.GlobalVariable, "PK");
    public static readonly SecureBootVariable Db = new("db", EfiGuid.ImageSecurityDatabase, "KEK");
    public static readonly SecureBootVariable Dbx = new("dbx", EfiGuid.ImageSecurityDatabase, "KEK");

    /// <summary>The three variables whose key pairs a set holds, in the order they are made.</summary>
    public static IReadOnlyList<SecureBootVariable> KeyVariables { get; } = [PK, KEK, Db];

    public override string ToString() => Name;
}
