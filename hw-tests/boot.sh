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
#   Common parts: hw-tests/lib/vm.sh.
# - first boot as on a real box: a HAKOBUNECFG registration medium (small ext4 image, second
#   virtio disk) holds hakobune-facilities.toml with one test sender; hakobune-firstboot writes
#   /var/lib/hakobune/etc/hakobune.toml (image template + that facility), keys and the one-time
#   token, which must appear on the serial console;
# - waits (BOOT_TIMEOUT, default 180 s) for HAKOBUNE-READY on the serial console (printed by
#   hakobune-ready.service once hakobune.service reported READY=1; it carries version and slot),
#   then GET /healthz must answer with the test facility, one public SS-MIX2 sample sent with
#   `hakobune send` must get AA, and /api/v1/appliance/status must show firmware slot A running the
#   image's version (hakobune-firmware-status reads the ESP's boot entries);
# - the guest's facts (kernel command line hakobune.facts: it prints HAKOBUNE-FACT lines after READY)
#   must show the hardening of docs/hardening.md: root ro, only 2575/8080 listening on the
#   network, no sshd, compilers or password accounts, firewall, sysctls, lockdown, journal on the
#   data file system, NUT passwords of this box, timesyncd, the server's user, no failed unit;
# - powers the guest off (ACPI system_powerdown, then `quit` if it does not stop in time).
# Prints boot-to-ready (qemu start to the READY line). Exits non-zero on any failure, with the
# tail of the serial log.
#
# Knobs: UPS_DRIVER=keep (see below), BOOT_REPORT=1 (the guest prints systemd-analyze time,
# critical chain, blame, failed units), EXTRA_CMDLINE="...", EXTRA_UNIT=FILE.service,
# KEEP_LOGS=yes, TCG_THREAD=single|multi, EXPECT_VERSION (default: the image's BUILDINFO/name).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
boot_timeout=${BOOT_TIMEOUT:-180}
# shellcheck source=lib/vm.sh
. "$here/lib/vm.sh"
export vm_name=boot.sh
vm_log_lines=60
vm_inputs "${1:-}"
trap vm_exit EXIT
fail() { echo "boot.sh: FAIL: $*" >&2; exit 1; }

vm_setup
expect_version=${EXPECT_VERSION:-$(vm_image_version "$image")}

# The registration medium: the test sender, registered by first boot (the image ships none).
# With a vendor's SSH key (made here): SSH on, keys only (raid.sh boots without: SSH off).
command -v ssh >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-client >/dev/null
ssh-keygen -q -t ed25519 -N '' -C hw-tests -f "$work/vendor_key"
vm_cfg_medium "$work/cfg.img" 9999999999 "$work/vendor_key.pub"

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
# hakobune.facts: the guest prints what it is like inside (checked below, docs/hardening.md).
EXTRA_CMDLINE="panic_on_oops=1 panic=-1 hakobune.facts ${EXTRA_CMDLINE:-}"
smbios_cmdline=(-smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=${EXTRA_CMDLINE//,/,,}")

echo "boot.sh: $("${qemu[@]}" --version | head -1)"
echo "boot.sh: $image ($(du --apparent-size -m "$image" | cut -f1) MB apparent, $(du -m "$image" | cut -f1) MB allocated), version $expect_version"
echo "boot.sh: MLLP -> 127.0.0.1:$mllp_port, HTTP -> 127.0.0.1:$http_port, logs in $work"

vm_start -no-reboot \
    -drive if=none,id=disk,format=raw,file="$image",snapshot=on \
    -device virtio-blk-pci,drive=disk,bootindex=1 \
    -drive if=none,id=cfg,format=raw,file="$work/cfg.img",readonly=on \
    -device virtio-blk-pci,drive=cfg \
    "${smbios_cmdline[@]}" "${smbios_unit[@]}"

ready_line=$(vm_wait 'HAKOBUNE-READY.*' "$boot_timeout") || fail "no HAKOBUNE-READY"
boot_to_ready=$(vm_since "$vm_t0")
echo "boot.sh: $ready_line"
echo "boot.sh: boot-to-ready ${boot_to_ready}s (qemu start to the console line; guest uptime is kernel start)"
case $ready_line in *"version=$expect_version slot=A "*) ;; *) fail "READY line does not say version=$expect_version slot=A" ;; esac

# First boot showed the one-time token on the serial console (and only there: not checked here).
tr -d '\r' < "$serial" | grep -a -q 'one-time administrator token' || fail "no first-boot token banner on the serial console"
token=$(tr -d '\r' < "$serial" | grep -a -A2 'one-time administrator token' | grep -a -o -E '[A-Z2-7]{4}(-[A-Z2-7]{1,4}){7}' | head -1 || true)
[ -n "$token" ] || fail "the first-boot banner shows no token"
echo "boot.sh: first boot: token banner on the serial console (token of $(printf '%s' "$token" | tr -d '-' | wc -c) characters)"

health=$(curl -sS --max-time 20 "http://127.0.0.1:$http_port/healthz") || fail "GET /healthz did not answer"
echo "boot.sh: /healthz: $health"
case $health in *'"status":"ok"'*) ;; *) fail "/healthz status is not ok" ;; esac
case $health in *'"id":"9999999999"'*) ;; *) fail "test facility not registered (HAKOBUNECFG medium at first boot)" ;; esac

ack=$("$hakobune" send --to "127.0.0.1:$mllp_port" --timeout 60 "$sample" 2>&1) || fail "hakobune send failed: $ack"
echo "boot.sh: send: ${ack##*: }"
case $ack in *'MSA|AA|'*) ;; *) fail "no AA for the sample: $ack" ;; esac

# The firmware slot status (hakobune-firmware-status: at 10 s and once boot-complete.target is reached).
st=$(vm_wait_status ".firmware.booted_slot == \"A\" and .firmware.running_version == \"$expect_version\"" 90) ||
    fail "appliance status does not show slot A running $expect_version: $(printf '%s' "$st" | jq -c .firmware 2>/dev/null || echo "$st")"
echo "boot.sh: firmware: $(printf '%s' "$st" | jq -c '{booted_slot: .firmware.booted_slot, running_version: .firmware.running_version, last_update: .firmware.last_update.result}')"

# Inside the guest (docs/hardening.md, the rows "proven by hw-tests/boot.sh"): what listens, what
# is installed, what is writable, the kernel's settings. The guest prints these facts a few seconds
# after READY.
vm_wait 'HAKOBUNE-FACTS-END' 120 >/dev/null || fail "no boot facts on the console"
want() {  # want NAME EXPECTED: the fact must be exactly EXPECTED
    local got
    got=$(vm_fact "$1")
    [ "$got" = "$2" ] || fail "in the guest, $1 is '$got', expected '$2'"
}
case "$(vm_fact root_options)," in ro,*) ;; *) fail "the root file system is not read-only: $(vm_fact root_options)" ;; esac
# Listening TCP sockets: on the network only MLLP 2575 and HTTP 8080; upsd on loopback only.
for sock in $(vm_fact listening); do
    case $sock in
        0.0.0.0:2575 | 0.0.0.0:8080 | 0.0.0.0:22 | "[::]:22" | 127.0.0.1:* | "[::1]:"*) ;;
        *) fail "the guest listens on $sock (only 2575, 8080 and SSH, enabled here, may face the network)" ;;
    esac
done
for sock in 0.0.0.0:2575 0.0.0.0:8080 127.0.0.1:3493; do
    case " $(vm_fact listening) " in *" $sock "*) ;; *) fail "nothing listens on $sock: $(vm_fact listening)" ;; esac
done
want sshd active
want ssh_host_keys_in_image ""
want compilers ""
want password_accounts ""
case $(vm_fact nft_tables) in *"table inet hakobune"*) ;; *) fail "the firewall is not loaded: $(vm_fact nft_tables)" ;; esac
want sysctl:kernel.kptr_restrict 2
want sysctl:kernel.dmesg_restrict 1
want sysctl:kernel.unprivileged_bpf_disabled 1
want sysctl:kernel.kexec_load_disabled 1
want sysctl:kernel.sysrq 0
want sysctl:fs.suid_dumpable 0
want sysctl:fs.protected_regular 2
want sysctl:net.ipv4.conf.all.accept_redirects 0
want sysctl:net.ipv4.conf.all.rp_filter 1
want sysctl:net.ipv4.tcp_syncookies 1
case $(vm_fact lockdown) in *"[integrity]"*) ;; *) fail "kernel lockdown is not integrity: $(vm_fact lockdown)" ;; esac
want journal_persistent yes
case $(vm_fact journal_mount) in *"[/journal] ext4") ;; *) fail "the journal is not on the data file system: $(vm_fact journal_mount)" ;; esac
case $(vm_fact data_mode) in "single /dev/"*) ;; *) fail "data_mode '$(vm_fact data_mode)' (no data disks here: the system disk's partition)" ;; esac
want nut_placeholders ""
want nut_users_mode "640 root:nut"
case $(vm_fact ups_password_mode) in "600 hakobune:hakobune "*) ;; *) fail "the server's UPS password file: $(vm_fact ups_password_mode)" ;; esac
want timesyncd active
want server_user hakobune
want data_owners "root:hakobune 750 hakobune:hakobune 750 root:root 700 root:root 700 root:systemd-journal 2755"
want units_failed ""
# SSH as the vendor enabled it: the key logs in as root, passwords are not even offered.
ssh_opts=(-p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=30)
who=$(ssh "${ssh_opts[@]}" -i "$work/vendor_key" root@127.0.0.1 'id -un; findmnt -n -o OPTIONS /' 2>"$work/ssh.log" | tr '\n' ' ') ||
    fail "SSH with the vendor's key failed: $(tail -n 5 "$work/ssh.log")"
case $who in "root ro,"*) ;; *) fail "SSH login with the key: '$who'" ;; esac
methods=$(ssh "${ssh_opts[@]}" -v -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
    root@127.0.0.1 true 2>&1 | sed -n 's/.*Authentications that can continue: //p' | head -n1 | tr -d '\r ') || true
[ "$methods" = publickey ] || fail "SSH offers '$methods' to a client without the key (publickey only expected)"
tr -d '\r' < "$serial" | grep -a -q 'hakobune-ssh: new host key' || fail "no host key fingerprint on the console"
echo "boot.sh: SSH (enabled with a key at first boot): key login as root works, only publickey offered, host key made on the box"
echo "boot.sh: inside: root ro; listening $(vm_fact listening); no compilers or password logins; firewall, sysctls, lockdown=integrity; journal persistent; NUT passwords of this box; server runs as hakobune"

if [ "${BOOT_REPORT:-0}" = 1 ]; then
    t_rep=$(date +%s)
    while ! grep -aq -- '---- end of boot report' "$serial" && [ $(( $(date +%s) - t_rep )) -lt 240 ]; do sleep 1; done
    tr -d '\r' < "$serial" | sed -e 's/\x1b\[[0-9;?!]*[a-zA-Z]//g' | sed -n '/---- boot report/,/---- end of boot report/p'
fi

vm_poweroff 90

echo "PASS boot_to_ready_s=$boot_to_ready"
