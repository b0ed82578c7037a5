#!/usr/bin/env bash
# hw-tests/firmware-signing.sh: signed update bundles (RAUC), host side.
#
# Builds throwaway keys (firmware/make-test-keys) and a small dummy root file system image in a
# temporary folder, makes bundles with firmware/make-bundle, and checks them with `rauc info`
# loading firmware/system.conf (only its keyring path and data directory redirected), i.e. with the
# appliance's own check-purpose and bundle-formats settings:
#   (a) a bundle signed by the test signer verifies; its signed compatible is the appliance's one,
#       and a bundle made for another compatible is told apart (rauc checks that at install)
#   (b) a wrong CA is refused, both ways (our bundle vs a stranger keyring, a stranger's bundle vs ours)
#   (c) corrupted signature bytes, and an edited signed manifest, are refused
#   (d) signing with the key inside a PKCS#11 token (SoftHSM2 standing in for the HSM): a key imported
#       into the token, and a key generated inside it (never on disk); wrong PIN / wrong object refused
#   (e) a certificate without extendedKeyUsage codeSigning is refused because of check-purpose=codesign
#   (f) system.conf's bundle-formats=-plain refuses a plain bundle
#   (g) payload tampering: not seen by `rauc info` (by design, dm-verity checks it at install, in the
#       guest); the signed verity root hash does catch it, checked here in user space by veritysetup
#   (h) make-bundle refuses versions outside YYYY.M.N; make-test-keys refuses a git work tree
#   (i) the verification side of (a)-(f) again with RAUC 1.13 from Debian trixie (what the appliance
#       runs), in a minimal trixie root made with mmdebstrap
# Every refusal must exit non-zero AND print the expected reason; each has a control that passes.
#
# Runs as root (apt-get when something is missing; mmdebstrap and chroot for (i)). ~25 s.
#   KEEP=1                       keep the temporary folder (keys, bundles, logs of every check)
#   FIRMWARE_TEST_ROOTFS=IMG     also bundle and check a real root image (timing of a real size)
#   FIRMWARE_TEST_RAUC113=0      skip (i), the checks with the appliance's RAUC 1.13 in a trixie root
# shellcheck disable=SC2317  # helpers such as info and verity are called through run_logged
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
fw="$repo/firmware"
t0=$(date +%s.%N)

# ---------------------------------------------------------------------------------------------
# Dependencies (Debian package names).
missing=()
command -v rauc >/dev/null || missing+=(rauc)
command -v mksquashfs >/dev/null || missing+=(squashfs-tools)
command -v softhsm2-util >/dev/null || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null || missing+=(opensc)
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v veritysetup >/dev/null || missing+=(cryptsetup-bin)
command -v openssl >/dev/null || missing+=(openssl)
openssl engine -t pkcs11 >/dev/null 2>&1 || missing+=(libengine-pkcs11-openssl)
if [[ "${FIRMWARE_TEST_RAUC113:-1}" == 1 ]]; then
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    command -v unshare >/dev/null || missing+=(util-linux)
fi
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
softhsm_module="$(dpkg -L softhsm2-common softhsm2 libsofthsm2 2>/dev/null | grep -m1 '/libsofthsm2\.so$' || true)"
[[ -n "$softhsm_module" && -f "$softhsm_module" ]] || softhsm_module=/usr/lib/softhsm/libsofthsm2.so
echo "$(rauc --version), $(openssl version | cut -d' ' -f1-2), softhsm2 $(softhsm2-util --version), module $softhsm_module"

work="$(mktemp -d /tmp/firmware-signing.XXXXXX)"
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
cd "$work"

# ---------------------------------------------------------------------------------------------
# Assertion helpers. Each runs a command, keeps its output in $work/log/N.out, and checks both the
# exit status and that the output matches an extended regular expression.
passed=0 failed=0 n=0
mkdir -p log
run_logged() { n=$((n + 1)); last="log/$n.out"; set +e; "$@" >"$last" 2>&1; rc=$?; set -e; }
report() {
    if [[ "$1" == ok ]]; then passed=$((passed + 1)); printf '  ok    %s\n' "$2"
    else failed=$((failed + 1)); printf '  FAIL  %s\n' "$2"; sed 's/^/        | /' "$last" | tail -n 15; fi
}
# expect_ok NAME REGEX CMD...: CMD exits 0 and prints REGEX.
expect_ok() {
    local name="$1" re="$2"; shift 2
    run_logged "$@"
    if ((rc == 0)) && { [[ -z "$re" ]] || grep -Eq -- "$re" "$last"; }; then report ok "$name"
    else echo "        (exit $rc; wanted exit 0 and /$re/)"; report fail "$name"; fi
}
# expect_refused NAME REGEX CMD...: CMD exits non-zero and prints REGEX (the reason).
expect_refused() {
    local name="$1" re="$2"; shift 2
    run_logged "$@"
    if ((rc != 0)) && grep -Eq -- "$re" "$last"; then report ok "$name (refused: $(grep -Eo -m1 -- "$re" "$last" | head -n1))"
    else echo "        (exit $rc; wanted a non-zero exit and /$re/)"; report fail "$name"; fi
}
# check NAME CMD...: a plain condition.
check() {
    local name="$1"; shift
    last=/dev/null
    if "$@"; then report ok "$name"; else report fail "$name"; fi
}
section() { printf '\n== %s\n' "$*"; }
finish() {
    echo
    echo "firmware-signing: $passed passed, $failed failed"
    if ((failed)); then exit 1; fi
    exit 0
}

# conf OUT KEYRING [drop-key]: firmware/system.conf with the keyring path and data directory
# redirected into $work; with drop-key, that key's line removed (for the controls).
conf() {
    local out="$1" keyring="$2" drop="${3:-}"
    sed -e "s|^path=.*|path=$keyring|" -e "s|^data-directory=.*|data-directory=$work/rauc-data|" \
        "$fw/system.conf" >"$out"
    if [[ -n "$drop" ]]; then sed -i "/^$drop=/d" "$out"; fi
}
# info CONF BUNDLE [more rauc options]: what the appliance checks before installing.
info() { local c="$1" b="$2"; shift 2; rauc info --conf "$c" "$@" "$b"; }

timings=()
# bundle NAME ARGS...: firmware/make-bundle, keeping its timing line.
bundle() {
    local out="$1"; shift
    if ! "$fw/make-bundle" --out "$out" "$@" >"log/make-$(basename "$out").out" 2>&1; then
        last="log/make-$(basename "$out").out"
        report fail "make-bundle $(basename "$out") (the checks that need it cannot run)"
        finish
    fi
    timings+=("$(grep -o 'rauc bundle took .*' "log/make-$(basename "$out").out" | sed "s|^|$(basename "$out"): |")")
}

# ---------------------------------------------------------------------------------------------
section "test keys and a dummy root file system"
keys="$work/keys"
"$fw/make-test-keys" --stranger --wrong-purpose "$keys" >/dev/null
check "signing key is mode 600" test "$(stat -c %a "$keys/signing.key.pem")" = 600
check "signer certificate has extendedKeyUsage codeSigning (critical)" \
    bash -c "openssl x509 -in '$keys/signing.cert.pem' -noout -ext extendedKeyUsage | tr -d '\n' | grep -q 'critical.*Code Signing'"
mkdir -p tree/etc tree/usr/lib
printf 'ID=hakobune\nVERSION_ID=test\n' >tree/usr/lib/os-release
# Incompressible content: an all-empty image squashes to one 4 KiB block, which rauc refuses.
head -c 2M /dev/urandom >tree/usr/lib/payload.bin
mkfs.ext4 -q -F -L root-test -d tree rootfs.img 16M >/dev/null
echo "  rootfs.img: $(stat -c %s rootfs.img) bytes"

conf sys.conf "$keys/keyring.pem"
conf stranger.conf "$keys/stranger/keyring.pem"
conf nopurpose.conf "$keys/keyring.pem" check-purpose
conf allformats.conf "$keys/keyring.pem" bundle-formats
compatible="$(sed -n 's/^compatible=//p' "$fw/system.conf")"
file_sign=(--cert "$keys/signing.cert.pem" --key "$keys/signing.key.pem")

# ---------------------------------------------------------------------------------------------
section "(a) test-signed bundle verifies against the test keyring with the appliance's system.conf"
bundle good.raucb --version 2026.11.0 --rootfs rootfs.img "${file_sign[@]}" --keyring "$keys/keyring.pem"
expect_ok "rauc info accepts the test-signed bundle" "Verified inline signature by '.*CN = Hakobune update TEST signer'" \
    info sys.conf good.raucb
check "bundle format is verity" grep -Eq "Bundle Format:[[:space:]]*verity" "$last"
expect_ok "signed manifest carries compatible=$compatible, version 2026.11.0" \
    "\"compatible\":\"$compatible\",\"version\":\"2026.11.0\"" info sys.conf good.raucb --output-format=json
expect_ok "same with --keyring on the command line (rauc info --keyring)" "Verified inline signature" \
    info stranger.conf good.raucb --keyring "$keys/keyring.pem"
# Why system.conf needs check-purpose=codesign: without it, OpenSSL's default (S/MIME) purpose
# refuses a certificate whose extendedKeyUsage is codeSigning only.
expect_refused "without check-purpose, a codeSigning-only signer is refused" "unsuitable certificate purpose" \
    info nopurpose.conf good.raucb
bundle other.raucb --version 2026.11.0 --rootfs rootfs.img "${file_sign[@]}" --compatible hakobune-appliance-aarch64
expect_ok "a bundle for another compatible is still validly signed" "Verified inline signature" info sys.conf other.raucb
# rauc info does not compare compatibles (1.8 and 1.13 alike); `rauc install` does, after the
# signature check and before writing any slot. Here: the compatible it would compare is the signed one.
run_logged info sys.conf other.raucb --output-format=json
check "...but its signed compatible is not the appliance's (rauc install refuses it: 'Compatible mismatch')" \
    bash -c "grep -q '\"compatible\":\"hakobune-appliance-aarch64\"' '$last' && ! grep -q '\"compatible\":\"$compatible\"' '$last'"

# ---------------------------------------------------------------------------------------------
section "(b) wrong CA"
expect_refused "our bundle against a stranger's keyring" "unable to get local issuer certificate" \
    info stranger.conf good.raucb
bundle stranger.raucb --version 2026.11.0 --rootfs rootfs.img \
    --cert "$keys/stranger/signing.cert.pem" --key "$keys/stranger/signing.key.pem"
expect_ok "control: the stranger's bundle verifies against the stranger's keyring" "Verified inline signature" \
    info stranger.conf stranger.raucb
expect_refused "the stranger's bundle against our keyring" "unable to get local issuer certificate" \
    info sys.conf stranger.raucb
expect_refused "make-bundle --keyring refuses (and removes) a bundle the keyring does not accept" "does NOT verify" \
    "$fw/make-bundle" --out stranger2.raucb --version 2026.11.0 --rootfs rootfs.img \
    --cert "$keys/stranger/signing.cert.pem" --key "$keys/stranger/signing.key.pem" --keyring "$keys/keyring.pem"
check "...and stranger2.raucb is gone" test ! -e stranger2.raucb

# ---------------------------------------------------------------------------------------------
section "(c) corrupted signature"
# A bundle ends with the CMS signature and its size (8 bytes, big-endian). The CMS ends with the
# RSA signature value; for a verity bundle the CMS also holds (signs) the manifest itself.
size=$(stat -c %s good.raucb)
sigsize=$((16#$(od -An -t x1 -j $((size - 8)) -N 8 good.raucb | tr -d ' \n')))
echo "  good.raucb: $size bytes, signature $sigsize bytes"
flip() { # flip FILE OFFSET: invert one byte in place
    local b; b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059  # the format is the octal escape of the new byte
    printf "\\$(printf '%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp good.raucb badsig.raucb
flip badsig.raucb $((size - 8 - 20))
check "the corrupted copy differs from the original" bash -c '! cmp -s good.raucb badsig.raucb'
expect_refused "one flipped byte in the signature value" "signature verification failed" info sys.conf badsig.raucb
# Edit the signed manifest inside the CMS: same length, another compatible (last letter changed).
off=$(grep -obUa "compatible=$compatible" good.raucb | tail -n1 | cut -d: -f1)
check "the signed manifest is found inside the signature block" test "${off:-0}" -gt $((size - 8 - sigsize))
cp good.raucb badmanifest.raucb
forged="${compatible%?}$([[ "${compatible: -1}" == X ]] && echo Y || echo X)"
printf 'compatible=%s' "$forged" | dd of=badmanifest.raucb bs=1 seek="$off" conv=notrunc status=none
check "...the edited copy now claims compatible=$forged" grep -qa "compatible=$forged" badmanifest.raucb
expect_refused "compatible edited inside the signed manifest" "signature verification failed" \
    info sys.conf badmanifest.raucb
cp good.raucb truncated.raucb
truncate -s $((size - 100)) truncated.raucb
expect_refused "truncated bundle" "[Ff]ailed|[Ee]rror|[Ii]nvalid" info sys.conf truncated.raucb

# ---------------------------------------------------------------------------------------------
section "(d) signing with the key in a PKCS#11 token (SoftHSM2 standing in for the HSM)"
export SOFTHSM2_CONF="$work/softhsm2.conf"
mkdir -p "$work/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/tokens" >"$SOFTHSM2_CONF"
pin=246810
softhsm2-util --init-token --free --label hakobune-release --pin "$pin" --so-pin 13579135 >/dev/null
# d1: the test signing key imported into the token (softhsm2-util --import).
softhsm2-util --import "$keys/signing.key.pem" --token hakobune-release --label imported-signer --id 01 --pin "$pin" >/dev/null
# d2: a key generated inside the token: it never exists as a file. Its CSR goes to the (test) CA.
pkcs11-tool --module "$softhsm_module" --token-label hakobune-release --login --pin "$pin" \
    --keypairgen --key-type rsa:3072 --label hsm-signer --id 02 >/dev/null 2>&1
cat >engine.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
MODULE_PATH = $softhsm_module
EOF
OPENSSL_CONF="$work/engine.cnf" openssl req -new -engine pkcs11 -keyform engine \
    -key "pkcs11:token=hakobune-release;object=hsm-signer;type=private;pin-value=$pin" \
    -subj "/O=Hakobune TEST ONLY/CN=Hakobune TEST HSM signer" -out hsm.csr >/dev/null 2>&1
"$fw/make-test-keys" --sign-csr hsm.csr --out "$work/hsm-signer.cert.pem" "$keys" >/dev/null
run_logged pkcs11-tool --module "$softhsm_module" --token-label hakobune-release --login --pin "$pin" --list-objects --type privkey
check "the token holds both private keys, marked sensitive" \
    bash -c "grep -c 'Private Key Object' '$last' | grep -qx 2 && grep -q 'sensitive' '$last'"
export RAUC_PKCS11_MODULE="$softhsm_module"
uri1="pkcs11:token=hakobune-release;object=imported-signer;type=private"
uri2="pkcs11:token=hakobune-release;object=hsm-signer;type=private"
RAUC_PKCS11_PIN=$pin bundle hsm-imported.raucb --version 2026.11.1 --rootfs rootfs.img \
    --cert "$keys/signing.cert.pem" --pkcs11 "$uri1"
expect_ok "bundle signed via PKCS#11 (imported key) verifies" "Verified inline signature by '.*CN = Hakobune update TEST signer'" \
    info sys.conf hsm-imported.raucb
RAUC_PKCS11_PIN=$pin bundle hsm.raucb --version 2026.11.2 --rootfs rootfs.img \
    --cert "$work/hsm-signer.cert.pem" --pkcs11 "$uri2" --keyring "$keys/keyring.pem"
expect_ok "bundle signed via PKCS#11 (key generated in the token) verifies" \
    "Verified inline signature by '.*CN = Hakobune TEST HSM signer'" info sys.conf hsm.raucb
expect_refused "the token-signed bundle against a stranger's keyring" "unable to get local issuer certificate" \
    info stranger.conf hsm.raucb
expect_refused "wrong PIN" "failed to load PKCS11 private key" \
    env RAUC_PKCS11_PIN=999999 "$fw/make-bundle" --out wrongpin.raucb --version 2026.11.3 --rootfs rootfs.img \
    --cert "$work/hsm-signer.cert.pem" --pkcs11 "$uri2"
expect_refused "an object the token does not hold" "failed to load PKCS11 private key" \
    env RAUC_PKCS11_PIN=$pin "$fw/make-bundle" --out noobject.raucb --version 2026.11.3 --rootfs rootfs.img \
    --cert "$work/hsm-signer.cert.pem" --pkcs11 "pkcs11:token=hakobune-release;object=no-such-key;type=private"
expect_refused "certificate and token key that do not belong together" "[Ff]ailed to create signature|does not match|key values mismatch" \
    env RAUC_PKCS11_PIN=$pin "$fw/make-bundle" --out mismatch.raucb --version 2026.11.3 --rootfs rootfs.img \
    --cert "$keys/signing.cert.pem" --pkcs11 "$uri2"
expect_refused "make-bundle without a PIN and no terminal" "RAUC_PKCS11_PIN is not set" \
    env -u RAUC_PKCS11_PIN "$fw/make-bundle" --out nopin.raucb --version 2026.11.3 --rootfs rootfs.img \
    --cert "$work/hsm-signer.cert.pem" --pkcs11 "$uri2" </dev/null

# ---------------------------------------------------------------------------------------------
section "(e) signer certificate without extendedKeyUsage codeSigning"
bundle wrongpurpose.raucb --version 2026.11.0 --rootfs rootfs.img \
    --cert "$keys/wrong-purpose.cert.pem" --key "$keys/wrong-purpose.key.pem"
expect_refused "refused with check-purpose=codesign" "unsuitable certificate purpose" info sys.conf wrongpurpose.raucb
check "...for the reason that the EKU lacks code signing" grep -q "does not specify extended key usage code signing" "$last"
expect_ok "control: accepted by the same keyring without check-purpose" "Verified inline signature" \
    info nopurpose.conf wrongpurpose.raucb

# ---------------------------------------------------------------------------------------------
section "(f) bundle-formats=-plain"
mkdir -p plain
cp rootfs.img plain/rootfs.img
printf '[update]\ncompatible=%s\nversion=2026.11.0\n\n[image.rootfs]\nfilename=rootfs.img\n' "$compatible" >plain/manifest.raucm
rauc bundle "${file_sign[@]}" --mksquashfs-args="-comp zstd -Xcompression-level 3" plain plain.raucb >/dev/null 2>&1
expect_refused "a validly signed plain bundle is refused" "Bundle format 'plain' not allowed" info sys.conf plain.raucb
expect_ok "control: accepted without bundle-formats=-plain" "Verified detached signature" info allformats.conf plain.raucb

# ---------------------------------------------------------------------------------------------
section "(g) payload tampering of a verity bundle"
run_logged info sys.conf good.raucb
salt=$(sed -n "s/^[[:space:]]*Verity Salt:[[:space:]]*'\(.*\)'/\1/p" "$last")
root=$(sed -n "s/^[[:space:]]*Verity Hash:[[:space:]]*'\(.*\)'/\1/p" "$last")
vsize=$(sed -n "s/^[[:space:]]*Verity Size:[[:space:]]*//p" "$last")
data=$((size - 8 - sigsize - vsize))
check "verity parameters read from the signed manifest" test -n "$salt" -a -n "$root" -a "$((data % 4096))" = 0
verity() { veritysetup verify --no-superblock --hash=sha256 --data-block-size=4096 --hash-block-size=4096 \
    --data-blocks=$((data / 4096)) --hash-offset="$data" --salt="$salt" "$1" "$1" "$root"; }
expect_ok "control: the untouched payload matches the signed root hash" "" verity good.raucb
cp good.raucb badpayload.raucb
flip badpayload.raucb $((data / 2))
run_logged info sys.conf badpayload.raucb
if ((rc == 0)); then
    echo "  note  rauc info still accepts the payload-tampered bundle (expected: only the manifest is signed; dm-verity checks the payload at install, in the guest)"
else
    echo "  note  rauc info refused the payload-tampered bundle (exit $rc): newer behaviour than expected"
fi
expect_refused "the tampered payload does not match the signed root hash" "Verification failed|Verification of data area failed" \
    verity badpayload.raucb

# ---------------------------------------------------------------------------------------------
# The appliance runs RAUC 1.13 (Debian trixie), this host 1.8. A minimal trixie root with rauc
# (mmdebstrap, ~15 s) repeats the verification side with the appliance's RAUC: the same
# system.conf, the same bundles (made by 1.8), copied to the same absolute paths inside it.
if [[ "${FIRMWARE_TEST_RAUC113:-1}" == 1 ]]; then
    section "(i) the same bundles and system.conf under the appliance's RAUC (Debian trixie)"
    mirror="$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)"
    [[ -n "$mirror" ]] || mirror="$(awk '$1 == "deb" && $2 ~ /debian$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)"
    [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
    troot="$work/trixie"
    t1=$(date +%s.%N)
    run_logged mmdebstrap --variant=essential --include=rauc,squashfs-tools trixie "$troot" "$mirror"
    if ((rc != 0)); then
        report fail "mmdebstrap a trixie root with rauc from $mirror (skip this part with FIRMWARE_TEST_RAUC113=0)"
        finish
    fi
    timings+=("$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "trixie root with rauc (mmdebstrap): %.1f s", b - a }')")
    mkdir -p "$troot$work"
    cp -a keys ./*.conf ./*.raucb "$troot$work/"
    # proc in a private mount namespace (unsquashfs needs it): gone when the command ends.
    r13() { unshare --mount --pid --fork --mount-proc="$troot/proc" chroot "$troot" rauc "$@"; }
    expect_ok "appliance RAUC version" "^rauc 1\.(1[3-9]|[2-9][0-9])" r13 --version
    echo "  $(cat "$last")"
    expect_ok "1.13 loads system.conf and accepts the test-signed bundle" "Verified inline signature" \
        r13 info --conf "$work/sys.conf" "$work/good.raucb"
    expect_ok "1.13 accepts the bundle signed in the token (key generated there)" \
        "Verified inline signature by '.*CN = Hakobune TEST HSM signer'" r13 info --conf "$work/sys.conf" "$work/hsm.raucb"
    expect_refused "1.13: our bundle against a stranger's keyring" "unable to get local issuer certificate" \
        r13 info --conf "$work/stranger.conf" "$work/good.raucb"
    expect_refused "1.13: the stranger's bundle against our keyring" "unable to get local issuer certificate" \
        r13 info --conf "$work/sys.conf" "$work/stranger.raucb"
    expect_refused "1.13: corrupted signature value" "signature verification failed" \
        r13 info --conf "$work/sys.conf" "$work/badsig.raucb"
    expect_refused "1.13: edited signed manifest" "signature verification failed" \
        r13 info --conf "$work/sys.conf" "$work/badmanifest.raucb"
    expect_refused "1.13: signer without codeSigning under check-purpose=codesign" "unsuitable certificate purpose" \
        r13 info --conf "$work/sys.conf" "$work/wrongpurpose.raucb"
    expect_ok "1.13 control: same bundle accepted without check-purpose" "Verified inline signature" \
        r13 info --conf "$work/nopurpose.conf" "$work/wrongpurpose.raucb"
    expect_refused "1.13: codeSigning signer without check-purpose" "unsuitable certificate purpose" \
        r13 info --conf "$work/nopurpose.conf" "$work/good.raucb"
    expect_refused "1.13: plain bundle under bundle-formats=-plain" "Bundle format 'plain' not allowed" \
        r13 info --conf "$work/sys.conf" "$work/plain.raucb"
    expect_ok "1.13 control: plain bundle accepted without bundle-formats" "Verified detached signature" \
        r13 info --conf "$work/allformats.conf" "$work/plain.raucb"
    run_logged r13 info --conf "$work/sys.conf" "$work/other.raucb"
    if ((rc == 0)); then
        echo "  note  1.13 rauc info does not compare compatibles either (other.raucb accepted): rauc install does"
    else
        echo "  note  1.13 rauc info refused other.raucb (exit $rc): $(tail -n1 "$last")"
    fi
fi

# ---------------------------------------------------------------------------------------------
section "(h) script guards"
for v in 2026.03.0 2026.13.0 2026.0.0 v2026.11.0 2026.11 2026.11.0-rc1 2026.11.01 1999.1.0; do
    expect_refused "make-bundle refuses version $v" "does not follow YYYY.M.N" \
        "$fw/make-bundle" --out "v.raucb" --version "$v" --rootfs rootfs.img "${file_sign[@]}"
done
expect_refused "make-bundle refuses --key and --pkcs11 together" "exactly one of" \
    "$fw/make-bundle" --out v.raucb --version 2026.11.0 --rootfs rootfs.img "${file_sign[@]}" --pkcs11 "$uri1"
expect_refused "make-bundle does not overwrite a bundle" "already exists" \
    "$fw/make-bundle" --out good.raucb --version 2026.11.0 --rootfs rootfs.img "${file_sign[@]}"
expect_refused "make-test-keys refuses a folder inside the repository" "refusing to write keys into a git work tree" \
    "$fw/make-test-keys" "$repo/firmware/out/keys"
check "...and created nothing there" test ! -e "$repo/firmware/out/keys"
check "no rauc data directory was created on the host by these checks" test ! -e /var/lib/rauc/central.raucs

# ---------------------------------------------------------------------------------------------
if [[ -n "${FIRMWARE_TEST_ROOTFS:-}" ]]; then
    section "a real root image: $FIRMWARE_TEST_ROOTFS"
    bundle real.raucb --version 2026.11.9 --rootfs "$FIRMWARE_TEST_ROOTFS" "${file_sign[@]}"
    expect_ok "the bundle of the real root image verifies" "Verified inline signature" info sys.conf real.raucb
    echo "  real.raucb: $(stat -c %s real.raucb) bytes from a $(stat -c %s "$FIRMWARE_TEST_ROOTFS")-byte image"
fi

# ---------------------------------------------------------------------------------------------
section "timings"
printf '  %s\n' "${timings[@]}"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  whole test: %.1f s\n", b - a }'
finish
