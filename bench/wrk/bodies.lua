-- wrk script: POST pre-built request bodies in turn, one JSON body per line of a file.
--   wrk ... URL -- BODIES_FILE [HEADER: VALUE ...]
-- Requests are formatted once in init(), so request() costs a table lookup. done() prints one
-- line, `BENCH_RESULT {json}`, with the counts and latency percentiles (microseconds).

local requests = {}
local next_index = 1
local thread_number = 0
local threads = {}

function setup(thread)
  thread_number = thread_number + 1
  thread:set("thread_number", thread_number)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s bodies.lua URL -- BODIES_FILE [HEADER: VALUE ...]")
  end
  local headers = { ["content-type"] = "application/json" }
  for i = 2, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    if name == nil then
      error("bad header argument: " .. args[i])
    end
    headers[name] = value
  end
  for line in io.lines(file) do
    if #line > 0 then
      table.insert(requests, wrk.format("POST", nil, headers, line))
    end
  end
  if #requests == 0 then
    error("no request bodies in " .. file)
  end
  -- Threads start at different bodies so they do not send the same sequence.
  local n = tonumber(wrk.thread:get("thread_number")) or 1
  next_index = ((n - 1) * 97) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
