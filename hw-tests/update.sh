#!/bin/bash
# A/B firmware update of the appliance image in qemu (TCG, UEFI/OVMF), end to end, as a vendor does
# it: a signed RAUC bundle on a USB stick labelled HAKOBUNEUPD.
#   hw-tests/update.sh [IMAGE.raw]      (default: image-build/out/*.raw; built when there is none)
#
# Fast tier (always):
#   1. version V = the image's (a TEST image: its keyring is image-build/.cache/test-keys, made by
#      `HAKOBUNE_TEST_KEYRING=1 image-build/build`); builds V+1 (N+1) with HAKOBUNE_FIRMWARE_VERSION
#      into a scratch folder (image-build/out/ is left alone), takes its root-a partition out of the
#      .raw (sfdisk offsets + dd) and signs a bundle with firmware/make-bundle and the test signer;
#      a second bundle of the same root is signed by the "stranger" test CA;
#   2. boots V from a writable qcow2 overlay (the image file is never written) with a writable copy
#      of the OVMF variables (systemd-boot's boot counting state survives reboots), without
#      -no-reboot; first boot registers the test sender from a HAKOBUNECFG medium; one HL7 message
#      must get AA;
#   3. hot-plugs the stranger bundle on a USB stick (qemu-xhci, monitor drive_add/device_add):
#      refused, firmware.last_install.result == "refused", alarm firmware-update-refused, and
#      nothing written to root-b (no allocated cluster of the overlay in its range);
#   4. hot-plugs the good bundle: the box installs it into slot B and reboots (the stick stays in,
#      as it would on site), comes back READY on slot B with V+1, firmware.last_update.result ==
#      "kept" once the boot check passed (systemd-bless-boot), the install record still "installed"
#      (the stick seen again at boot is a no-op), and the message sent before the update is still
#      there: sent again, the ACK is AA "duplicate: already stored".
# Slow tier (HAKOBUNE_SLOW_TESTS=1), same VM, continued:
#   5. a bundle V+2 whose server never becomes ready (V+1's root with /usr/bin/hakobune replaced by
#      a script that exits 1, IMAGE_VERSION=V+2; loop-mounted on the host): installed into slot A,
#      booted on trial, fails the boot check 3 times (each time the box reboots itself), systemd-boot
#      falls back to slot B by itself; firmware.last_update.result == "rolled-back", alarm
#      firmware-rolled-back, the stick (still in) is not installed again, the data is still there.
# Prints the time of each phase. Knobs: KEEP_LOGS=yes, BOOT_TIMEOUT (per boot, default 240 s),
# NEXT_IMAGE=FILE.raw (skip building V+1: an image of a newer version with the same test keyring).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
boot_timeout=${BOOT_TIMEOUT:-240}
slow=${HAKOBUNE_SLOW_TESTS:-0}
keys=$repo/image-build/.cache/test-keys
hakobune=${HAKOBUNE_BIN:-$repo/target/release/hakobune}
sample_root=${SSMIX2_SAMPLES:-$repo/../shared/ssmix2-samples}/nhoHQ_SSMIX2DataTestingTool/sampleData
sample=$sample_root/999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1

say() { echo "update.sh: $*"; }
fail() { echo "update.sh: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (image build, loop mounts)"
[ -f "$sample" ] || fail "sample missing: $sample"

work=$(mktemp -d /tmp/hakobune-update.XXXXXX)
keep=${KEEP_LOGS:-no}
# shellcheck source=lib/vm.sh
. "$here/lib/vm.sh"
export vm_name=update.sh
mnt=$work/mnt
mounted=
vm_on_exit() { [ -z "$mounted" ] || umount "$mnt" 2>/dev/null || true; }
trap vm_exit EXIT
vm_setup
for tool in rauc mksquashfs; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rauc squashfs-tools >/dev/null
done
[ -x "$hakobune" ] || (cd "$repo" && cargo build --release -p hakobune --locked)

timing=()
t_phase=0
phase() { t_phase=$(date +%s.%N); say "---- $*"; }
took() { local s; s=$(vm_since "$t_phase"); timing+=("$(printf '%-44s %7ss' "$1" "$s")"); say "$1: ${s}s"; }

# ---- 1. images and bundles -------------------------------------------------------------------
image=${1:-}
if [ -z "$image" ]; then
    image=$(ls -t "$repo"/image-build/out/*.raw 2>/dev/null | head -1 || true)
    if [ -z "$image" ]; then
        phase "no image: building V (TEST keyring)"
        HAKOBUNE_TEST_KEYRING=1 "$repo/image-build/build" > "$work/build-v.log" 2>&1 || { tail -30 "$work/build-v.log"; fail "build of V failed"; }
        took "build V (image-build/build)"
        image=$(ls -t "$repo"/image-build/out/*.raw | head -1)
    fi
fi
[ -f "$image" ] || fail "no such image: $image"
[ -f "$keys/keyring.pem" ] && [ -f "$keys/signing.key.pem" ] && [ -f "$keys/stranger/signing.key.pem" ] ||
    fail "no test keys in $keys (HAKOBUNE_TEST_KEYRING=1 image-build/build makes them)"
v=$(vm_image_version "$image")
[[ "$v" =~ ^[0-9]{4}\.[0-9]+\.[0-9]+$ ]] || fail "image version '$v' is not YYYY.M.N"
v1=${v%.*}.$(( ${v##*.} + 1 ))
v2=${v%.*}.$(( ${v##*.} + 2 ))
# The image must trust the test CA the bundles are signed with.
info=$(dirname "$image")/BUILDINFO
if [ -f "$info" ] && grep -qx "image=$(basename "$image")" "$info"; then
    fp=$(openssl x509 -in "$keys/keyring.pem" -noout -fingerprint -sha256 | cut -d= -f2)
    grep -q "^update_keyring=test .*$fp" "$info" || fail "$image does not carry the test keyring of $keys (see $info)"
fi
say "V = $v ($image), V+1 = $v1$([ "$slow" = 1 ] && echo ", V+2 = $v2 (slow tier)")"

next=${NEXT_IMAGE:-}
if [ -z "$next" ]; then
    phase "building V+1 = $v1"
    HAKOBUNE_TEST_KEYRING=1 HAKOBUNE_FIRMWARE_VERSION=$v1 HAKOBUNE_BUILD_OUT=$work/next \
        "$repo/image-build/build" > "$work/build-v1.log" 2>&1 || { tail -30 "$work/build-v1.log"; fail "build of V+1 failed"; }
    took "build V+1 (warm image-build/build)"
    next=$work/next/hakobune_$v1.raw
fi
[ "$(vm_image_version "$next")" = "$v1" ] || fail "$next is not version $v1"

phase "root-a of V+1 -> signed bundles"
read -r off size < <(vm_gpt_part "$next" root-a)
[ -n "${size:-}" ] || fail "no root-a partition in $next"
read -r _ size_b < <(vm_gpt_part "$image" root-b)
[ "$size" = "$size_b" ] || fail "root-a of V+1 ($size bytes) and root-b of V ($size_b bytes) differ in size"
dd if="$next" of="$work/root-v1.img" bs=4M iflag=skip_bytes,count_bytes skip="$off" count="$size" conv=sparse status=none
took "extract root-a (dd, $((size / 1048576)) MiB)"
phase "make-bundle $v1 (test signer)"
mkdir -p "$work/upd" "$work/stranger"
"$repo/firmware/make-bundle" --version "$v1" --rootfs "$work/root-v1.img" --out "$work/upd/hakobune-$v1.raucb" \
    --cert "$keys/signing.cert.pem" --key "$keys/signing.key.pem" --keyring "$keys/keyring.pem" 2>&1 | grep -v WARNING | sed 's/^/  /'
took "make-bundle V+1 (sign + verify)"
"$repo/firmware/make-bundle" --version "$v1" --rootfs "$work/root-v1.img" --out "$work/stranger/hakobune-$v1.raucb" \
    --cert "$keys/stranger/signing.cert.pem" --key "$keys/stranger/signing.key.pem" >/dev/null 2>&1 || fail "stranger bundle"

# USB sticks with one bundle each (ext4: the label HAKOBUNEUPD is too long for FAT, 11 characters).
medium() {   # DIR IMG
    local mb
    mb=$(( $(du -sm "$1" | cut -f1) + 16 ))
    mkfs.ext4 -q -d "$1" -L HAKOBUNEUPD "$2" "${mb}M"
}
medium "$work/upd" "$work/upd.img"
medium "$work/stranger" "$work/stranger.img"
vm_cfg_medium "$work/cfg.img"

# ---- 2. boot V -------------------------------------------------------------------------------
qemu-img create -q -f qcow2 -b "$(readlink -f "$image")" -F raw "$work/disk.qcow2"
read -r rootb_off rootb_size < <(vm_gpt_part "$image" root-b)
# Only what the host tells every boot of this VM: no UPS (its driver masked). Each slot's own
# options (panic=10 etc.) come from its boot entry.
cmdline="systemd.mask=nut-driver@ups.service"
say "$("${qemu[@]}" --version | head -1); MLLP -> 127.0.0.1:$mllp_port, HTTP -> 127.0.0.1:$http_port, logs in $work"
phase "boot V ($v) on slot A (first boot)"
vm_start \
    -drive if=none,id=disk,format=qcow2,file="$work/disk.qcow2" \
    -device virtio-blk-pci,drive=disk,bootindex=1 \
    -drive if=none,id=cfg,format=raw,file="$work/cfg.img",readonly=on \
    -device virtio-blk-pci,drive=cfg \
    -device qemu-xhci,id=xhci \
    -smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=$cmdline"
ready=$(vm_wait "HAKOBUNE-READY.*" "$boot_timeout") || fail "V did not become READY"
took "boot V to READY (first boot)"
say "$ready"
case $ready in *"version=$v slot=A "*) ;; *) fail "expected version=$v slot=A" ;; esac

send() {
    "$hakobune" send --to "127.0.0.1:$mllp_port" --timeout 60 "$sample" 2>&1 || fail "hakobune send failed"
}
ack=$(send)
say "send: ${ack##*: }"
case $ack in *'MSA|AA|'*) ;; *) fail "no AA: $ack" ;; esac
case $ack in *duplicate*) fail "the first message is already a duplicate: $ack" ;; esac

# plug NAME IMG / unplug NAME: a USB stick on the xhci controller, through the qemu monitor.
plug() {
    local out
    out=$(vm_monitor "drive_add 0 if=none,id=$1,format=raw,readonly=on,file=$2")
    case $out in *OK*) ;; *) fail "drive_add $1: $out" ;; esac
    out=$(vm_monitor "device_add usb-storage,bus=xhci.0,drive=$1,id=$1-stick,removable=on")
    [ -z "$out" ] || fail "device_add $1: $out"
}
unplug() { vm_monitor "device_del $1-stick" >/dev/null; sleep 2; }

# Allocated clusters of the overlay itself (depth 0) within root-b: what the guest wrote there.
rootb_written() {
    qemu-img map -U --output=json "$work/disk.qcow2" | jq --argjson o "$rootb_off" --argjson s "$rootb_size" \
        '[.[] | select(.depth == 0 and .data and .start < ($o + $s) and (.start + .length) > $o)] | length'
}

# ---- 3. a bundle of a stranger CA: refused ---------------------------------------------------
phase "stranger-signed bundle on a HAKOBUNEUPD stick"
plug stranger "$work/stranger.img"
st=$(vm_wait_status '.firmware.last_install.result == "refused" and ([.alarms[].id] | index("firmware-update-refused"))' 120) ||
    fail "no refusal shown: $(printf '%s' "$st" | jq -c '{last_install: .firmware.last_install, alarms: [.alarms[]?.id]}' 2>/dev/null)"
took "stranger bundle refused (plug to status)"
vm_wait "hakobune-update: refused: .*" 30 >/dev/null || fail "the refusal was not shown on the console"
say "last_install: $(printf '%s' "$st" | jq -c .firmware.last_install)"
printf '%s' "$st" | jq -e '.firmware.slots | length == 1' >/dev/null || fail "a second slot appeared: $(printf '%s' "$st" | jq -c .firmware.slots)"
[ "$(rootb_written)" = 0 ] || fail "something was written to root-b"
say "refused: alarm firmware-update-refused raised, root-b untouched, slots: $(printf '%s' "$st" | jq -c '[.firmware.slots[] | .file]')"
unplug stranger

# ---- 4. the real update ----------------------------------------------------------------------
phase "bundle $v1 on a HAKOBUNEUPD stick: install"
from=$(vm_serial_size)
plug upd "$work/upd.img"
vm_wait "reboot: Restarting system" 600 "$from" >/dev/null || fail "the box did not reboot after the install"
took "install (plug to reboot)"
[ "$(rootb_written)" != 0 ] || fail "nothing written to root-b"
phase "reboot into slot B"
from=$(vm_serial_size)
ready=$(vm_wait "HAKOBUNE-READY.*" "$boot_timeout" "$from") || fail "V+1 did not become READY"
took "reboot to READY on slot B"
say "$ready"
case $ready in *"version=$v1 slot=B "*) ;; *) fail "expected version=$v1 slot=B" ;; esac
phase "boot check -> kept"
st=$(vm_wait_status ".firmware.booted_slot == \"B\" and .firmware.running_version == \"$v1\" and .firmware.last_update.result == \"kept\"" 240) ||
    fail "update not kept: $(printf '%s' "$st" | jq -c .firmware 2>/dev/null)"
took "READY to kept (boot check, bless, status)"
say "firmware: $(printf '%s' "$st" | jq -c '{booted_slot: .firmware.booted_slot, running: .firmware.running_version, last_update: .firmware.last_update, slots: [.firmware.slots[] | .file]}')"
# The stick is still in: udev started the update unit again at this boot, which must see that its
# bundle is running and leave everything alone.
vm_wait "hakobune-update: .* which is running: nothing to do.*" 60 "$from" >/dev/null ||
    fail "the stick left in was not recognised as already installed at the boot of slot B"
printf '%s' "$st" | jq -e '.firmware.last_install.result == "installed"' >/dev/null ||
    fail "the stick seen again at boot changed the install record: $(printf '%s' "$st" | jq -c .firmware.last_install)"
printf '%s' "$st" | jq -e '[.alarms[].id] | (index("firmware-update-refused") or index("firmware-rolled-back")) | not' >/dev/null ||
    fail "firmware alarm still raised: $(printf '%s' "$st" | jq -c '[.alarms[].id]')"
ack=$(send)
say "resend after the update: ${ack##*: }"
case $ack in *'MSA|AA|'*) ;; *) fail "no AA after the update: $ack" ;; esac
case $ack in *'duplicate: already stored'*) ;; *) fail "the message sent before the update is not known any more: $ack" ;; esac

# ---- 5. slow tier: an update that never gets healthy rolls back ------------------------------
if [ "$slow" = 1 ]; then
    phase "V+2 = $v2: V+1's root with a server that exits 1"
    cp --sparse=always "$work/root-v1.img" "$work/root-v2.img"
    mkdir -p "$mnt"
    mount -o loop "$work/root-v2.img" "$mnt"
    mounted=yes
    sed -i "s/^IMAGE_VERSION=.*/IMAGE_VERSION=\"$v2\"/" "$mnt/usr/lib/os-release"
    printf '#!/bin/sh\necho "hakobune: deliberately broken build (hw-tests/update.sh)" >&2\nexit 1\n' > "$mnt/usr/bin/hakobune"
    umount "$mnt"
    mounted=
    mkdir -p "$work/broken"
    "$repo/firmware/make-bundle" --version "$v2" --rootfs "$work/root-v2.img" --out "$work/broken/hakobune-$v2.raucb" \
        --cert "$keys/signing.cert.pem" --key "$keys/signing.key.pem" >/dev/null 2>&1 || fail "bundle V+2"
    medium "$work/broken" "$work/broken.img"
    took "make the broken V+2 bundle"
    unplug upd
    phase "install V+2 into slot A"
    from=$(vm_serial_size)
    plug broken "$work/broken.img"
    vm_wait "reboot: Restarting system" 600 "$from" >/dev/null || fail "the box did not reboot after installing V+2"
    took "install V+2 (plug to reboot)"
    phase "trial boots of V+2, fall-back"
    from=$(vm_serial_size)
    ready=$(vm_wait "HAKOBUNE-READY.*" 1500 "$from") || fail "never READY again after V+2"
    took "3 failed trial boots + fall-back to READY"
    trials=$(tail -c +"$((from + 1))" "$serial" | grep -a -c "reboot: Restarting system" || true)
    say "$ready (reboots on the way: $trials)"
    case $ready in *"version=$v1 slot=B "*) ;; *) fail "expected to be back on version=$v1 slot=B" ;; esac
    [ "$trials" -eq 3 ] || fail "expected 3 failed trial boots (3 reboots), saw $trials reboots"
    # The stick is still in: the failed version is not tried again.
    vm_wait "hakobune-update: refused: version $v2 failed its boot check.*" 90 "$from" >/dev/null ||
        fail "the stick with the failed version was not refused on the console at the fall-back boot"
    st=$(vm_wait_status ".firmware.last_update.result == \"rolled-back\" and .firmware.last_update.failed == \"$v2\" and ([.alarms[].id] | index(\"firmware-rolled-back\")) and (.firmware.last_install.message | test(\"rolled back\"))" 180) ||
        fail "no rolled-back status (or install record): $(printf '%s' "$st" | jq -c '{fw: .firmware, alarms: [.alarms[]?.id]}' 2>/dev/null)"
    say "firmware: $(printf '%s' "$st" | jq -c '{booted_slot: .firmware.booted_slot, last_update: .firmware.last_update, slots: [.firmware.slots[] | .file], alarms: [.alarms[].id]}')"
    ack=$(send)
    say "resend after the rollback: ${ack##*: }"
    case $ack in *'duplicate: already stored'*) ;; *) fail "data lost across the rollback: $ack" ;; esac
fi

phase "power off"
vm_poweroff 90
say "timings:"
printf '  %s\n' "${timing[@]}"
echo "PASS update $v -> $v1$([ "$slow" = 1 ] && echo ", $v2 rolled back")"
