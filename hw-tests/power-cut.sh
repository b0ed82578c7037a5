#!/bin/bash
# Real power cuts of the appliance image under MLLP load: no acknowledged message may be lost.
#   hw-tests/power-cut.sh [IMAGE.raw]    (default: the newest image-build/out/*.raw)
#
# - The image is copied (sparse) into a temporary folder (a rebuild of image-build/out/ during the
#   test cannot pull the disk away) and booted through a writable qcow2 overlay (not snapshot=on:
#   what the guest wrote must still be there after the cut) with its own copy of the OVMF vars, as
#   hw-tests/boot.sh boots it: qemu q35 TCG -cpu max -m 1024 -smp 2 (qemu 10 from the mkosi tools
#   tree when there), serial console to a file, guest MLLP 2575 / HTTP 8080 forwarded to loopback.
#   The disk uses qemu's default cache (writeback): the guest sees a volatile write cache and must
#   flush; killing qemu loses the guest's page cache and whatever was not flushed.
# - The test sender (facility 9999999999, MSH-4 SEND) is registered for the test only, the way the
#   image expects it: a tmpfiles.extra credential by SMBIOS (as boot.sh) that rewrites
#   /etc/hakobune/hakobune.toml whole (`f+`, not boot.sh's append: the root persists across the
#   boots of the overlay) when the image's server reads its config there; a HAKOBUNECFG config
#   medium at the first boot when the server reads the config hakobune-firstboot writes on the
#   data partition (read-only root). See the comment above `facility_toml` below.
# - A cycle: SENDERS (default 6) concurrent MLLP connections push distinct messages made from one
#   public SS-MIX2 sample (ADT^A08 of patient 9999013; MSH-10, MSH-7 and PID-3 changed; the rest,
#   ISO-2022-JP / JIS X 0208 text included, byte for byte) and record each AA; after a random
#   3-10 s, kill -9 of qemu (the power cut); the same overlay is booted again (WAL replay) and
#   /api/v1/appliance/status `last_start` must say the previous run did not stop cleanly; then
#   every message acknowledged so far (this cycle's and the earlier ones') is sent again and must
#   get AA "duplicate: already stored"; messages in flight at the cut (sent, no ACK) are sent again
#   and counted as stored before the cut or not (both are fine).
# - After the last cycle: orderly power-off (ACPI), the overlay is converted to raw, the
#   hakobune-data partition (found by PARTLABEL in the GPT) loop-mounted read-only by offset, its
#   data directory copied (verify opens the store, which takes the lock and may replay) and
#   `hakobune verify --data` run on the copy: it must report no problem. Every acknowledged
#   control ID must also be in the index with the SHA-256 of the bytes that were sent.
# Exits non-zero on any failure, with the tail of the serial log.
#
# Cycles: 1 (fast tier), 5 with HAKOBUNE_SLOW_TESTS=1, or POWER_CUT_CYCLES=N.
# Knobs: SENDERS=6, POWER_CUT_SEED=N (repeatable cut times), BOOT_TIMEOUT=300, KEEP_LOGS=yes,
# TCG_THREAD=single|multi, QEMU_FROM=host|tools, HAKOBUNE_BIN, VERIFY_BIN (default HAKOBUNE_BIN),
# UPS_DRIVER=keep (see boot.sh). Needs root (loop mount), python3, curl, qemu-img (qemu-utils).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
boot_timeout=${BOOT_TIMEOUT:-300}
senders=${SENDERS:-6}
cycles=${POWER_CUT_CYCLES:-}
if [ -z "$cycles" ]; then
    if [ "${HAKOBUNE_SLOW_TESTS:-0}" = 1 ]; then cycles=5; else cycles=1; fi
fi
[ -n "${POWER_CUT_SEED:-}" ] && RANDOM=$POWER_CUT_SEED
keep=${KEEP_LOGS:-no}
sample_root=${SSMIX2_SAMPLES:-$repo/../shared/ssmix2-samples}/nhoHQ_SSMIX2DataTestingTool/sampleData
# A self-consistent public sample (see src/ssmix2/src/samples.rs): patient 9999013, sender MSH-4 SEND.
sample=$sample_root/999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1
facility_id=9999999999

image=${1:-}
if [ -z "$image" ]; then
    # shellcheck disable=SC2012 # names are ours (no newlines); newest first
    image=$(ls -t "$repo"/image-build/out/*.raw 2>/dev/null | head -1 || true)
    [ -n "$image" ] || { echo "power-cut.sh: no image in image-build/out/ (run image-build/build)" >&2; exit 2; }
fi
[ -f "$image" ] || { echo "power-cut.sh: no such image: $image" >&2; exit 2; }
[ -f "$sample" ] || { echo "power-cut.sh: sample missing: $sample" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "power-cut.sh: needs root (loop mounts)" >&2; exit 2; }

ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
tools_qemu=$repo/image-build/.cache/mkosi.output/tools/usr/bin/qemu-system-x86_64
qemu_from=${QEMU_FROM:-auto}
if [ "$qemu_from" = auto ]; then
    if [ -x "$tools_qemu" ]; then qemu_from=tools; else qemu_from=host; fi
fi
missing=()
[ -f "$ovmf_code" ] || missing+=(ovmf)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
[ "$qemu_from" = tools ] || command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
if [ ${#missing[@]} -gt 0 ]; then
    echo "power-cut.sh: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v curl >/dev/null || { echo "power-cut.sh: curl missing" >&2; exit 2; }

work=$(mktemp -d /tmp/hakobune-power-cut.XXXXXX)
mnt=$work/mnt
mkdir -p "$mnt" "$work/msgs"
mounted=
wrapper_pid=
serial=$work/serial-boot0.log
monitor=
boot_no=0

# The binaries are copied: a cargo build elsewhere during the test does not change them under us.
hakobune_src=${HAKOBUNE_BIN:-$repo/target/release/hakobune}
[ -x "$hakobune_src" ] || { echo "power-cut.sh: $hakobune_src missing (cargo build --release -p hakobune)" >&2; exit 2; }
cp "$hakobune_src" "$work/hakobune"
cp "${VERIFY_BIN:-$hakobune_src}" "$work/hakobune-verify"

say() { echo "power-cut.sh: $*"; }

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

# The qemu process itself: with the tools tree it runs under `mkosi sandbox` (python), whose
# child it is (same pid namespace); killing the wrapper would not be a power cut.
qemu_real_pid() {
    local c
    if [ "$qemu_from" = host ]; then echo "$1"; return 0; fi
    for _ in $(seq 1 100); do
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
            case $(readlink "/proc/$c/exe" 2>/dev/null || true) in
                */qemu-system-x86_64) echo "$c"; return 0 ;;
            esac
        done
        sleep 0.1
    done
    return 1
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$wrapper_pid" ] && kill -0 "$wrapper_pid" 2>/dev/null; then
        monitor_cmd quit
        sleep 1
        [ -n "${qemu_pid:-}" ] && kill "$qemu_pid" 2>/dev/null
        kill "$wrapper_pid" 2>/dev/null || true
    fi
    [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null
    if [ -n "$mounted" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; fi
    if [ "$rc" != 0 ]; then
        echo "---- serial console (last 60 lines): $serial" >&2
        tail -n 60 "$serial" 2>/dev/null | tr -d '\r' >&2 || true
        echo "---- qemu: $work/qemu-boot$boot_no.log" >&2
        tail -n 20 "$work/qemu-boot$boot_no.log" 2>/dev/null >&2 || true
        if [ "$keep" = no ]; then
            rm -rf "$work/base.raw" "$work/overlay.qcow2" "$work/final.raw" "$work/data" "$work/msgs" \
                "$work/hakobune" "$work/hakobune-verify"
            echo "power-cut.sh: logs kept in $work (disks removed; KEEP_LOGS=yes keeps everything)" >&2
        fi
        echo "FAIL" >&2
    elif [ "$keep" = no ]; then
        rm -rf "$work"
    else
        say "kept: $work"
    fi
    exit "$rc"
}
trap cleanup EXIT
fail() { echo "power-cut.sh: FAIL: $*" >&2; exit 1; }

elapsed_since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

# Partition offset and size (bytes) of a GPT partition by its PARTLABEL.
gpt_part() {
    python3 - "$1" "$2" <<'EOF'
import struct, sys
f = open(sys.argv[1], "rb")
f.seek(512)
h = f.read(92)
assert h[:8] == b"EFI PART", "no GPT"
lba, n, size = struct.unpack_from("<QII", h, 72)
f.seek(lba * 512)
for _ in range(n):
    e = f.read(size)
    if e[:16] == bytes(16):
        continue
    first, last = struct.unpack_from("<QQ", e, 32)
    if e[56:128].decode("utf-16-le").rstrip("\0") == sys.argv[2]:
        print(first * 512, (last - first + 1) * 512)
        sys.exit(0)
sys.exit(f"no partition labelled {sys.argv[2]}")
EOF
}

# ---- the MLLP load generator, re-sender and index check (python3, standard library only)
cat > "$work/mllp.py" <<'EOF'
import asyncio, hashlib, os, sqlite3, sys, time
from datetime import datetime, timedelta

VT, FS = b"\x0b", b"\x1c\x0d"
ACK_TIMEOUT = 120

def make_message(sample, ctl, pid, msh7):
    out = []
    for seg in sample.split(b"\r"):
        if seg.startswith(b"MSH|"):
            f = seg.split(b"|", 10)
            assert not any(b"\x1b" in x for x in f[:10])
            f[6], f[9] = msh7.encode(), ctl.encode()
            seg = b"|".join(f)
        elif seg.startswith(b"PID|"):
            f = seg.split(b"|", 4)
            assert not any(b"\x1b" in x for x in f[:4])
            f[3] = pid.encode()
            seg = b"|".join(f)
        out.append(seg)
    return b"\r".join(out) + b"\r"

def parse_ack(ack):
    for seg in ack.strip(VT + FS).split(b"\r"):
        if seg.startswith(b"MSA|"):
            f = seg.decode("latin-1").split("|")
            return (f + ["", "", ""])[1], (f + ["", "", ""])[2], "|".join(f[3:])
    return "", "", ack.decode("latin-1", "replace")

async def roundtrip(r, w, msg):
    w.write(VT + msg + FS)
    await w.drain()
    return await asyncio.wait_for(r.readuntil(FS), ACK_TIMEOUT)

async def load_sender(i, port, sample, msgdir, prefix, log):
    # One connection, messages one after the other; ends when the connection dies (the cut).
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 20)
    base = datetime(2011, 12, 20, 8, 0, 0)
    n = 0
    while True:
        ctl = f"{prefix}S{i}N{n:06d}"
        pid = str(8800000 + (i * 7919 + n * 13) % 400)   # 400 patients shared by the senders
        msh7 = (base + timedelta(milliseconds=(i * 1_000_000 + n) * 1013)).strftime("%Y%m%d%H%M%S.%f")[:19]
        msg = make_message(sample, ctl, pid, msh7)
        path = os.path.join(msgdir, ctl + ".hl7")
        with open(path, "wb") as f:
            f.write(msg)
        try:
            ack = await roundtrip(r, w, msg)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            log.write(f"{ctl}\tINFLIGHT\t{path}\t{type(e).__name__}\n")
            return
        code, actl, text = parse_ack(ack)
        if code == "AA" and actl == ctl:
            log.write(f"{ctl}\tAA\t{path}\t\n")
        else:
            log.write(f"{ctl}\tREFUSED\t{path}\t{code} {actl} {text}\n")
            return
        log.flush()
        n += 1

async def load(port, sample_path, msgdir, prefix, nsenders, out):
    # The public sample ends with a stray 0x1C after its last segment: cut, segments end with CR.
    sample = open(sample_path, "rb").read().rstrip(b"\r\n\x1c")
    with open(out, "w", buffering=1) as log:
        res = await asyncio.gather(*(load_sender(i, port, sample, msgdir, prefix, log) for i in range(nsenders)),
                                   return_exceptions=True)
        for x in res:
            if isinstance(x, BaseException):
                log.write(f"-\tERROR\t-\t{type(x).__name__}: {x}\n")

async def resend_worker(port, items, out):
    r = w = None
    for ctl, path in items:
        msg = open(path, "rb").read()
        for attempt in range(5):
            try:
                if w is None:
                    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 20)
                ack = await roundtrip(r, w, msg)
                break
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
                w = None
                if attempt == 4:
                    out.write(f"{ctl}\tERROR\t{type(e).__name__}: {e}\n")
                    ack = None
                await asyncio.sleep(1)
        if ack is None:
            continue
        code, actl, text = parse_ack(ack)
        if code == "AA" and actl == ctl:
            res = "DUP" if "duplicate: already stored" in text or b"duplicate: already stored" in ack else "NEW"
        else:
            res = "REFUSED"
        out.write(f"{ctl}\t{res}\t{code} {text}\n")

async def resend(port, listfile, nconn, out):
    items = [l.split("\t")[:2] for l in open(listfile).read().splitlines() if l]
    with open(out, "w", buffering=1) as o:
        await asyncio.gather(*(resend_worker(port, items[k::nconn], o) for k in range(nconn)))

def index_check(db, listfile, facility):
    con = sqlite3.connect(db)
    bad = 0
    items = [l.split("\t")[:2] for l in open(listfile).read().splitlines() if l]
    for ctl, path in items:
        want = hashlib.sha256(open(path, "rb").read()).hexdigest()
        rows = [r[0] for r in con.execute(
            "SELECT sha256 FROM ssmixidx WHERE facility_id = ? AND control_id = ?", (facility, ctl))]
        if want not in rows:
            bad += 1
            print(f"NOT IN INDEX: {ctl} ({path}; rows with that control ID: {rows})")
    print(f"index: {len(items) - bad} of {len(items)} acknowledged messages present with the sent bytes' SHA-256")
    return bad == 0

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "load":
        asyncio.run(load(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7]))
    elif cmd == "resend":
        asyncio.run(resend(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    elif cmd == "index-check":
        sys.exit(0 if index_check(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)
EOF

# ---- disks
say "image $image"
cp --sparse=always "$image" "$work/base.raw"
qemu-img create -q -f qcow2 -b "$work/base.raw" -F raw "$work/overlay.qcow2"
cp "$ovmf_vars" "$work/vars.fd"
cp "$ovmf_code" "$work/code.fd"

# The test sender. How depends on where the image's server reads its configuration:
# - /etc/hakobune/hakobune.toml on a writable root (images up to 7d7db66): a tmpfiles.extra
#   credential (SMBIOS) rewrites that file whole at each boot, the image's own file plus the
#   facility (`f+`; boot.sh appends with `w+`, which on a persistent root would register the
#   facility twice from the second boot on);
# - a configuration on the data partition written by hakobune-firstboot (read-only root): a config
#   medium (ext4 labelled HAKOBUNECFG holding hakobune-facilities.toml) at the first boot only;
#   what first boot wrote persists on the overlay.
facility_toml="[[facility]]
id = \"$facility_id\"
name = \"power-cut test sender\"
msh4 = [\"SEND\"]
[facility.rules.care_date_fields]
\"RAS^O17\" = \"ORC-9\""
read -r root_off root_size < <(gpt_part "$work/base.raw" root-a)
mount -o ro,loop,offset="$root_off",sizelimit="$root_size" "$work/base.raw" "$mnt"
mounted=yes
unit=$mnt/usr/lib/systemd/system/hakobune.service
[ -f "$unit" ] || unit=$mnt/etc/systemd/system/hakobune.service
if grep -q -- '--config /etc/hakobune/hakobune.toml' "$unit" 2>/dev/null; then
    registration=credential
    cp "$mnt/etc/hakobune/hakobune.toml" "$work/hakobune.toml"
else
    registration=medium
fi
umount "$mnt"
mounted=
smbios_cred=()
cfg_drive=()
if [ "$registration" = credential ]; then
    grep -q '^\[server\]' "$work/hakobune.toml" || fail "no [server] in the image's /etc/hakobune/hakobune.toml"
    printf '\n# power-cut.sh test sender (tmpfiles.extra credential, rewritten whole at each boot)\n%s\n' \
        "$facility_toml" >> "$work/hakobune.toml"
    "$work/hakobune" check-config "$work/hakobune.toml" >/dev/null 2>&1 ||
        say "note: the host binary's check-config refuses the image's config + facility (versions differ?)"
    cred=$(python3 - "$work/hakobune.toml" <<'EOF'
import base64, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert "%" not in text and "\t" not in text
arg = text.replace("\\", "\\\\").replace("\n", "\\n")
line = f"f+ /etc/hakobune/hakobune.toml 0640 root hakobune - {arg}\n"
print(base64.b64encode(line.encode()).decode())
EOF
)
    smbios_cred=(-smbios "type=11,value=io.systemd.credential.binary:tmpfiles.extra=$cred")
    say "test sender: tmpfiles.extra credential (f+ /etc/hakobune/hakobune.toml)"
else
    mkdir -p "$work/cfg"
    printf '# power-cut.sh test sender\n%s\n' "$facility_toml" > "$work/cfg/hakobune-facilities.toml"
    mkfs.ext4 -q -O ^has_journal -L HAKOBUNECFG -d "$work/cfg" "$work/cfg.img" 4M >/dev/null
    cfg_drive=(-drive "if=none,id=cfg,format=raw,readonly=on,file=$work/cfg.img" -device "virtio-blk-pci,drive=cfg")
    say "test sender: HAKOBUNECFG config medium at the first boot (hakobune-firstboot)"
fi

cmdline="panic_on_oops=1 panic=-1"
if [ "${UPS_DRIVER:-mask}" = mask ]; then cmdline="$cmdline systemd.mask=nut-driver@ups.service"; fi

qemu=(qemu-system-x86_64)
if [ "$qemu_from" = tools ]; then
    mkosi_py=$(find "$repo"/image-build/.cache -maxdepth 5 -type d -path '*/mkosi-*/usr/lib/python3/dist-packages' | sort | tail -1)
    qemu=(env -C "$repo/image-build" PYTHONPATH="$mkosi_py" python3 -m mkosi sandbox -- qemu-system-x86_64)
fi
say "$("${qemu[@]}" --version | head -1)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mllp_port=$(free_port)
http_port=$(free_port)
while [ "$http_port" = "$mllp_port" ]; do http_port=$(free_port); done
say "MLLP -> 127.0.0.1:$mllp_port, HTTP -> 127.0.0.1:$http_port, work dir $work"

# Boots the overlay (boot number $1) and waits for HAKOBUNE-READY; sets boot_to_ready.
boot() {
    boot_no=$1
    local medium=()
    [ "$boot_no" = 0 ] && medium=("${cfg_drive[@]}")
    serial=$work/serial-boot$boot_no.log
    monitor=$work/monitor-boot$boot_no.sock
    local t0 ready_line
    t0=$(date +%s.%N)
    "${qemu[@]}" \
        -machine q35 -accel tcg,thread="${TCG_THREAD:-multi}" -cpu max -m 1024 -smp 2 \
        -display none -no-reboot \
        -drive if=pflash,format=raw,unit=0,readonly=on,file="$work/code.fd" \
        -drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
        -drive if=none,id=disk,format=qcow2,file="$work/overlay.qcow2" \
        -device virtio-blk-pci,drive=disk,bootindex=1 \
        -nic user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:"$mllp_port"-:2575,hostfwd=tcp:127.0.0.1:"$http_port"-:8080 \
        "${smbios_cred[@]}" "${medium[@]}" \
        -smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=${cmdline//,/,,}" \
        -serial file:"$serial" \
        -monitor unix:"$monitor",server,nowait \
        > "$work/qemu-boot$boot_no.log" 2>&1 &
    wrapper_pid=$!
    qemu_pid=$(qemu_real_pid "$wrapper_pid") || fail "qemu process not found under pid $wrapper_pid"
    while :; do
        if ready_line=$(grep -a -o -m1 'HAKOBUNE-READY.*' "$serial" 2>/dev/null); then break; fi
        kill -0 "$wrapper_pid" 2>/dev/null || fail "boot $boot_no: qemu exited before HAKOBUNE-READY"
        boot_to_ready=$(elapsed_since "$t0")
        [ "${boot_to_ready%.*}" -lt "$boot_timeout" ] || fail "boot $boot_no: no HAKOBUNE-READY within ${boot_timeout}s"
        sleep 0.5
    done
    boot_to_ready=$(elapsed_since "$t0")
    say "boot $boot_no: $(printf '%s' "$ready_line" | tr -d '\r'), boot-to-READY ${boot_to_ready}s"
    local health
    health=$(curl -sS --max-time 30 "http://127.0.0.1:$http_port/healthz") || fail "GET /healthz did not answer"
    case $health in *'"status":"ok"'*) ;; *) fail "/healthz status is not ok: $health" ;; esac
    case $health in *"\"id\":\"$facility_id\""*) ;; *) fail "test facility not registered: $health" ;; esac
}

# Prints last_start of /api/v1/appliance/status; $1 = expected: fresh | recovered | clean.
check_last_start() {
    local status
    status=$(curl -sS --max-time 30 "http://127.0.0.1:$http_port/api/v1/appliance/status") ||
        fail "GET /api/v1/appliance/status did not answer"
    python3 - "$1" "$status" <<'EOF' || fail "last_start is not what a $1 start should report"
import json, sys
want, s = sys.argv[1], json.loads(sys.argv[2])
ls = s.get("last_start") or {}
print("power-cut.sh:   last_start:", json.dumps(ls, separators=(",", ":")))
ok = {"fresh": ls.get("fresh") is True,
      "recovered": ls.get("fresh") is False and ls.get("previous_shutdown_clean") is False,
      "clean": ls.get("fresh") is False and ls.get("previous_shutdown_clean") is True}[want]
sys.exit(0 if ok else 1)
EOF
}

power_off() {
    local t_off
    t_off=$(date +%s)
    monitor_cmd system_powerdown
    while kill -0 "$wrapper_pid" 2>/dev/null && [ $(( $(date +%s) - t_off )) -lt 150 ]; do sleep 0.5; done
    kill -0 "$wrapper_pid" 2>/dev/null && fail "guest did not power off within 150 s"
    wait "$wrapper_pid" 2>/dev/null || true
    wrapper_pid=
    say "guest powered off (ACPI) in $(( $(date +%s) - t_off ))s"
}

# ---- cycles
: > "$work/acked-all.tsv"
summary=()
boot 0
first_boot=$boot_to_ready
check_last_start fresh
for cycle in $(seq 1 "$cycles"); do
    delay_ms=$(( 3000 + RANDOM % 7001 ))
    load_log=$work/load-$cycle.tsv
    python3 "$work/mllp.py" load "$mllp_port" "$sample" "$work/msgs" "PC${cycle}" "$senders" "$load_log" &
    load_pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -0 "$load_pid" 2>/dev/null || { tail -5 "$load_log" >&2; fail "cycle $cycle: load generator ended before the cut"; }
    kill -9 "$qemu_pid"
    wait "$wrapper_pid" 2>/dev/null || true
    wrapper_pid=
    t_w=$(date +%s)
    while kill -0 "$load_pid" 2>/dev/null && [ $(( $(date +%s) - t_w )) -lt 60 ]; do sleep 0.2; done
    kill -0 "$load_pid" 2>/dev/null && fail "cycle $cycle: load generator still running 60 s after the cut"
    wait "$load_pid" || fail "cycle $cycle: load generator failed"
    load_pid=
    grep -q $'\tERROR\t' "$load_log" && fail "cycle $cycle: sender error: $(grep $'\tERROR\t' "$load_log" | head -3)"
    grep -q $'\tREFUSED\t' "$load_log" && fail "cycle $cycle: messages refused: $(grep $'\tREFUSED\t' "$load_log" | head -3)"
    awk -F'\t' '$2 == "AA" {print $1 "\t" $3}' "$load_log" > "$work/acked-$cycle.tsv"
    awk -F'\t' '$2 == "INFLIGHT" {print $1 "\t" $3}' "$load_log" > "$work/inflight-$cycle.tsv"
    n_acked=$(wc -l < "$work/acked-$cycle.tsv")
    n_inflight=$(wc -l < "$work/inflight-$cycle.tsv")
    [ "$n_acked" -gt 0 ] || fail "cycle $cycle: no message acknowledged in ${delay_ms} ms of load"
    cat "$work/acked-$cycle.tsv" >> "$work/acked-all.tsv"
    say "cycle $cycle: power cut (kill -9 qemu) after ${delay_ms} ms of load: $n_acked acknowledged, $n_inflight in flight"
    rc=0
    qemu-img check "$work/overlay.qcow2" > "$work/qemu-img-check-$cycle.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "qcow2 overlay damaged after the cut: $(cat "$work/qemu-img-check-$cycle.log")"

    boot "$cycle"
    ready_after=$boot_to_ready
    check_last_start recovered

    # Everything acknowledged so far must be there: AA "duplicate: already stored".
    python3 "$work/mllp.py" resend "$mllp_port" "$work/acked-all.tsv" "$senders" "$work/resend-$cycle.tsv"
    n_all=$(wc -l < "$work/acked-all.tsv")
    n_dup=$(awk -F'\t' '$2 == "DUP"' "$work/resend-$cycle.tsv" | wc -l)
    if [ "$n_dup" != "$n_all" ]; then
        awk -F'\t' '$2 != "DUP"' "$work/resend-$cycle.tsv" | head -20 | sed 's/^/  /' >&2
        awk -F'\t' '$2 == "NEW" {print $1}' "$work/resend-$cycle.tsv" > "$work/LOST-$cycle.txt"
        keep=yes
        fail "cycle $cycle: only $n_dup of $n_all acknowledged messages confirmed as already stored" \
            "($(wc -l < "$work/LOST-$cycle.txt") were stored anew, i.e. LOST at the cut: $work/LOST-$cycle.txt)"
    fi
    # In flight at the cut: either is fine; after this they are stored and join the acknowledged.
    in_stored=0 in_not=0
    if [ "$n_inflight" -gt 0 ]; then
        python3 "$work/mllp.py" resend "$mllp_port" "$work/inflight-$cycle.tsv" "$senders" "$work/resend-inflight-$cycle.tsv"
        in_stored=$(awk -F'\t' '$2 == "DUP"' "$work/resend-inflight-$cycle.tsv" | wc -l)
        in_not=$(awk -F'\t' '$2 == "NEW"' "$work/resend-inflight-$cycle.tsv" | wc -l)
        [ $((in_stored + in_not)) = "$n_inflight" ] ||
            fail "cycle $cycle: in-flight messages not accepted on re-send: $(awk -F'\t' '$2 != "DUP" && $2 != "NEW"' "$work/resend-inflight-$cycle.tsv" | head -3)"
        cat "$work/inflight-$cycle.tsv" >> "$work/acked-all.tsv"
    fi
    line="cycle $cycle: cut after ${delay_ms} ms; acknowledged before the cut $n_acked; in flight $n_inflight (stored before the cut $in_stored, not stored $in_not); re-sent and confirmed $n_dup/$n_all; boot-to-READY after the cut ${ready_after}s"
    say "$line"
    summary+=("$line")
done

# ---- orderly stop, then the data partition on the host
power_off
qemu-img convert -O raw "$work/overlay.qcow2" "$work/final.raw"
read -r data_off data_size < <(gpt_part "$work/final.raw" hakobune-data)
mount -o ro,loop,offset="$data_off",sizelimit="$data_size" "$work/final.raw" "$mnt"
mounted=yes
index=$(find "$mnt" -maxdepth 3 -name index.sqlite -print -quit)
[ -n "$index" ] || fail "no index.sqlite on the hakobune-data partition"
data_rel=${index%/index.sqlite}
data_rel=${data_rel#"$mnt"}
say "data directory: PARTLABEL=hakobune-data:/${data_rel#/} ($(du -sm "$mnt" | cut -f1) MB used)"
cp -a "$(dirname "$index")" "$work/data"
umount "$mnt"
mounted=
rm -f "$work/final.raw"

say "hakobune verify --data (copy of the data directory):"
verify_rc=0
"$work/hakobune-verify" verify --data "$work/data" > "$work/verify.log" 2>&1 || verify_rc=$?
sed 's/^/  /' "$work/verify.log"
[ "$verify_rc" = 0 ] || fail "hakobune verify found problems (exit $verify_rc)"
grep -q 'previous shutdown clean' "$work/verify.log" ||
    say "NOTE: the orderly power-off did not leave a clean shutdown mark"
python3 "$work/mllp.py" index-check "$work/data/index.sqlite" "$work/acked-all.tsv" "$facility_id" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "acknowledged messages missing from the index"

echo "---- summary (first boot to READY ${first_boot}s, $senders senders)"
printf '%s\n' "${summary[@]}"
echo "PASS cycles=$cycles acknowledged_total=$(wc -l < "$work/acked-all.tsv")"
