#!/usr/bin/env bash
# Builds chatd's libFuzzer targets (Tests/Fuzz) and runs them.
#
#   Tests/Fuzz/fuzz.sh [--build-only | --regression] [--no-build] [--debug] [--seconds N] [TARGET...]
#
# Default: build, then fuzz each target (all when none is named) for --seconds (FUZZ_SECONDS,
# 60) from its committed seed corpus Tests/Fuzz/Corpus/TARGET and what earlier runs found
# (FUZZ_CORPUS/TARGET, outside git). --regression runs the seed corpus once, without fuzzing.
# --no-build uses the fuzzers as last built. --debug builds without optimisation: half the CPU
# time of a cold release build, and 2 to 8 times fewer runs a second (the test suite's choice).
# A crash or a failed property is saved under FUZZ_ARTIFACTS/TARGET/ (crash-*, with the log
# beside it) and makes the exit status 1; every target still runs.
#
# Environment: FUZZ_SECONDS; FUZZ_SCRATCH (the build folder, .build-fuzz); FUZZ_ARTIFACTS
# (FUZZ_SCRATCH/artifacts); FUZZ_CORPUS (FUZZ_SCRATCH/corpus); SWIFT; FUZZ_ARGS (more libFuzzer
# flags for every target).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
swift="${SWIFT:-swift}"
scratch="${FUZZ_SCRATCH:-$root/.build-fuzz}"
artifacts="${FUZZ_ARTIFACTS:-$scratch/artifacts}"
corpus="${FUZZ_CORPUS:-$scratch/corpus}"
seconds="${FUZZ_SECONDS:-60}"
mode=fuzz
build_first=yes
configuration=release
targets=()

all_targets=(fuzz-ftp-command fuzz-ftp-lines fuzz-ftp-session fuzz-json fuzz-client-frame fuzz-names fuzz-byte-range fuzz-multipart)

while [ $# -gt 0 ]; do
    case "$1" in
        --build-only) mode=build ;;
        --regression) mode=regression ;;
        --no-build) build_first=no ;;
        --debug) configuration=debug ;;
        --seconds) seconds="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1") ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    [ -d "$here/Sources/$target" ] || { echo "fuzz.sh: no fuzz target $target (targets: ${all_targets[*]})" >&2; exit 2; }
done

# Every module, dependencies included, gets the coverage instrumentation and AddressSanitizer.
build=("$swift" build -c "$configuration" --package-path "$here" --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address)
# Without filtering, gold's warnings about ASan's local symbols are most of the output.
quiet() { grep -v -e 'ld.gold: warning: Cannot export local symbol' -e "^warning: '" || true; }
if [ "$build_first" = yes ]; then
    echo "fuzz.sh: building ${targets[*]}" >&2
    start=$(date +%s)
    if [ "${targets[*]}" = "${all_targets[*]}" ]; then
        "${build[@]}" 2>&1 | quiet || { echo "fuzz.sh: the build failed" >&2; exit 1; }
    else
        for target in "${targets[@]}"; do
            "${build[@]}" --product "$target" 2>&1 | quiet || { echo "fuzz.sh: building $target failed" >&2; exit 1; }
        done
    fi
    echo "fuzz.sh: built in $(( $(date +%s) - start )) s" >&2
fi
[ "$mode" != build ] || exit 0
bin="$("${build[@]}" --show-bin-path)"
for target in "${targets[@]}"; do
    [ -x "$bin/$target" ] || { echo "fuzz.sh: $bin/$target is not built (run without --no-build)" >&2; exit 1; }
done

# Per-target flags: lines past the 4096-byte limit for the FTP line readers, and dictionaries.
options() {
    case "$1" in
        fuzz-ftp-command) echo "-max_len=4200 -dict=$here/Dictionaries/ftp.dict" ;;
        fuzz-ftp-lines) echo "-max_len=9000" ;;
        fuzz-json|fuzz-client-frame) echo "-dict=$here/Dictionaries/json.dict" ;;
        fuzz-multipart) echo "-dict=$here/Dictionaries/multipart.dict" ;;
        fuzz-byte-range) echo "-dict=$here/Dictionaries/range.dict" ;;
    esac
}

# The Swift runtime's own backtracer would hold the crashing process for up to 30 s; libFuzzer
# reports the crash itself. LeakSanitizer is off: it reports objects held by Swift enums whose
# payload pointers carry tag bits (a global SocketAddress, for one), which it cannot see as
# pointers; Swift's reference counting leaves it little else to find here.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"

failed=()
for target in "${targets[@]}"; do
    seeds="$here/Corpus/$target"
    mkdir -p "$artifacts/$target"
    log="$artifacts/$target/last-run.log"
    if [ "$mode" = regression ]; then
        set -- -runs=0 "$seeds"
    else
        found="$corpus/$target"
        mkdir -p "$found"
        set -- -max_total_time="$seconds" -print_final_stats=1 "$found" "$seeds"
    fi
    status=0
    # shellcheck disable=SC2046
    "$bin/$target" $(options "$target") ${FUZZ_ARGS:-} -artifact_prefix="$artifacts/$target/" "$@" >"$log" 2>&1 || status=$?
    summary="$(grep -E "^#[0-9]+[[:space:]]+(DONE|INITED)" "$log" | tail -1 || true)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    if [ "$status" -eq 0 ]; then
        echo "$target: ok  ${summary:-no summary}${runs:+  runs: $runs}${rate:+  exec/s: $rate}"
    else
        failed+=("$target")
        echo "$target: FAILED (exit $status); log: $log"
        grep -E -m3 'property failed|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|Test unit written' "$log" | sed 's/^/    /' || true
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}; inputs under $artifacts" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets passed" >&2
