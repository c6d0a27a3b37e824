namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// Secure Boot key material the user gave or pointed at cannot be used (a missing or mismatched key, an expired
/// certificate, malformed ESL data, an option out of range): the message names the file and the fix. The CLI maps
/// it to exit 2.
/// </summary>
public class SecureBootKeyException(string message) : Exception(message);
