-- wrk: sessions assigned and released, again and again; every request counted by what it did.
-- wrk's Lua API gives each thread one state and never says which connection a request or a
-- response belongs to, so "the connection's own session" cannot be kept. Instead each
-- thread keeps a queue: every assigned session id goes in, and the next request of any of
-- the thread's connections releases the oldest one. No id is overwritten or dropped; the
-- ids still queued when wrk stops are written to $CALLSWAP_BENCH_LEFTOVER, and run.sh
-- releases them and checks that no session is left holding a number.
queue, head, tail = {}, 1, 0  -- globals, so done() can read what is left
assigns, releases, fallbacks, other = 0, 0, 0, 0

local assign
-- Made in init, once wrk knows the host: a request formatted while the script loads has no
-- Host header, which cpp-httplib lets pass and nginx (scale_out.sh) answers with 400.
init = function(args)
  assign = wrk.format("POST", "/v1/sites/acme/sessions", {["Content-Type"] = "application/json"},
    '{"source": "ads", "consent": true, "landing_path": "/offer?utm_source=google"}')
end

request = function()
  if head <= tail then
    local id = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("DELETE", "/v1/sessions/" .. id, nil, "")
  end
  return assign
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"session":"(%x+)"')
    if id then
      assigns = assigns + 1
      tail = tail + 1
      queue[tail] = id
    else
      other = other + 1
    end
  elseif status == 204 then
    releases = releases + 1
  elseif status == 200 and string.find(body, '"reason"', 1, true) then
    fallbacks = fallbacks + 1  -- a static number: the pool gave none
  else
    other = other + 1
  end
end

local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

done = function(summary, latency, requests)
  local a, r, f, o, left = 0, 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    a = a + thread:get("assigns")
    r = r + thread:get("releases")
    f = f + thread:get("fallbacks")
    o = o + thread:get("other")
    local q = thread:get("queue")
    for i = thread:get("head"), thread:get("tail") do left[#left + 1] = q[i] end
  end
  local path = os.getenv("CALLSWAP_BENCH_LEFTOVER")
  if path then
    local file = io.open(path, "w")
    file:write(table.concat(left, "\n"))
    file:close()
  end
  -- latency here is wrk's, corrected for coordinated omission (wrk 4 corrects it before done()).
  io.write(string.format("RESULT requests_per_second=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d timeouts=%d non2xx=%d " ..
    "assigns=%d releases=%d fallbacks=%d other=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout, summary.errors.status,
    a, r, f, o))
end
