#!/usr/bin/env bash
# Runs every fuzz target of hakobune-hl7 and hakobune-mllp for $FUZZ_SECONDS seconds each
# (default 60), after seeding the corpora from the SS-MIX2 samples in shared/ beside the clone.
# Exits non-zero when a target crashes (the reproducer is left in <crate>/fuzz/artifacts/<target>/).
#
#   src/hl7/fuzz/run-all.sh                 # 60 s per target
#   FUZZ_SECONDS=300 src/hl7/fuzz/run-all.sh
#
# Works on the stable toolchain: cargo-fuzz passes -Z flags (sanitizer, coverage), which
# RUSTC_BOOTSTRAP=1 lets stable rustc accept. Builds have debug assertions and overflow checks.
# No sanitizer by default (both crates forbid unsafe code, and it runs ~5x more inputs per second);
# FUZZ_SANITIZER=address turns AddressSanitizer on. Corpora and artifacts are gitignored; the sample
# files are copied in, never committed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hl7=$(cd "$here/.." && pwd)
mllp=$(cd "$here/../../mllp" && pwd)
repo=$(cd "$hl7/../.." && pwd)
samples=${SSMIX2_SAMPLES:-$repo/../shared/ssmix2-samples}
seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# Seed corpora: each sample as is (hl7) and MLLP-framed behind the target's two config bytes
# (0xFF: an 8 KiB limit; 0x07: 8-byte reads) (mllp).
mkdir -p "$hl7/fuzz/corpus/parse" "$mllp/fuzz/corpus/decode_frame"
if [ -d "$samples" ]; then
    n=0
    while IFS= read -r -d '' file; do
        n=$((n + 1))
        cp "$file" "$hl7/fuzz/corpus/parse/sample-$n"
        { printf '\377\007\013'; cat "$file"; printf '\034\015'; } >"$mllp/fuzz/corpus/decode_frame/sample-$n"
    done < <(find "$samples" -type f ! -name README.md ! -name DECODED_PREVIEW_utf8.txt -print0 | sort -z)
    echo "seeded $n sample files from $samples" >&2
else
    echo "warning: $samples not found, fuzzing from an empty corpus" >&2
fi

run() {
    local crate=$1 target=$2 dict=$3
    echo "== fuzzing $target in $crate for ${seconds}s" >&2
    (cd "$crate" && cargo fuzz run --sanitizer "$sanitizer" "$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$crate/fuzz/$dict" -print_final_stats=1)
}

status=0
run "$hl7" parse parse.dict || status=1
run "$mllp" decode_frame decode_frame.dict || status=1
if [ "$status" -ne 0 ]; then
    echo "fuzzing found a crash: see the artifacts/ folders above" >&2
fi
exit "$status"
