#!/usr/bin/env bash
# Hakobune's test command: installs what the tests need on a fresh machine, then runs the checks.
#
#   ./test.sh                 formatting, lints, every default test, a short fuzzing run
#   HAKOBUNE_SLOW_TESTS=1 ./test.sh     also the slow suites (many kill -9 cycles, longer fuzzing)
#   FUZZ_SECONDS=300 ./test.sh          fuzz each target longer (default 30 s, 300 s when slow)
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }

step "test dependencies"
# A real third-party MLLP client: mllp_send from the hl7 package on PyPI.
if ! python3 -c 'import hl7.client' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'hl7==0.4.5'
fi
python3 -c 'import hl7; print("python hl7", hl7.__version__)'
# A real NUT upsd with the dummy-ups driver, for the UPS shutdown tests; NSS's certutil and
# pk12util and openssl to give that upsd a TLS certificate (Debian's upsd keeps it in an NSS db).
# ssh-keygen and ssh (openssh-client): the appliance's SSH key checks and the in-guest SSH login.
if ! [ -x /lib/nut/upsd ] || ! [ -x /lib/nut/dummy-ups ] || ! [ -x /usr/bin/certutil ] || ! [ -x /usr/bin/openssl ] \
    || ! [ -x /usr/sbin/mkfs.fat ] || ! [ -x /usr/bin/ssh-keygen ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nut-server nut-client libnss3-tools openssl dosfstools openssh-client >/dev/null
fi
echo "NUT $(/lib/nut/upsd -V 2>&1 | head -1)"

step "shellcheck (appliance scripts)"
command -v shellcheck >/dev/null || { apt-get update -qq; apt-get install -y -qq shellcheck >/dev/null; }
shellcheck -x --severity=warning image-build/bin/* image-build/build image-build/mkosi.finalize \
    image-build/mkosi.postinst.chroot hw-tests/*.sh hw-tests/lib/*.sh firmware/make-*

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "signed firmware bundles (RAUC, SoftHSM2 as the HSM)"
# The checks with the appliance's own RAUC 1.13 (a trixie root made with mmdebstrap) are slow-tier.
if [[ "${HAKOBUNE_SLOW_TESTS:-0}" == "1" ]]; then
    hw-tests/firmware-signing.sh
else
    FIRMWARE_TEST_RAUC113=0 hw-tests/firmware-signing.sh
fi

step "appliance image: build, boot, signed update, power cut, RAID (qemu, software emulation)"
# The image's fast tier: a cold build takes ~2 min (mkosi's tools tree) plus the release binary,
# each qemu boot ~30-50 s. HAKOBUNE_SKIP_IMAGE=1 skips it on a machine without the Debian archive.
if [[ "${HAKOBUNE_SKIP_IMAGE:-0}" != "1" ]]; then
    HAKOBUNE_TEST_KEYRING=1 image-build/build
    hw-tests/boot.sh
    hw-tests/update.sh          # + rollback after three failed trial boots with HAKOBUNE_SLOW_TESTS=1
    hw-tests/power-cut.sh       # 1 cycle; 5 with HAKOBUNE_SLOW_TESTS=1
    hw-tests/raid.sh            # ~3 min: RAID1 made, degraded, disk replaced, rebuilt, reassembled
fi

step "fuzzing (cargo fuzz)"
if [[ "${HAKOBUNE_SLOW_TESTS:-0}" == "1" ]]; then
    export FUZZ_SECONDS="${FUZZ_SECONDS:-300}"
else
    export FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
fi
src/hl7/fuzz/run-all.sh

step "all checks passed"
