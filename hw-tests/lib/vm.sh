# shellcheck shell=bash
# Shared by hw-tests/boot.sh, raid.sh and update.sh (sourced, bash): the appliance image in qemu
# (TCG, q35, OVMF), its serial console, monitor, forwarded ports, and the removable media the
# appliance reads (HAKOBUNECFG registration medium, HAKOBUNEUPD update medium).
#
# The caller sets: repo (repository root), vm_name, and work (a mktemp -d folder; vm_inputs makes
# one), and usually `trap vm_exit EXIT`. vm_setup then sets:
#   qemu (array), serial, monitor, mllp_port, http_port, and copies OVMF code/vars into $work.
# vm_start ARGS... starts qemu in the background (pid in qemu_pid) with the common machine and
# ARGS (disks, -no-reboot, -smbios ...). Not set -e safe by itself: callers use set -euo pipefail.

# shellcheck disable=SC2034  # (variables for the caller)
: "${repo:?set repo before sourcing lib/vm.sh}"
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
qemu_pid='' serial='' monitor='' mllp_port='' http_port='' ssh_port='' vm_t0='' qemu_from=''
qemu=()

vm_log() { echo "${vm_name:-vm}: $*"; }

# vm_inputs [IMAGE]: what every image test needs, checked (exit 2 when something is missing):
#   image     IMAGE, else the newest image-build/out/*.raw
#   hakobune  the release binary (HAKOBUNE_BIN), which sends the sample from the host
#   sample    a self-consistent public SS-MIX2 sample (src/ssmix2/src/samples.rs): patient 9999013,
#             sender MSH-4 SEND (the test facility of vm_cfg_medium); SSMIX2_SAMPLES moves the root
#   work      a new folder /tmp/hakobune-<test>.XXXXXX; keep: KEEP_LOGS (default no)
vm_inputs() {
    image=${1:-}
    if [ -z "$image" ]; then
        # shellcheck disable=SC2012 # names are ours (no newlines); newest first
        image=$(ls -t "$repo"/image-build/out/*.raw 2>/dev/null | head -1 || true)
        [ -n "$image" ] || { vm_log "no image in image-build/out/ (run image-build/build)" >&2; exit 2; }
    fi
    [ -f "$image" ] || { vm_log "no such image: $image" >&2; exit 2; }
    hakobune=${HAKOBUNE_BIN:-$repo/target/release/hakobune}
    [ -x "$hakobune" ] || { vm_log "$hakobune missing (cargo build --release -p hakobune)" >&2; exit 2; }
    local root=${SSMIX2_SAMPLES:-$repo/../shared/ssmix2-samples}/nhoHQ_SSMIX2DataTestingTool/sampleData
    sample=$root/999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1
    [ -f "$sample" ] || { vm_log "sample missing: $sample" >&2; exit 2; }
    work=$(mktemp -d "/tmp/hakobune-${vm_name%.sh}.XXXXXX")
    keep=${KEEP_LOGS:-no}
}

# vm_exit: for `trap vm_exit EXIT`. Ends qemu, runs the caller's vm_on_exit when it defines one
# (unmounting, say), then on failure shows the logs (vm_dump_logs $vm_log_lines, default 80) and
# keeps $work; on success removes $work unless keep=yes.
vm_exit() {
    local rc=$?
    vm_kill
    if declare -F vm_on_exit >/dev/null; then vm_on_exit || true; fi
    if [ "$rc" != 0 ]; then
        vm_dump_logs "${vm_log_lines:-80}"
        echo "FAIL (logs in $work)" >&2
    elif [ "${keep:-no}" = no ]; then
        rm -rf "$work"
    fi
    exit "$rc"
}

# Installs what is missing on the host (Debian packages): OVMF, qemu (unless the tools tree's is
# used), sfdisk, curl, e2fsprogs (mkfs.ext4 -d).
vm_setup() {
    : "${work:?set work (or call vm_inputs) before vm_setup}"
    local tools_qemu=$repo/image-build/.cache/mkosi.output/tools/usr/bin/qemu-system-x86_64
    qemu_from=${QEMU_FROM:-auto}
    if [ "$qemu_from" = auto ]; then
        if [ -x "$tools_qemu" ]; then qemu_from=tools; else qemu_from=host; fi
    fi
    local missing=()
    [ -f "$ovmf_code" ] || missing+=(ovmf)
    [ "$qemu_from" = tools ] || command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v sfdisk >/dev/null || missing+=(fdisk)
    command -v curl >/dev/null || missing+=(curl)
    command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
    command -v qemu-img >/dev/null || missing+=(qemu-utils)
    command -v jq >/dev/null || missing+=(jq)
    if [ ${#missing[@]} -gt 0 ]; then
        vm_log "installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
    serial=$work/serial.log
    monitor=$work/monitor.sock
    cp "$ovmf_vars" "$work/vars.fd"
    cp "$ovmf_code" "$work/code.fd"
    # qemu from the tools tree runs in mkosi's sandbox (its /usr is the tools tree's, the rest is
    # the host's): the OVMF files were copied into $work for that reason.
    qemu=(qemu-system-x86_64)
    if [ "$qemu_from" = tools ]; then
        local mkosi_py
        mkosi_py=$(ls -d "$repo"/image-build/.cache/mkosi-*/usr/lib/python3/dist-packages | tail -1)
        qemu=(env -C "$repo/image-build" PYTHONPATH="$mkosi_py" python3 -m mkosi sandbox -- qemu-system-x86_64)
    fi
    mllp_port=$(vm_free_port)
    http_port=$(vm_free_port)
    while [ "$http_port" = "$mllp_port" ]; do http_port=$(vm_free_port); done
    ssh_port=$(vm_free_port)
    while [ "$ssh_port" = "$mllp_port" ] || [ "$ssh_port" = "$http_port" ]; do ssh_port=$(vm_free_port); done
}

vm_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# vm_start ARGS...: the machine, firmware, network, serial and monitor; ARGS add the disks etc.
vm_start() {
    : > "$serial"
    vm_t0=$(date +%s.%N)
    "${qemu[@]}" \
        -machine q35 -accel tcg,thread="${TCG_THREAD:-multi}" -cpu max -m 1024 -smp 2 \
        -display none \
        -drive if=pflash,format=raw,unit=0,readonly=on,file="$work/code.fd" \
        -drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
        -nic user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:"$mllp_port"-:2575,hostfwd=tcp:127.0.0.1:"$http_port"-:8080,hostfwd=tcp:127.0.0.1:"$ssh_port"-:22 \
        -serial file:"$serial" \
        -monitor unix:"$monitor",server,nowait \
        "$@" \
        > "$work/qemu.log" 2>&1 &
    qemu_pid=$!
}

vm_running() { [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; }

# Seconds since $1 (date +%s.%N), one decimal.
vm_since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

# vm_monitor CMD: one HMP command on the monitor socket; prints qemu's answer (prompt lines removed).
vm_monitor() {
    python3 - "$monitor" "$1" <<'EOF' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
time.sleep(0.2)
try:
    s.recv(65536)                      # banner and first prompt
except socket.timeout:
    pass
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(1.0)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
        if out.rstrip().endswith(b"(qemu)"):
            break
except socket.timeout:
    pass
s.close()
text = out.decode(errors="replace").replace("\r", "")
lines = [l for l in text.split("\n") if l.strip() and not l.startswith("(qemu)") and sys.argv[2] not in l]
print("\n".join(l for l in lines if not l.startswith("\x1b")))
EOF
}

# vm_serial_size: bytes of the serial log so far (to wait for what comes after it).
vm_serial_size() { stat -c %s "$serial" 2>/dev/null || echo 0; }

# vm_wait PATTERN TIMEOUT [FROM_BYTE]: waits until PATTERN (grep -E) appears in the serial log after
# byte FROM_BYTE; prints the matching text. Fails (return 1) on timeout or when qemu exits.
vm_wait() {
    local pattern=$1 timeout=$2 from=${3:-0} t0 line
    t0=$(date +%s)
    while :; do
        if line=$(tail -c +"$((from + 1))" "$serial" 2>/dev/null | tr -d '\r' | grep -a -o -E -m1 "$pattern"); then
            printf '%s\n' "$line"
            return 0
        fi
        vm_running || { vm_log "qemu exited while waiting for /$pattern/" >&2; return 1; }
        [ $(( $(date +%s) - t0 )) -lt "$timeout" ] || { vm_log "no /$pattern/ within ${timeout}s" >&2; return 1; }
        sleep 0.5
    done
}

# vm_status: GET /api/v1/appliance/status (JSON), or nothing.
vm_status() { curl -sS --max-time 10 "http://127.0.0.1:$http_port/api/v1/appliance/status" 2>/dev/null || true; }

# vm_wait_status JQ_FILTER TIMEOUT: polls the appliance status until the jq filter is true; prints
# the last status seen. Return 1 on timeout.
vm_wait_status() {
    local filter=$1 timeout=$2 t0 st=
    t0=$(date +%s)
    while [ $(( $(date +%s) - t0 )) -lt "$timeout" ]; do
        st=$(vm_status)
        if [ -n "$st" ] && printf '%s' "$st" | jq -e "$filter" >/dev/null 2>&1; then
            printf '%s\n' "$st"
            return 0
        fi
        sleep 2
    done
    printf '%s\n' "$st"
    return 1
}

# vm_poweroff [TIMEOUT]: ACPI power button, then `quit` if the guest does not stop in time.
vm_poweroff() {
    local t_off timeout=${1:-90}
    vm_running || { qemu_pid=; return 0; }
    t_off=$(date +%s)
    vm_monitor system_powerdown >/dev/null
    while vm_running && [ $(( $(date +%s) - t_off )) -lt "$timeout" ]; do sleep 0.5; done
    if vm_running; then
        vm_log "guest did not power off within ${timeout}s; quitting qemu" >&2
        vm_monitor quit >/dev/null
        sleep 1
    else
        vm_log "guest powered off in $(( $(date +%s) - t_off ))s"
    fi
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
}

# vm_kill: end qemu now (for cleanup traps).
vm_kill() {
    if vm_running; then
        vm_monitor quit >/dev/null
        sleep 1
        kill "$qemu_pid" 2>/dev/null || true
    fi
}

# vm_cfg_medium IMG [FACILITY_ID] [AUTHORIZED_KEYS]: a HAKOBUNECFG registration medium (ext4) whose
# hakobune-facilities.toml registers the test sender (MSH-4 SEND, the public SS-MIX2 sample's), the
# same facility as the integration tests (src/hakobune/tests/it/harness.rs). First boot reads it.
# AUTHORIZED_KEYS: a file of OpenSSH public keys, put on the medium as ssh-authorized-keys (SSH on).
vm_cfg_medium() {
    local img=$1 id=${2:-9999999999} keys=${3:-} dir
    dir=$(mktemp -d)
    [ -z "$keys" ] || cp "$keys" "$dir/ssh-authorized-keys"
    cat > "$dir/hakobune-facilities.toml" <<EOF
# hw-tests registration medium (HAKOBUNECFG): the test sender
[[facility]]
id = "$id"
name = "hw-tests sender"
msh4 = ["SEND"]
[facility.rules.care_date_fields]
"RAS^O17" = "ORC-9"
EOF
    rm -f "$img"
    mkfs.ext4 -q -d "$dir" -L HAKOBUNECFG "$img" 8M
    rm -rf "$dir"
}

# vm_gpt_part IMAGE PARTLABEL: prints "OFFSET SIZE" in bytes of that partition.
vm_gpt_part() {
    sfdisk -J "$1" | jq -r --arg n "$2" '.partitiontable as $t | $t.partitions[] | select(.name == $n)
        | "\(.start * ($t.sectorsize // 512)) \(.size * ($t.sectorsize // 512))"'
}

# vm_image_version IMAGE: the firmware version of an image built by image-build/build (its
# BUILDINFO, else the file name hakobune_<version>.raw).
vm_image_version() {
    local img=$1 v=
    local info
    info=$(dirname "$img")/BUILDINFO
    if [ -f "$info" ] && grep -qx "image=$(basename "$img")" "$info"; then
        v=$(sed -n 's/^version=//p' "$info")
    fi
    if [ -z "$v" ]; then v=$(basename "$img" .raw); v=${v#hakobune_}; fi
    printf '%s\n' "$v"
}

# vm_dump_logs [LINES] [QEMU_LOG]: the tail of the serial console (escape sequences removed) and of
# qemu's own log, on stderr: what a failed test shows.
vm_dump_logs() {
    local lines=${1:-80} qlog=${2:-$work/qemu.log}
    echo "---- serial console (last $lines lines): $serial" >&2
    tail -n "$lines" "$serial" 2>/dev/null | tr -d '\r' | sed -e 's/\x1b\[[0-9;?!]*[a-zA-Z]//g' >&2 || true
    echo "---- qemu: $qlog" >&2
    tail -n 20 "$qlog" 2>/dev/null >&2 || true
}

# vm_fact NAME: the value of a boot fact (HAKOBUNE-FACT lines that hakobune-ready-report prints
# when the kernel command line has hakobune.facts), the last one printed.
# (A fact may share its line with what the console printed before it, a login prompt say.)
vm_fact() { tr -d '\r' < "$serial" | sed -n "s/.*HAKOBUNE-FACT $1 //p" | tail -n1; }
