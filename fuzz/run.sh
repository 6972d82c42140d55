#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time, then prints per target the
# executions, exec/s, coverage (libFuzzer's final cov:/ft:) and crashes found.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]     default 60
#
# Environment:
#   FUZZ_TARGETS="reply_reader timestamp"  run only these (default: every target)
#   FUZZ_SANITIZER=address                 default none: the parsers are safe Rust, and
#                                          without ASan a run does ~6x the executions
#   FUZZ_KEEP_GOING=1                      do not stop at the first crash (libFuzzer's fork
#                                          mode with -ignore_crashes): counts them all
#
# Each target runs on a scratch copy of fuzz/corpus/<target> (under fuzz/scratch/), so
# the committed seed corpus never grows. A crash leaves its input in
# fuzz/artifacts/<target>/; the script prints the command that reproduces it and exits 1.
#
# Needs cargo-fuzz 0.13.2 (installed from crates.io when missing) and a C++ compiler for
# libFuzzer. cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
set -euo pipefail

CARGO_FUZZ_VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
seconds=${1:-60}
sanitizer=${FUZZ_SANITIZER:-none}
keep_going=${FUZZ_KEEP_GOING:-0}

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]   (a positive whole number, default 60)" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

fuzz=(cargo fuzz)
build_flags=(--fuzz-dir fuzz --sanitizer "$sanitizer")

if [[ -n ${FUZZ_TARGETS:-} ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir fuzz)
fi

echo "== building ${targets[*]} (sanitizer: $sanitizer)"
for target in "${targets[@]}"; do
    "${fuzz[@]}" build "${build_flags[@]}" "$target"
done

summary=()
crashed=()
for target in "${targets[@]}"; do
    scratch=fuzz/scratch/$target
    artifacts=fuzz/artifacts/$target
    log=fuzz/scratch/$target.log
    rm -rf "$scratch"
    mkdir -p "$scratch" "$artifacts"
    if [[ -d fuzz/corpus/$target ]]; then
        cp -R "fuzz/corpus/$target/." "$scratch/"
    fi
    libfuzzer=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10)
    if [[ -f fuzz/dictionaries/$target.dict ]]; then
        libfuzzer+=(-dict="fuzz/dictionaries/$target.dict")
    fi
    if [[ $keep_going == 1 ]]; then
        libfuzzer+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    # Artifacts already there are earlier findings: count only this run's.
    marker=$(mktemp)
    echo "== fuzzing $target for ${seconds}s"
    status=0
    "${fuzz[@]}" run "${build_flags[@]}" "$target" "$scratch" -- "${libfuzzer[@]}" \
        >"$log" 2>&1 || status=$?

    # Final stats: "stat::..." lines, else the last "#N ... cov: C ft: F ... exec/s: E" line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    [[ -n $execs ]] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    [[ -n $rate ]] || rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
    mapfile -t found < <(find "$artifacts" -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) \
        -newer "$marker" | sort)
    rm -f "$marker"
    if ((status != 0)) && ((${#found[@]} == 0)); then
        echo "fuzz target $target failed to run (exit $status); the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit "$status"
    fi
    summary+=("$(printf '%-14s %12s %9s %7s %7s %8s' "$target" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${#found[@]}")")
    if ((${#found[@]} > 0)); then
        crashed+=("$target")
        echo "!! $target: ${#found[@]} crashing input(s); the log is $log"
        grep -m 3 -E "panicked at|^thread '|ERROR: libFuzzer" "$log" | sed 's/^/   /' || true
        for input in "${found[@]}"; do
            echo "   input:     $input"
            echo "   reproduce: (cd $root && RUSTC_BOOTSTRAP=1 cargo fuzz run" \
                "${build_flags[*]} $target $input)"
        done
        echo "   minimize:  (cd $root && RUSTC_BOOTSTRAP=1 cargo fuzz tmin" \
            "${build_flags[*]} $target ${found[0]})"
    fi
done

echo
printf '%-14s %12s %9s %7s %7s %8s\n' target executions exec/s cov ft crashes
printf '%s\n' "${summary[@]}"
if ((${#crashed[@]} > 0)); then
    echo "crashes in: ${crashed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
