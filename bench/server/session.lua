-- wrk: each connection creates a session, then releases it, again and again.
-- Both requests count; latency is per request.
local pending = nil

request = function()
  if pending then
    local path = "/v1/sessions/" .. pending
    pending = nil
    return wrk.format("DELETE", path, nil, "")
  end
  return wrk.format("POST", "/v1/sites/acme/sessions", {["Content-Type"] = "application/json"},
    '{"source": "ads", "consent": true, "landing_path": "/offer?utm_source=google"}')
end

response = function(status, headers, body)
  if status == 201 then
    pending = string.match(body, '"session":"(%x+)"')
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests_per_second=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
