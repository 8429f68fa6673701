-- Shared by the loadbench streams (scripts/loadbench.py): per-thread counters and a JSON report.
-- wrk runs one Lua state per thread plus one for setup/done; done() reads each thread's
-- counters through thread:get.
local M = {}

function M.lines(path)
  local out = {}
  local fh = assert(io.open(path, "r"))
  for line in fh:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  fh:close()
  return out
end

local threads = {}

function M.setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- A JSON number list / object is all done() prints; no JSON library in wrk's LuaJIT.
local function encode(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do parts[#parts + 1] = string.format("%q:%s", tostring(k), encode(v)) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "number" then
    return string.format("%.3f", value)
  end
  return string.format("%q", tostring(value))
end

function M.done(stream, summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    if c then
      for k, v in pairs(c) do counts[k] = (counts[k] or 0) + v end
    end
  end
  local e = summary.errors
  local out = {
    stream = stream, requests = summary.requests, duration_us = summary.duration, bytes = summary.bytes,
    errors = {connect = e.connect, read = e.read, write = e.write, status = e.status, timeout = e.timeout},
    latency_us = {p50 = latency:percentile(50), p90 = latency:percentile(90), p95 = latency:percentile(95),
                  p99 = latency:percentile(99), max = latency.max, mean = latency.mean},
    counts = counts,
  }
  io.write("LOADBENCH-JSON " .. encode(out) .. "\n")
end

return M
