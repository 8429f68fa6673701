-- (b) dialogue turns: each wrk thread has ONE connection and plays one person at a time through
-- the internship-subsidy calculator (turns from the bench's file), so a person's turns are
-- sequential; every completed dialogue starts a new person.
-- args: turns file (lines: JSON string TAB expected substring of the reply), API key, a tag that
-- makes this run's people new (the warm-up's people are left where they stopped).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua"
local common = require("common")
local turns, expect, key, tag, tid, step, person
counts = {}

setup = common.setup

function init(args)
  turns, expect = {}, {}
  for _, line in ipairs(common.lines(args[1])) do
    local text, want = line:match("^(.-)\t(.*)$")
    turns[#turns + 1], expect[#expect + 1] = text, want
  end
  key, tag = args[2], args[3] or ""
  tid = tonumber(wrk.thread:get("tid")) or 0
  step, person = 0, 0
end

function request()
  local i = step % #turns + 1
  if i == 1 then person = person + 1 end
  local body = string.format('{"text":%s,"user":"d%s%d-%d"}', turns[i], tag, tid, person)
  return wrk.format("POST", "/api/v1/ask", {["Content-Type"] = "application/json",
                                            ["Authorization"] = "Bearer " .. key}, body)
end

function response(status, headers, body)
  local i = step % #turns + 1
  step = step + 1
  local k = tostring(status)
  if status == 200 then
    k = body:find(expect[i], 1, true) and "200:expected" or "200:unexpected"
    if i == #turns and k == "200:expected" then counts["dialogues_completed"] = (counts["dialogues_completed"] or 0) + 1 end
  end
  counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests) common.done("dialogue", summary, latency, requests) end
