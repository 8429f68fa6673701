-- (d) GET /healthz on a single connection beside the load: what a monitor would see.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua"
local common = require("common")
counts = {}

setup = common.setup

function response(status, headers, body)
  local k = tostring(status)
  counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests) common.done("healthz", summary, latency, requests) end
