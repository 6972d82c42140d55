-- wrk script: the refresh request, as the library sends it, on one keep-alive connection.
--   AV_BENCH_TOKEN=<refresh token> AV_BENCH_LABEL=<label> \
--     wrk -t1 -c1 -d2s -s bench/refresh.lua <BASE_URL>authenticationService/authenticate
-- Prints "RESULT <label> n=... median_us=... p99_us=... rps=... elapsed_s=... mean_us=... errors=..."
-- (latencies from wrk's own per-request histogram, microseconds).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Cookie"] = "auth=" .. (os.getenv("AV_BENCH_TOKEN") or "none")
wrk.body = '{"requestId":"00000000-0000-4000-8000-000000000000",'
  .. '"refreshTokenCredentials":{"companyId":"c-100"}}'

local label = os.getenv("AV_BENCH_LABEL") or "wrk"

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "RESULT %s n=%d median_us=%.2f p99_us=%.2f rps=%.0f elapsed_s=%.4f mean_us=%.2f errors=%d\n",
    label, summary.requests, latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.duration / 1e6, latency.mean, errors))
end
