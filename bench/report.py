"""Turns the raw lines of one `make bench` run into the table and the target verdicts.

    python3 bench/report.py table RAW_FILE [SAMPLES_DIR] -> the report on stdout
    python3 bench/report.py choose RAW_FILE         -> "mock" or "nginx" (+ reason on stderr)
    python3 bench/report.py hyperfine JSON LABEL... -> RESULT lines from hyperfine's export

Raw lines (written by run.sh and the benchmark programs):
    RESULT <label> n=.. median_us=.. p99_us=.. rps=.. [mean_us=.. errors=..]
    RSS <label> refreshes=.. rss_before_kib=.. rss_after_kib=.. hwm_before_kib=.. hwm_after_kib=..
    cached_path threads=N ns_per_call=X calls_per_s=Y        (bench/session_cached.c)
    INFO <key> <text>                                        (machine, server, library)
Labels are <proto>/<placement>/<row>, e.g. https/pinned/lib_client. Standard library only.
"""

import json
import os
import statistics
import sys

# Ratio of the mock's mean wrk latency (1/req/s: one connection) to nginx's up to which
# the mock counts as "not the bottleneck" (in every protocol and placement).
MOCK_MAX_SLOWDOWN = 1.10

TARGETS = {
    "c_vs_libcurl": 1.25,  # av_client_refresh median / libcurl keep-alive median
    "py_vs_requests": 0.25,  # binding median / requests.Session median
    "oneshot_vs_client": 1.2,  # av_refresh (later calls) / av_client_refresh
    "cached_ns": 250.0,  # session cached path, ns/call, one thread
    "cached_scaling": 1.6,  # calls/s with 2 threads / with 1
    "size_mib": 3.0,  # stripped cdylib
    "rss_growth_mib": 2.0,  # over 100 000 refreshes
}
ALLOWED_DEPS = ("linux-vdso", "libc.so", "libm.so", "libgcc_s", "ld-linux")

ROWS = [
    # (row id, language, description, peer row id or None)
    ("limit", "-", "limit: wrk -c1 -t1, keep-alive", None),
    ("libcurl", "C", "libcurl, one easy handle (peer)", "libcurl"),
    ("lib_client", "C", "av_client_refresh, one client", "libcurl"),
    ("lib_oneshot/first", "C", "av_refresh, first call", None),  # see the cold start
    ("lib_oneshot", "C", "av_refresh, later calls", "libcurl"),
    ("requests", "Py", "requests.Session (peer)", "requests"),
    ("py_binding", "Py", "binding Client.refresh", "requests"),
    ("curl_cli", "sh", "curl command per refresh", None),
]
PLACEMENTS = [("pinned", "client and server on CPU 0"), ("unpinned", "left to the scheduler")]
PROTOS = ["http", "https"]


def parse_fields(words):
    out = {}
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def pooled(label, rounds, samples_dir):
    """One row from its rounds (in the order run): the median is the median of the rounds'
    medians (a round disturbed by load from elsewhere does not move it); the p99 is taken
    over all the rounds' samples together when the programs saved them (bench.h,
    refresh_py.py), else (wrk, hyperfine) it is the median of the rounds' p99s;
    requests/s is over the rounds' recorded time."""
    row = dict(rounds[-1])
    row["rounds"] = len(rounds)
    row["round_medians"] = [r["median_us"] for r in rounds]
    row["round_rps"] = [r.get("rps", 0) for r in rounds]
    row["n"] = sum(r["n"] for r in rounds)
    if all(r.get("elapsed_s") for r in rounds):
        row["rps"] = row["n"] / sum(r["elapsed_s"] for r in rounds)
    else:
        row["rps"] = statistics.mean(r.get("rps", 0) for r in rounds)
    for key in ("mean_us", "errors"):
        if all(key in r for r in rounds):
            row[key] = (statistics.mean if key == "mean_us" else sum)(r[key] for r in rounds)
    samples = None
    if samples_dir:
        path = os.path.join(samples_dir, label.replace("/", "_") + ".ns")
        if os.path.exists(path):
            with open(path) as f:
                samples = sorted(int(x) for x in f if x.strip())
    row["median_us"] = statistics.median(row["round_medians"])
    if samples:
        row["p99_us"] = samples[max(1, -(-99 * len(samples) // 100)) - 1] / 1e3
    else:
        row["p99_us"] = statistics.median(r["p99_us"] for r in rounds)
    return row


def paired(a, b):
    """The ratio a/b of two rows, round by round (the rows of one round ran seconds
    apart, so they saw the same machine): the median of the per-round ratios, and them."""
    ratios = [x / y for x, y in zip(a["round_medians"], b["round_medians"]) if y]
    return (statistics.median(ratios) if ratios else None), ratios


def vs_limit(row, limit):
    """How many times longer a request takes on average than wrk's: per round, wrk's
    requests/s over the row's (both one request at a time), the median over the rounds."""
    if not row or not limit:
        return None
    ratios = [lr / rr for rr, lr in zip(row["round_rps"], limit["round_rps"]) if rr and lr]
    return statistics.median(ratios) if ratios else None


def fmt_paired(a, b):
    if not a or not b:
        return "-"
    r, _ = paired(a, b)
    return "-" if r is None else f"{r:.2f}x"


def paired_text(a, b, name_a, name_b):
    r, ratios = paired(a, b)
    rounds = " ".join(f"{x:.2f}" for x in ratios)
    return (f"{name_a} {a['median_us']:.1f} us, {name_b} {b['median_us']:.1f} us; per-round "
            f"ratio median {r:.3f} (rounds: {rounds})"), r


def read_raw(path, samples_dir=None):
    results, rss, cached, info = {}, {}, {}, {}
    rounds = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "RESULT" and len(words) > 2:
                rounds.setdefault(words[1], []).append(parse_fields(words[2:]))
            elif words[0] == "RSS" and len(words) > 2:
                rss[words[1]] = parse_fields(words[2:])
            elif words[0] == "cached_path":
                fields = parse_fields(words[1:])
                cached.setdefault(int(fields["threads"]), []).append(fields)
            elif words[0] == "INFO" and len(words) > 1:
                info.setdefault(words[1], []).append(" ".join(words[2:]))
    for label, rs in rounds.items():
        results[label] = pooled(label, rs, samples_dir)
    return results, rss, cached, info


def fmt_us(v):
    if v is None:
        return "-"
    if v >= 10000:
        return f"{v / 1000:.1f} ms"
    return f"{v:.1f}"


def fmt_ratio(a, b):
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}x"


def verdict(ok):
    return "PASS" if ok else "MISS"


def choose(path):
    results, _, _, _ = read_raw(path)
    worst = 0.0
    for proto in PROTOS:
        for placement, _ in PLACEMENTS:
            m = results.get(f"server/{proto}/{placement}/mock")
            n = results.get(f"server/{proto}/{placement}/nginx")
            if not m or not n or m.get("errors") or n.get("errors"):
                print("choose: a server comparison is missing or had errors", file=sys.stderr)
                return "nginx"
            worst = max(worst, n["rps"] / m["rps"])
    pick = "mock" if worst <= MOCK_MAX_SLOWDOWN else "nginx"
    print(
        f"choose: the mock's mean latency (1/req/s, one connection) is at worst {worst:.2f}x nginx's "
        f"(threshold {MOCK_MAX_SLOWDOWN:.2f}x): {pick}",
        file=sys.stderr,
    )
    return pick


def hyperfine(path, labels):
    with open(path) as f:
        data = json.load(f)
    for label, res in zip(labels, data["results"]):
        times = sorted(t * 1e6 for t in res["times"])
        n = len(times)
        p99 = times[min(n, max(1, -(-99 * n // 100))) - 1]
        print(
            f"RESULT {label} n={n} median_us={statistics.median(times):.2f} "
            f"p99_us={p99:.2f} rps={1e6 / statistics.mean(times):.1f}"
        )


def table(path, samples_dir):
    results, rss, cached, info = read_raw(path, samples_dir)
    out = []
    put = out.append
    checks = []  # (target, verdict, numbers)

    for key in ("machine", "kernel", "cpu", "load", "server", "note"):
        for v in info.get(key, []):
            put(f"# {key}: {v}")
    put("")

    # ---- the server: mock vs nginx -----------------------------------------------------
    put("Server check: wrk -c1 -t1 (keep-alive) against the mock and against nginx's fixed reply;"
        " mean latency = 1/(req/s)")
    put(f"  {'protocol/placement':<22}{'mock mean':>12}{'nginx mean':>13}{'mock req/s':>12}"
        f"{'nginx req/s':>12}{'mock/nginx':>11}")
    for proto in PROTOS:
        for placement, _ in PLACEMENTS:
            m = results.get(f"server/{proto}/{placement}/mock")
            n = results.get(f"server/{proto}/{placement}/nginx")
            if not m or not n:
                continue
            put(f"  {proto + '/' + placement:<22}{fmt_us(1e6 / m['rps']):>12}"
                f"{fmt_us(1e6 / n['rps']):>13}{m['rps']:>12.0f}{n['rps']:>12.0f}"
                f"{fmt_ratio(n['rps'], m['rps']):>11}")
    put("")

    # ---- the table: refresh rows, then cold start ----------------------------------------
    put("The table: one refresh (POST authenticationService/authenticate with Cookie: auth=..., "
        "accessToken and expiresAt taken from the reply);")
    put("latency per request in microseconds (ms where marked); x peer: median of the per-round "
        "ratios of the medians; x limit: median of the")
    put("per-round ratios of wrk's req/s to the row's (= of the mean latencies). * wrk: the mean "
        "latency, 1/(req/s) with one connection (wrk's")
    put("own percentiles add synthetic samples for stalls - its coordinated-omission correction "
        "- so they are not per-request timings)")
    put(f"  {'':<3}{'row':<42}{'median':>9}{'p99':>10}{'req/s':>9}{'x limit':>9}{'x peer':>8}")
    for proto in PROTOS:
        for placement, what in PLACEMENTS:
            base = f"{proto}/{placement}"
            if not any(f"{base}/{r}" in results for r, *_ in ROWS):
                continue
            limit_row = results.get(f"{base}/limit")
            put(f"  -- {proto.upper()}, {placement}: {what} --")
            for row, lang, desc, peer in ROWS:
                r = results.get(f"{base}/{row}")
                if not r:
                    put(f"  {lang:<3}{desc:<42}{'(not run)':>9}")
                    continue
                p = results.get(f"{base}/{peer}") if peer else None
                rps = f"{r['rps']:.0f}" if r.get("rps") else "-"
                if row == "limit":
                    median, p99 = f"{1e6 / r['rps']:.1f}*", "-"
                else:
                    median, p99 = fmt_us(r["median_us"]), fmt_us(r["p99_us"])
                x_limit = vs_limit(r, limit_row) if r.get("rps") else None
                put(f"  {lang:<3}{desc:<42}{median:>9}{p99:>10}{rps:>9}"
                    f"{'-' if x_limit is None else f'{x_limit:.2f}x':>9}{fmt_paired(r, p):>8}")
            lib = results.get(f"{base}/lib_client")
            curl = results.get(f"{base}/libcurl")
            if lib and curl:
                text, r = paired_text(lib, curl, "av_client_refresh", "libcurl")
                checks.append((f"C warm refresh <= {TARGETS['c_vs_libcurl']}x libcurl ({base})",
                               r <= TARGETS["c_vs_libcurl"], text))
            py = results.get(f"{base}/py_binding")
            req = results.get(f"{base}/requests")
            if py and req:
                text, r = paired_text(py, req, "binding", "requests")
                checks.append((f"Python binding <= 1/4 of requests.Session ({base})",
                               r <= TARGETS["py_vs_requests"], text))
            one = results.get(f"{base}/lib_oneshot")
            if one and lib:
                text, r = paired_text(one, lib, "av_refresh", "av_client_refresh")
                checks.append((f"av_refresh later calls <= {TARGETS['oneshot_vs_client']}x "
                               f"av_client_refresh ({base})",
                               r <= TARGETS["oneshot_vs_client"], text))

    cold_rows = [("cold_lib", "C", "library: load, client, 1st refresh", "cold_libcurl"),
                 ("cold_libcurl", "C", "libcurl: init, 1st request (peer)", "cold_libcurl"),
                 ("cold_libcurl_ca", "C", "libcurl, trusting the test CA only", "cold_libcurl")]
    for placement, what in PLACEMENTS:
        if not any(f"https/{placement}/{r}" in results for r, *_ in cold_rows):
            continue
        put(f"  -- HTTPS cold start, {placement}: a fresh process per run (hyperfine -N), "
            "its whole wall time; req/s = processes/s --")
        for row, lang, desc, peer in cold_rows:
            r = results.get(f"https/{placement}/{row}")
            if not r:
                continue
            p = results.get(f"https/{placement}/{peer}", {}).get("median_us")
            put(f"  {lang:<3}{desc:<42}{fmt_us(r['median_us']):>9}{fmt_us(r['p99_us']):>10}"
                f"{r['rps']:>9.1f}{'-':>9}{fmt_ratio(r['median_us'], p):>8}")
    put("")

    # ---- session cached path -----------------------------------------------------------
    if cached:
        put("Session cached path (av_session_access_token + av_string_free), "
            "bench/session_cached.c, unpinned;")
        put(f"  best of {len(cached.get(1, []))} alternating rounds (the least disturbed); "
            "CPU = the threads' own CPU time per call")
        best = {}
        for threads in sorted(cached):
            runs = cached[threads]
            b = best[threads] = max(runs, key=lambda c: c["calls_per_s"])
            med = statistics.median(c["calls_per_s"] for c in runs)
            cpu = statistics.median(c.get("cpu_ns_per_call", 0) for c in runs)
            put(f"  {threads} thread(s): {b['ns_per_call']:.1f} ns/call per thread, "
                f"{b['calls_per_s']:.0f} calls/s in all (median of rounds {med:.0f}); "
                f"CPU {cpu:.1f} ns/call (median)")
        put("")
        if 1 in best:
            ns = best[1]["ns_per_call"]
            checks.append((f"session cached path <= {TARGETS['cached_ns']:.0f} ns/call",
                           ns <= TARGETS["cached_ns"], f"{ns:.1f} ns/call"))
        if 1 in best and 2 in best:
            s = best[2]["calls_per_s"] / best[1]["calls_per_s"]
            cpu1 = statistics.median(c.get("cpu_ns_per_call", 0) for c in cached[1])
            cpu2 = statistics.median(c.get("cpu_ns_per_call", 0) for c in cached[2])
            cpu_note = (f"; CPU per call {cpu1:.0f} -> {cpu2:.0f} ns, so the threads do not "
                        "slow each other: they did not get a CPU each" if cpu1 and cpu2
                        and s < TARGETS["cached_scaling"] and cpu2 <= 1.25 * cpu1 else "")
            checks.append((f"session cached path, 2 threads >= {TARGETS['cached_scaling']}x "
                           "the calls/s of one", s >= TARGETS["cached_scaling"],
                           f"{best[2]['calls_per_s']:.0f} / {best[1]['calls_per_s']:.0f}"
                           f" = {s:.2f}x{cpu_note}"))

    # ---- memory ------------------------------------------------------------------------
    if rss:
        put("Memory over many refreshes on one client/handle (KiB, /proc/self/status)")
        put(f"  {'run':<26}{'refreshes':>10}{'VmRSS before':>14}{'after':>8}{'VmHWM before':>14}"
            f"{'after':>8}{'growth':>9}")
        for label, r in rss.items():
            growth = max(r["rss_after_kib"] - r["rss_before_kib"],
                         r["hwm_after_kib"] - r["hwm_before_kib"])
            put(f"  {label:<26}{r['refreshes']:>10.0f}{r['rss_before_kib']:>14.0f}"
                f"{r['rss_after_kib']:>8.0f}{r['hwm_before_kib']:>14.0f}"
                f"{r['hwm_after_kib']:>8.0f}{growth:>9.0f}")
            if label.endswith("/lib"):
                checks.append((f"RSS growth over {r['refreshes']:.0f} refreshes < "
                               f"{TARGETS['rss_growth_mib']:.0f} MiB ({label})",
                               growth < TARGETS["rss_growth_mib"] * 1024,
                               f"VmRSS {r['rss_before_kib']:.0f} -> {r['rss_after_kib']:.0f} KiB,"
                               f" VmHWM {r['hwm_before_kib']:.0f} -> {r['hwm_after_kib']:.0f} KiB"
                               f", growth {growth:.0f} KiB"))
        put("")

    # ---- the library file --------------------------------------------------------------
    size = info.get("lib_size")
    if size:
        nbytes = int(size[0])
        stripped = any("stripped" in v and "not stripped" not in v for v in info.get("lib_file", []))
        put(f"Library: target/release/libalfaview_auth.so, {nbytes} bytes "
            f"({nbytes / 1048576:.2f} MiB), {'stripped' if stripped else 'NOT stripped'}")
        deps = info.get("lib_dep", [])
        extra = [d for d in deps if not any(a in d for a in ALLOWED_DEPS)]
        for d in deps:
            flag = "" if d not in extra else "   <-- not the C runtime"
            put(f"  needs: {d}{flag}")
        put("")
        checks.append((f"stripped library <= {TARGETS['size_mib']:.0f} MiB",
                       stripped and nbytes <= TARGETS["size_mib"] * 1048576,
                       f"{nbytes / 1048576:.2f} MiB, {'stripped' if stripped else 'not stripped'}"))
        checks.append(("no run-time dependency beyond the C runtime", not extra,
                       "only " + ", ".join(d.split()[0] for d in deps) if not extra
                       else "also " + ", ".join(d.split()[0] for d in extra)))

    # ---- targets -----------------------------------------------------------------------
    put("Targets")
    for name, ok, numbers in checks:
        put(f"  {verdict(ok)}  {name}: {numbers}")
    passed = sum(1 for _, ok, _ in checks if ok)
    put(f"  {passed} of {len(checks)} targets met")
    print("\n".join(out))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif len(sys.argv) >= 3 and sys.argv[1] == "choose":
        print(choose(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "hyperfine":
        hyperfine(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
