"""The refresh from Python: the hand-written peer (requests.Session) and the binding.

    python refresh_py.py requests LABEL BASE_URL REFRESH_TOKEN [CA_BUNDLE]
    python refresh_py.py binding  LABEL BASE_URL REFRESH_TOKEN [CA_FILE]
    python refresh_py.py mix PREFIX BASE_URL REFRESH_TOKEN [CA_FILE CA_BUNDLE]

mix runs both side by side in one process, taking turns in slices of BENCH_PY_SLICE_MS
(default 20) ms, as PREFIX/requests and PREFIX/py_binding (see bench.h's bench_mixed).

requests: one Session (keep-alive), POST with json=, Cookie: auth=<token>, a new uuid4
requestId each time, raise_for_status(), then accessToken and int(expiresAt) from
r.json(). binding: alfaview_auth.Client(base_url, ca_file).refresh(...) on one client
(PYTHONPATH=bindings/python, ALFAVIEW_AUTH_LIBRARY=target/release/libalfaview_auth.so).

Each call is timed on its own with time.monotonic_ns() (CLOCK_MONOTONIC) after
BENCH_WARMUP seconds (default 0.3) of unrecorded calls, for BENCH_SECONDS (default 2)
per row. Prints per row: RESULT LABEL n=... median_us=... p99_us=... rps=... elapsed_s=...
With BENCH_SAMPLES_DIR, also appends the samples (ns, one a line) to
$BENCH_SAMPLES_DIR/<LABEL with / as _>.ns.
"""

import math
import os
import sys
import time
import uuid

COMPANY = "c-100"


def requests_refresher(base_url, token, ca):
    import requests

    session = requests.Session()
    session.headers.update({"Accept": "application/json", "Cookie": f"auth={token}"})
    url = base_url + "authenticationService/authenticate"
    verify = ca if ca else True

    def refresh():
        r = session.post(
            url,
            json={"requestId": str(uuid.uuid4()), "refreshTokenCredentials": {"companyId": COMPANY}},
            verify=verify,
            timeout=30,
        )
        r.raise_for_status()
        body = r.json()
        return body["accessToken"], int(body["expiresAt"])

    return refresh


def binding_refresher(base_url, token, ca):
    import alfaview_auth

    client = alfaview_auth.Client(base_url=base_url, ca_file=ca)

    def refresh():
        t = client.refresh(COMPANY, token)
        return t.access_token, t.expires_at

    return refresh


def report(label, samples, elapsed):
    """Saves the samples (for report.py to pool rounds, as bench.h does) and prints the
    RESULT line."""
    samples_dir = os.environ.get("BENCH_SAMPLES_DIR")
    if samples_dir:
        with open(os.path.join(samples_dir, label.replace("/", "_") + ".ns"), "a") as f:
            f.write("".join(f"{ns}\n" for ns in samples))
    samples = sorted(samples)
    n = len(samples)

    def quantile(q):
        return samples[min(n, max(1, math.ceil(q * n))) - 1] / 1e3  # nearest rank

    print(
        f"RESULT {label} n={n} median_us={quantile(0.5):.2f} p99_us={quantile(0.99):.2f} "
        f"rps={n / elapsed:.0f} elapsed_s={elapsed:.4f}"
    )


def run_mixed(rows, seconds, warmup, slice_s):
    """Like bench.h's bench_mixed: the rows take turns in slices of slice_s seconds, first
    for `warmup` seconds unrecorded, then until each has had `seconds` of recorded slices.
    rows: [(label, refresh)]."""
    clock = time.monotonic_ns
    slice_ns = int(slice_s * 1e9)
    stop = clock() + int(warmup * 1e9)
    while clock() < stop:
        for _, refresh in rows:
            end = min(clock() + slice_ns, stop)
            while clock() < end:
                refresh()
    samples = [[] for _ in rows]
    busy = [0] * len(rows)
    want = int(seconds * 1e9)
    while busy[-1] < want:
        for i, (_, refresh) in enumerate(rows):
            push = samples[i].append
            begin = clock()
            end = begin + slice_ns
            t0 = begin
            while True:
                access_token, expires_at = refresh()
                t1 = clock()
                push(t1 - t0)
                if t1 >= end:
                    break
                t0 = clock()
            if not access_token or not expires_at:
                sys.exit("refresh_py: empty access token or expiry")
            busy[i] += t1 - begin
    for (label, _), s, b in zip(rows, samples, busy):
        report(label, s, b / 1e9)


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] not in ("requests", "binding", "mix"):
        sys.exit(
            "usage: refresh_py.py requests|binding LABEL BASE_URL REFRESH_TOKEN [CA]\n"
            "       refresh_py.py mix PREFIX BASE_URL REFRESH_TOKEN [CA_FILE CA_BUNDLE]"
        )
    kind, label, base_url, token = args[:4]
    seconds = float(os.environ.get("BENCH_SECONDS") or 2.0)
    warmup = float(os.environ.get("BENCH_WARMUP") or 0.3)
    if kind == "mix":
        ca, bundle = (args[4], args[5]) if len(args) > 5 else (None, None)
        rows = [
            (f"{label}/requests", requests_refresher(base_url, token, bundle)),
            (f"{label}/py_binding", binding_refresher(base_url, token, ca)),
        ]
        slice_s = float(os.environ.get("BENCH_PY_SLICE_MS") or 20) / 1e3
    else:
        ca = args[4] if len(args) > 4 else None
        make = requests_refresher if kind == "requests" else binding_refresher
        rows = [(label, make(base_url, token, ca))]
        slice_s = seconds  # one slice: a plain timed run
    run_mixed(rows, seconds, warmup, slice_s)


if __name__ == "__main__":
    main()
