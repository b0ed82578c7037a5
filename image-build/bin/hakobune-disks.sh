# shellcheck shell=bash
# Shell functions shared by hakobune-data-setup and hakobune-raid (sourced, not run): which disks
# may become RAID members and how a member disk is laid out. Installed to /usr/libexec/hakobune/.
#
# A disk is "blank" when nothing on it could be data: a whole disk (not a partition), not
# removable, not read-only, not the system disk, without partitions or holders, and without any
# signature blkid or wipefs knows (partition table, file system, RAID, LVM). Only blank disks are
# ever written.

# disks_system: the disk that holds the running root file system (never a data disk).
disks_system() {
    lsblk -n -d -p -o PKNAME "$(findmnt -n -o SOURCE /)" 2>/dev/null | head -n1
}

# disks_blank MIN_BYTES [EXCLUDED_DISK...]: the blank disks of at least MIN_BYTES, one a line.
disks_blank() {
    local min=$1 sys name type rm ro size x skip
    shift
    sys=$(disks_system)
    # shellcheck disable=SC2034  # type/rm/ro are read to be tested
    while read -r name type rm ro size; do
        [ "$type" = disk ] && [ "$rm" = 0 ] && [ "$ro" = 0 ] || continue
        [ "$name" = "$sys" ] && continue
        skip=
        for x in "$@"; do [ "$name" = "$x" ] && skip=1; done
        [ -z "$skip" ] || continue
        [ "$size" -ge "$min" ] || continue
        [ "$(lsblk -n -l -p -o NAME "$name" | wc -l)" = 1 ] || continue   # partitions or holders
        blkid -p "$name" >/dev/null 2>&1 && continue                      # a signature (exit 0)
        [ -z "$(wipefs -n -O TYPE "$name" 2>/dev/null | tail -n +2)" ] || continue
        echo "$name"
    done < <(lsblk -n -d -b -p -o NAME,TYPE,RM,RO,SIZE)
}

# disks_make_member DISK START_KIB SIZE_KIB: a new GPT on DISK with one Linux RAID partition
# (named hakobune-raid) at START_KIB of SIZE_KIB (KiB: independent of the disk's sector size);
# prints the partition's device. The caller has checked that DISK is blank.
disks_make_member() {
    local disk=$1 start=$2 size=$3 part
    printf 'label: gpt\nstart=%sKiB, size=%sKiB, type=R, name=hakobune-raid\n' "$start" "$size" |
        sfdisk --quiet --wipe always "$disk" >&2 || return 1
    udevadm settle --timeout=10 || true
    part=$(lsblk -n -l -p -o NAME,TYPE "$disk" | awk '$2 == "part" {print $1; exit}')
    [ -b "$part" ] || { echo "no partition device on $disk after partitioning" >&2; return 1; }
    wipefs -a -q "$part"
    echo "$part"
}
