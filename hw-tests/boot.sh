#!/bin/bash
# Boots the appliance image in qemu (TCG, UEFI/OVMF) and checks it end to end from the host:
#   hw-tests/boot.sh [IMAGE.raw]        (default: the newest image-build/out/*.raw)
#
# - qemu -machine q35, TCG (never KVM here), -cpu max -m 1024 -smp 2; OVMF from the host's ovmf
#   package (installed with apt-get if missing) with a copy of its vars as pflash; the disk with
#   snapshot=on (the image file is never written); user networking with the guest's MLLP 2575 and
#   HTTP 8080 forwarded to free loopback ports; serial console to a file; monitor on a unix socket.
#   qemu itself: 10.x from the mkosi tools tree when image-build/.cache has it (faster under TCG,
#   and qemu 7.2's multi-threaded TCG was seen giving a guest an "Oops: int3" during jump-label
#   patching), else the host's qemu-system-x86 (installed if missing). QEMU_FROM=host|tools.
# - one test sender is registered for this boot only, through a systemd credential given by SMBIOS
#   (tmpfiles.extra appends a [[facility]] to /etc/hakobune/hakobune.toml): the image ships none;
# - waits (BOOT_TIMEOUT, default 180 s) for HAKOBUNE-READY on the serial console (printed by
#   hakobune-ready.service once hakobune.service reported READY=1), then GET /healthz must answer
#   with the test facility, and one public SS-MIX2 sample sent with `hakobune send` must get AA;
# - powers the guest off (ACPI system_powerdown, then `quit` if it does not stop in time).
# Prints boot-to-ready (qemu start to the READY line). Exits non-zero on any failure, with the
# tail of the serial log.
#
# Knobs: UPS_DRIVER=keep (see below), BOOT_REPORT=1 (the guest prints systemd-analyze time,
# critical chain, blame, failed units), EXTRA_CMDLINE="...", EXTRA_UNIT=FILE.service,
# KEEP_LOGS=yes, TCG_THREAD=single|multi.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
boot_timeout=${BOOT_TIMEOUT:-180}
hakobune=${HAKOBUNE_BIN:-$repo/target/release/hakobune}
sample_root=${SSMIX2_SAMPLES:-$repo/../shared/ssmix2-samples}/nhoHQ_SSMIX2DataTestingTool/sampleData
# A self-consistent public sample (see src/ssmix2/src/samples.rs): patient 9999013, sender MSH-4 SEND.
sample=$sample_root/999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1

image=${1:-}
if [ -z "$image" ]; then
    image=$(ls -t "$repo"/image-build/out/*.raw 2>/dev/null | head -1 || true)
    [ -n "$image" ] || { echo "boot.sh: no image in image-build/out/ (run image-build/build)" >&2; exit 2; }
fi
[ -f "$image" ] || { echo "boot.sh: no such image: $image" >&2; exit 2; }
[ -x "$hakobune" ] || { echo "boot.sh: $hakobune missing (cargo build --release -p hakobune)" >&2; exit 2; }
[ -f "$sample" ] || { echo "boot.sh: sample missing: $sample" >&2; exit 2; }

ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
tools_qemu=$repo/image-build/.cache/mkosi.output/tools/usr/bin/qemu-system-x86_64
qemu_from=${QEMU_FROM:-auto}
if [ "$qemu_from" = auto ]; then
    if [ -x "$tools_qemu" ]; then qemu_from=tools; else qemu_from=host; fi
fi
missing=()
[ -f "$ovmf_code" ] || missing+=(ovmf)
[ "$qemu_from" = tools ] || command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
if [ ${#missing[@]} -gt 0 ]; then
    echo "boot.sh: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v curl >/dev/null || { echo "boot.sh: curl missing" >&2; exit 2; }

work=$(mktemp -d /tmp/hakobune-boot.XXXXXX)
serial=$work/serial.log
monitor=$work/monitor.sock
qemu_pid=
keep=${KEEP_LOGS:-no}

monitor_cmd() {
    python3 - "$monitor" "$1" <<'EOF' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
time.sleep(0.2)
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.5)
s.close()
EOF
}

cleanup() {
    local rc=$?
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        monitor_cmd quit
        sleep 1
        kill "$qemu_pid" 2>/dev/null || true
    fi
    if [ "$rc" != 0 ]; then
        echo "---- serial console (last 60 lines): $serial" >&2
        tail -n 60 "$serial" 2>/dev/null | tr -d '\r' >&2 || true
        echo "---- qemu: $work/qemu.log" >&2
        tail -n 20 "$work/qemu.log" 2>/dev/null >&2 || true
        echo "FAIL" >&2
    elif [ "$keep" = no ]; then
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
fail() { echo "boot.sh: FAIL: $*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mllp_port=$(free_port)
http_port=$(free_port)
while [ "$http_port" = "$mllp_port" ]; do http_port=$(free_port); done

# The test sender, appended to the guest's configuration by systemd-tmpfiles at this boot only
# (the disk is a snapshot). Same facility as the integration tests (src/hakobune/tests/it/harness.rs).
facility='\n# boot.sh test sender (tmpfiles.extra credential)\n[[facility]]\nid = "9999999999"\nname = "boot test sender"\nmsh4 = ["SEND"]\n[facility.rules.care_date_fields]\n"RAS^O17" = "ORC-9"'
tmpfiles_line="w+ /etc/hakobune/hakobune.toml - - - - $facility"
cred=$(printf '%s\n' "$tmpfiles_line" | base64 -w0)

# Extra kernel command line for this boot (UKI: systemd-stub reads it from SMBIOS), e.g.
# EXTRA_CMDLINE="hakobune.boot_report systemd.journald.forward_to_console=1". Commas are doubled
# for qemu's option parser.
# BOOT_REPORT=1: the guest prints where its boot time went (hakobune-ready-report), shown here.
if [ "${BOOT_REPORT:-0}" = 1 ]; then EXTRA_CMDLINE="${EXTRA_CMDLINE:-} hakobune.boot_report"; fi
# EXTRA_UNIT=FILE.service: a debugging unit for this boot only (systemd.extra-unit credential,
# started through systemd.wants=); write its output to /dev/console to see it in the serial log.
smbios_unit=()
if [ -n "${EXTRA_UNIT:-}" ]; then
    unit_name=$(basename "$EXTRA_UNIT")
    smbios_unit=(-smbios "type=11,value=io.systemd.credential.binary:systemd.extra-unit.$unit_name=$(base64 -w0 < "$EXTRA_UNIT")")
    EXTRA_CMDLINE="${EXTRA_CMDLINE:-} systemd.wants=$unit_name"
fi
# The VM has no UPS. NUT's usbhid-ups driver then fails 3 times (ups.conf maxretry) and keeps
# restarting; hakobune.service is ordered after nut-server.service, which waits for the driver
# target, so the server starts about 20 s later than with a UPS that answers. By default the driver
# is masked for this boot (as if the UPS answered at once); UPS_DRIVER=keep measures the no-UPS case.
if [ "${UPS_DRIVER:-mask}" = mask ]; then
    EXTRA_CMDLINE="systemd.mask=nut-driver@ups.service ${EXTRA_CMDLINE:-}"
    echo "boot.sh: no UPS in the VM: nut-driver@ups masked for this boot (UPS_DRIVER=keep to keep it)"
fi
# Always for the test: an oops panics the guest and the panic ends qemu (-no-reboot), so that a kernel
# problem fails the test at once instead of leaving a half-dead guest.
EXTRA_CMDLINE="panic_on_oops=1 panic=-1 ${EXTRA_CMDLINE:-}"
smbios_cmdline=()
if [ -n "${EXTRA_CMDLINE:-}" ]; then
    smbios_cmdline=(-smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=${EXTRA_CMDLINE//,/,,}")
fi

cp "$ovmf_vars" "$work/vars.fd"
cp "$ovmf_code" "$work/code.fd"

# qemu from the tools tree runs in mkosi's sandbox (its /usr is the tools tree's, the rest is the
# host's): the OVMF files were copied into $work for that reason.
qemu=(qemu-system-x86_64)
if [ "$qemu_from" = tools ]; then
    mkosi_py=$(ls -d "$repo"/image-build/.cache/mkosi-*/usr/lib/python3/dist-packages | tail -1)
    qemu=(env -C "$repo/image-build" PYTHONPATH="$mkosi_py" python3 -m mkosi sandbox -- qemu-system-x86_64)
fi
echo "boot.sh: $("${qemu[@]}" --version | head -1)"
echo "boot.sh: $image ($(du --apparent-size -m "$image" | cut -f1) MB apparent, $(du -m "$image" | cut -f1) MB allocated)"
echo "boot.sh: MLLP -> 127.0.0.1:$mllp_port, HTTP -> 127.0.0.1:$http_port, logs in $work"

t_start=$(date +%s.%N)
"${qemu[@]}" \
    -machine q35 -accel tcg,thread=${TCG_THREAD:-multi} -cpu max -m 1024 -smp 2 \
    -display none -no-reboot \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$work/code.fd" \
    -drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
    -drive if=none,id=disk,format=raw,file="$image",snapshot=on \
    -device virtio-blk-pci,drive=disk,bootindex=1 \
    -nic user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:"$mllp_port"-:2575,hostfwd=tcp:127.0.0.1:"$http_port"-:8080 \
    -smbios type=11,value=io.systemd.credential.binary:tmpfiles.extra="$cred" \
    "${smbios_cmdline[@]}" "${smbios_unit[@]}" \
    -serial file:"$serial" \
    -monitor unix:"$monitor",server,nowait \
    > "$work/qemu.log" 2>&1 &
qemu_pid=$!

elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t_start" "$(date +%s.%N)"; }

ready_line=
while :; do
    if ready_line=$(grep -a -o -m1 'HAKOBUNE-READY.*' "$serial" 2>/dev/null); then break; fi
    kill -0 "$qemu_pid" 2>/dev/null || fail "qemu exited before HAKOBUNE-READY"
    e=$(elapsed)
    [ "${e%.*}" -lt "$boot_timeout" ] || fail "no HAKOBUNE-READY within ${boot_timeout}s"
    sleep 0.5
done
boot_to_ready=$(elapsed)
ready_line=$(printf '%s' "$ready_line" | tr -d '\r')
echo "boot.sh: $ready_line"
echo "boot.sh: boot-to-ready ${boot_to_ready}s (qemu start to the console line; guest uptime is kernel start)"

health=$(curl -sS --max-time 20 "http://127.0.0.1:$http_port/healthz") || fail "GET /healthz did not answer"
echo "boot.sh: /healthz: $health"
case $health in *'"status":"ok"'*) ;; *) fail "/healthz status is not ok" ;; esac
case $health in *'"id":"9999999999"'*) ;; *) fail "test facility not registered (tmpfiles.extra credential)" ;; esac

ack=$("$hakobune" send --to "127.0.0.1:$mllp_port" --timeout 60 "$sample" 2>&1) || fail "hakobune send failed: $ack"
echo "boot.sh: send: ${ack##*: }"
case $ack in *'MSA|AA|'*) ;; *) fail "no AA for the sample: $ack" ;; esac

if [ "${BOOT_REPORT:-0}" = 1 ]; then
    t_rep=$(date +%s)
    while ! grep -aq -- '---- end of boot report' "$serial" && [ $(( $(date +%s) - t_rep )) -lt 240 ]; do sleep 1; done
    tr -d '\r' < "$serial" | sed -e 's/\x1b\[[0-9;?!]*[a-zA-Z]//g' | sed -n '/---- boot report/,/---- end of boot report/p'
fi

t_off=$(date +%s)
monitor_cmd system_powerdown
while kill -0 "$qemu_pid" 2>/dev/null && [ $(( $(date +%s) - t_off )) -lt 90 ]; do sleep 0.5; done
if kill -0 "$qemu_pid" 2>/dev/null; then
    echo "boot.sh: guest did not power off within 90 s; quitting qemu" >&2
    monitor_cmd quit
    sleep 1
else
    echo "boot.sh: guest powered off in $(( $(date +%s) - t_off ))s"
fi
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=

echo "PASS boot_to_ready_s=$boot_to_ready"
