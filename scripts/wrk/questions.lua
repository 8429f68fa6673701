-- (a) questions: POST /api/v1/ask with the held-out questions, each from one of a pool of
-- users of the bench's API key (so each conversation stays short and no user waits on itself).
-- args: questions file (one JSON string per line), API key, users in the pool.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua"
local common = require("common")
local questions, key, pool, tid, n
counts = {}

setup = common.setup

function init(args)
  questions = common.lines(args[1])
  key, pool = args[2], tonumber(args[3])
  tid = tonumber(wrk.thread:get("tid")) or 0
  n = 0
end

function request()
  n = n + 1
  local body = string.format('{"text":%s,"user":"q%d-%d","message_id":"m%d-%d"}',
                             questions[(n * 7 + tid) % #questions + 1], tid, n % pool, tid, n)
  return wrk.format("POST", "/api/v1/ask", {["Content-Type"] = "application/json",
                                            ["Authorization"] = "Bearer " .. key}, body)
end

function response(status, headers, body)
  local k = tostring(status)
  if status == 200 then
    -- a real reply names its kind; count them so the report shows answers, not only 200s
    local kind = body:match('"kind":%s*"(%a+)"') or "nokind"
    k = "200:" .. kind
  end
  counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests) common.done("questions", summary, latency, requests) end
