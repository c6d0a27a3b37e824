// EdgeForge.TrustedBoot: everything a Trusted Boot (IS_UKI) build signs or assembles, written to the specifications
// (Microsoft PE/COFF and Authenticode, UEFI 2.10 §8.2 and §32.4, the systemd Boot Loader and UKI specifications).
