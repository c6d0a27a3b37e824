namespace EdgeForge.DiskFormats.Fat;

// Microsoft "FAT: General Overview of On-Disk Format" 1.03 (fatgen103), whose field names these constants carry in
// their comments. All numbers are little-endian.

/// <summary>fatgen103 "Boot Sector and BPB Structure": the fields FAT12, FAT16 and FAT32 share (offsets 0–35).</summary>
internal static class FatBootSectorFields
{
    /// <summary>BS_jmpBoot: EB xx 90, a short jump over the BPB to the boot code.</summary>
    public const int JumpBoot = 0;

    /// <summary>BS_OEMName, 8 bytes.</summary>
    public const int OemName = 3;

    /// <summary>BPB_BytsPerSec.</summary>
    public const int BytesPerSector = 11;

    /// <summary>BPB_SecPerClus.</summary>
    public const int SectorsPerCluster = 13;

    /// <summary>BPB_RsvdSecCnt.</summary>
    public const int ReservedSectorCount = 14;

    /// <summary>BPB_NumFATs.</summary>
    public const int NumberOfFats = 16;

    /// <summary>BPB_RootEntCnt: 32-byte entries of the FAT12/16 root directory; 0 on FAT32.</summary>
    public const int RootEntryCount = 17;

    /// <summary>BPB_TotSec16: 0 when the count needs <see cref="TotalSectors32"/>.</summary>
    public const int TotalSectors16 = 19;

    /// <summary>BPB_Media.</summary>
    public const int Media = 21;

    /// <summary>BPB_FATSz16: 0 on FAT32.</summary>
    public const int FatSize16 = 22;

    /// <summary>BPB_SecPerTrk, BPB_NumHeads: INT 13h geometry.</summary>
    public const int SectorsPerTrack = 24;
    public const int NumberOfHeads = 26;

    /// <summary>BPB_HiddSec.</summary>
    public const int HiddenSectors = 28;

    /// <summary>BPB_TotSec32.</summary>
    public const int TotalSectors32 = 32;

    /// <summary>Where the extended fields (<see cref="FatExtendedBootSectorFields"/>) start on FAT12/16 ("Starting at Offset 36").</summary>
    public const int Fat16ExtendedBootSector = 36;

    /// <summary>0x55 0xAA at the end of the sector.</summary>
    public const int Signature = 510;
}

/// <summary>fatgen103 "FAT32 Structure Starting at Offset 36".</summary>
internal static class Fat32BootSectorFields
{
    /// <summary>BPB_FATSz32.</summary>
    public const int FatSize32 = 36;

    /// <summary>BPB_ExtFlags: 0 mirrors every FAT.</summary>
    public const int ExtendedFlags = 40;

    /// <summary>BPB_FSVer, 0:0.</summary>
    public const int FileSystemVersion = 42;

    /// <summary>BPB_RootClus.</summary>
    public const int RootCluster = 44;

    /// <summary>BPB_FSInfo: sector of the FSInfo structure (<see cref="FsInfoFields"/>).</summary>
    public const int FsInfoSector = 48;

    /// <summary>BPB_BkBootSec: sector of the boot sector's copy (and its FSInfo's after it).</summary>
    public const int BackupBootSector = 50;

    /// <summary>Where the extended fields (<see cref="FatExtendedBootSectorFields"/>) start on FAT32.</summary>
    public const int ExtendedBootSector = 64;
}

/// <summary>
/// fatgen103: the fields FAT12/16 have at offset 36 and FAT32 at offset 64, relative to that start
/// (<see cref="FatBootSectorFields.Fat16ExtendedBootSector"/>, <see cref="Fat32BootSectorFields.ExtendedBootSector"/>).
/// </summary>
internal static class FatExtendedBootSectorFields
{
    /// <summary>BS_DrvNum: 0x80 for a hard disk.</summary>
    public const int DriveNumber = 0;

    /// <summary>BS_BootSig: 0x29 says the three fields after it are present.</summary>
    public const int BootSignature = 2;
    public const byte ExtendedBootSignature = 0x29;

    /// <summary>BS_VolID.</summary>
    public const int VolumeId = 3;

    /// <summary>BS_VolLab, 11 bytes.</summary>
    public const int VolumeLabel = 7;

    /// <summary>BS_FilSysType, 8 bytes, informational only ("FAT12   ").</summary>
    public const int FileSystemType = 18;

    /// <summary>The boot code after the extended fields.</summary>
    public const int BootCode = 26;
}

/// <summary>fatgen103 "FAT32 FSInfo Sector Structure and Backup Boot Sector".</summary>
internal static class FsInfoFields
{
    /// <summary>FSI_LeadSig.</summary>
    public const int LeadSignature = 0;
    public const uint LeadSignatureValue = 0x41615252;

    /// <summary>FSI_StrucSig.</summary>
    public const int StructureSignature = 484;
    public const uint StructureSignatureValue = 0x61417272;

    /// <summary>FSI_Free_Count: free clusters, a hint.</summary>
    public const int FreeCount = 488;

    /// <summary>FSI_Nxt_Free: where to look for a free cluster, a hint.</summary>
    public const int NextFree = 492;

    /// <summary>FSI_TrailSig.</summary>
    public const int TrailSignature = 508;
    public const uint TrailSignatureValue = 0xAA550000;
}

/// <summary>fatgen103 "FAT Directory Structure": one 32-byte short directory entry.</summary>
internal static class FatDirectoryEntryFields
{
    /// <summary>DIR_Name, 11 bytes (8.3, space padded).</summary>
    public const int Name = 0;
    public const int NameLength = 11;

    /// <summary>DIR_Attr.</summary>
    public const int Attributes = 11;

    /// <summary>DIR_CrtTime, DIR_CrtDate, DIR_LstAccDate.</summary>
    public const int CreationTime = 14;
    public const int CreationDate = 16;
    public const int LastAccessDate = 18;

    /// <summary>DIR_FstClusHI: high word of the first cluster (FAT32).</summary>
    public const int FirstClusterHigh = 20;

    /// <summary>DIR_WrtTime, DIR_WrtDate.</summary>
    public const int WriteTime = 22;
    public const int WriteDate = 24;

    /// <summary>DIR_FstClusLO.</summary>
    public const int FirstClusterLow = 26;

    /// <summary>DIR_FileSize, 32-bit.</summary>
    public const int FileSize = 28;

    public const int Length = 32;
}

/// <summary>fatgen103 "FAT Long Directory Entries": 13 UTF-16 characters of a long name in three runs.</summary>
internal static class FatLongDirectoryEntryFields
{
    /// <summary>LDIR_Ord: sequence number, 0x40 on the last (first stored) entry.</summary>
    public const int Order = 0;

    /// <summary>LDIR_Name1: characters 1–5.</summary>
    public const int Name1 = 1;

    /// <summary>LDIR_Attr: ATTR_LONG_NAME.</summary>
    public const int Attributes = 11;

    /// <summary>LDIR_Type: 0.</summary>
    public const int Type = 12;

    /// <summary>LDIR_Chksum: checksum of the short name the entry belongs to.</summary>
    public const int Checksum = 13;

    /// <summary>LDIR_Name2: characters 6–11.</summary>
    public const int Name2 = 14;

    /// <summary>LDIR_FstClusLO: 0.</summary>
    public const int FirstClusterLow = 26;

    /// <summary>LDIR_Name3: characters 12–13.</summary>
    public const int Name3 = 28;
}
