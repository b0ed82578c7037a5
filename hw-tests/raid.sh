#!/bin/bash
# The data disks' md RAID1 in the appliance image, in qemu (TCG, UEFI), as a box lives it:
#   hw-tests/raid.sh [IMAGE.raw]        (default: the newest image-build/out/*.raw)
#
# 1. First boot with two blank 1 GiB data disks (virtio-scsi, hot-pluggable) beside the system disk
#    (a writable qcow2 overlay of the image: the boots must see what the earlier one wrote) and the
#    HAKOBUNECFG registration medium: hakobune-data-setup makes the RAID1 hakobune-data on them and
#    the data file system goes there (boot facts: data_mode raid1, data_source /dev/md...);
#    /api/v1/appliance/status shows the array resyncing or healthy, then healthy; a public SS-MIX2
#    sample gets AA.
# 2. One data disk pulled (qemu device_del): status shows the array degraded with the alarm
#    raid.<md>.degraded, and /metrics hakobune_raid_arrays{state="degraded"} 1.
# 3. A new blank disk plugged in (drive_add + device_add): hakobune-raid partitions it and adds it,
#    status shows rebuilding, then healthy with no RAID alarm.
# 4. Orderly power-off, boot again with the remaining and the new disk: the array is assembled, the
#    data file system is still on it, the sample sent again gets AA "duplicate" (it was stored), and
#    the journal is persistent (two boots in it, same machine ID).
# 5. Both data disks gone: the box must not fall back to the boot disk's empty data partition.
#    hakobune-data-setup waits (hakobune.data_wait=15 here, 120 s on a box), says so on the console,
#    and nothing mounts /var/lib/hakobune: the server never becomes READY.
# Exits non-zero on any failure, with the tail of the serial log. About 4-5 minutes on 2 cores.
# Knobs: BOOT_TIMEOUT (default 240), KEEP_LOGS=yes, QEMU_FROM=host|tools, TCG_THREAD.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
boot_timeout=${BOOT_TIMEOUT:-240}
# shellcheck source=lib/vm.sh
. "$here/lib/vm.sh"
export vm_name=raid.sh
vm_inputs "${1:-}"
trap vm_exit EXIT
fail() { echo "raid.sh: FAIL: $*" >&2; exit 1; }
say() { echo "raid.sh: $*"; }

vm_setup
vm_cfg_medium "$work/cfg.img"
qemu-img create -q -f qcow2 -b "$(readlink -f "$image")" -F raw "$work/system.qcow2"
for d in d1 d2 d3; do truncate -s 1G "$work/$d.raw"; done
uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
cmdline="systemd.mask=nut-driver@ups.service panic_on_oops=1 panic=-1 hakobune.facts"

# boot DISK_A DISK_B: the machine with the system disk, the medium and two data disks on virtio-scsi.
boot() {
    vm_start -no-reboot -uuid "$uuid" \
        -drive if=none,id=sys,format=qcow2,file="$work/system.qcow2" \
        -device virtio-blk-pci,drive=sys,bootindex=1 \
        -drive if=none,id=cfg,format=raw,file="$work/cfg.img",readonly=on \
        -device virtio-blk-pci,drive=cfg \
        -device virtio-scsi-pci,id=scsi0 \
        -drive "if=none,id=$1,format=raw,file=$work/$1.raw" -device scsi-hd,drive="$1",id="$1",bus=scsi0.0 \
        -drive "if=none,id=$2,format=raw,file=$work/$2.raw" -device scsi-hd,drive="$2",id="$2",bus=scsi0.0 \
        -smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=$cmdline"
    vm_wait 'HAKOBUNE-READY.*' "$boot_timeout" >/dev/null || fail "no HAKOBUNE-READY"
    say "READY after $(vm_since "$vm_t0")s"
    vm_wait 'HAKOBUNE-FACTS-END' 120 >/dev/null || fail "no boot facts"
}
arrays() { printf '%s' "$1" | jq -c '[.health.arrays[]? | {name, state: .state.state, progress: .state.progress_percent}]'; }
raid_alarms() { printf '%s' "$1" | jq -c '[.alarms[]?.id | select(startswith("raid."))]'; }

say "$("${qemu[@]}" --version | head -1)"
say "image $image; system disk overlay, data disks d1 d2 (1 GiB, blank); logs in $work"

# --- 1. first boot: the array is made
boot d1 d2
mode=$(vm_fact data_mode); source=$(vm_fact data_source)
say "data: $mode on $source"
case $mode in "raid1 /dev/md/hakobune-data"*) ;; *) fail "data_mode is '$mode', not the RAID1" ;; esac
case $source in /dev/md*) ;; *) fail "the data file system is on $source, not the array" ;; esac
# No ssh-authorized-keys on this box's medium: SSH stays off (boot.sh enables it).
[ "$(vm_fact sshd)" = inactive ] || fail "ssh.service is '$(vm_fact sshd)' on a box without SSH keys"
case " $(vm_fact listening) " in *":22 "*) fail "port 22 listens without SSH keys: $(vm_fact listening)" ;; esac
st=$(vm_wait_status '[.health.arrays[]? | select(.state.state == "healthy")] | length == 1' 240) ||
    fail "the new array did not become healthy: $(arrays "$st")"
md=$(printf '%s' "$st" | jq -r '.health.arrays[0].name')
say "array $md healthy: $(arrays "$st"), raid alarms $(raid_alarms "$st")"
[ "$(raid_alarms "$st")" = "[]" ] || fail "RAID alarms on a healthy array: $(raid_alarms "$st")"
ack=$("$hakobune" send --to "127.0.0.1:$mllp_port" --timeout 60 "$sample" 2>&1) || fail "send failed: $ack"
case $ack in *'MSA|AA|'*) say "sample stored: AA" ;; *) fail "no AA: $ack" ;; esac

# --- 2. a disk pulled
vm_monitor "device_del d2" >/dev/null
st=$(vm_wait_status "([.health.arrays[]? | select(.state.state == \"degraded\")] | length == 1) and ([.alarms[]?.id] | index(\"raid.$md.degraded\") != null)" 90) ||
    fail "no degraded state after pulling d2: $(arrays "$st") $(raid_alarms "$st")"
say "d2 pulled: $(arrays "$st"), alarms $(raid_alarms "$st")"
metrics=$(curl -sS --max-time 10 "http://127.0.0.1:$http_port/metrics") || fail "GET /metrics"
grep -E "^hakobune_raid_arrays\{state=\"degraded\"\} 1$" <<<"$metrics" >/dev/null ||
    fail "metrics do not show the degraded array: $(grep hakobune_raid_arrays <<<"$metrics")"
say "metrics: $(grep -E '^hakobune_raid_arrays\{state="(degraded|healthy)"\}' <<<"$metrics" | tr '\n' ' ')"

# --- 3. a new blank disk plugged in: rebuilt by itself
vm_monitor "drive_add 0 if=none,id=d3,format=raw,file=$work/d3.raw" >/dev/null
vm_monitor "device_add scsi-hd,drive=d3,id=d3,bus=scsi0.0" >/dev/null
st=$(vm_wait_status '[.health.arrays[]? | select(.state.state == "rebuilding" or .state.state == "healthy")] | length == 1' 90) ||
    fail "the new disk was not taken: $(arrays "$st")"
say "d3 plugged in: $(arrays "$st")"
tr -d '\r' < "$serial" | grep -a -q 'hakobune-raid: added /dev/sd[a-z]*1 to /dev/md/hakobune-data' ||
    fail "hakobune-raid did not report adding the new disk"
st=$(vm_wait_status '[.health.arrays[]? | select(.state.state == "healthy")] | length == 1' 300) ||
    fail "not healthy after the rebuild: $(arrays "$st")"
[ "$(raid_alarms "$st")" = "[]" ] || fail "RAID alarms left after the rebuild: $(raid_alarms "$st")"
say "rebuilt: $(arrays "$st"), no RAID alarm"
machine_id=$(vm_fact machine_id)
vm_poweroff 120

# --- 4. next boot: assembled, data still there, journal kept
boot d1 d3
mode=$(vm_fact data_mode)
case $mode in "raid1 /dev/md/hakobune-data"*) say "second boot: $mode on $(vm_fact data_source)" ;; *) fail "second boot: data_mode '$mode'" ;; esac
st=$(vm_wait_status '[.health.arrays[]? | select(.state.state == "healthy")] | length == 1' 120) ||
    fail "array not healthy after the reboot: $(arrays "$st")"
ack=$("$hakobune" send --to "127.0.0.1:$mllp_port" --timeout 60 "$sample" 2>&1) || fail "send failed: $ack"
case $ack in *'MSA|AA|'*duplicate*) say "sample still stored: AA duplicate" ;; *) fail "sample not found after the reboot: $ack" ;; esac
[ "$(vm_fact machine_id)" = "$machine_id" ] || fail "machine ID changed across boots ($machine_id -> $(vm_fact machine_id))"
[ "$(vm_fact journal_persistent)" = yes ] || fail "journal not persistent: $(vm_fact journal_mount)"
boots=$(vm_fact journal_boots)
[ "${boots:-0}" -ge 2 ] || fail "the journal holds $boots boot(s), expected 2"
say "journal: persistent on $(vm_fact journal_mount), $boots boots"
vm_poweroff 120

# --- 5. both data disks gone: no fall-back to the empty partition
vm_start -no-reboot -uuid "$uuid" \
    -drive if=none,id=sys,format=qcow2,file="$work/system.qcow2" \
    -device virtio-blk-pci,drive=sys,bootindex=1 \
    -smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=$cmdline hakobune.data_wait=15"
vm_wait 'RAID1 data array /dev/md/hakobune-data did not come up' "$boot_timeout" >/dev/null ||
    fail "no data disks: hakobune-data-setup did not report the missing array"
say "no data disks: $(vm_since "$vm_t0")s to the console message 'the RAID1 data array ... did not come up'"
sleep 20
if tr -d '\r' < "$serial" | grep -a -q 'HAKOBUNE-READY'; then fail "the server started without its data disks"; fi
say "no data disks: the server did not start (nothing mounted on /var/lib/hakobune)"
vm_kill
echo "PASS raid1: made at first boot, degraded, replaced and rebuilt, assembled after reboot, never replaced by the empty partition"
