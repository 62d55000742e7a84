-- The runner's wrk script: counts non-2xx responses and wrong body lengths per thread
-- (when an expected length is given as the script's argument), and in done() prints one
-- line "WRK_JSON {...}" with the summary, the errors and wrk's own latency histogram
-- read at fixed percentiles (microseconds; wrk reads 100 as 0, so the max stands for it).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1])
  mismatched = 0
  non2xx = 0
  seen_length = -1
  if expected == nil then
    response = nil -- wrk then skips parsing headers and bodies
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if #body ~= expected then
    mismatched = mismatched + 1
    seen_length = #body
  elseif seen_length < 0 then
    seen_length = #body
  end
end

local function percentiles()
  local ps = {}
  for i = 1, 199 do ps[#ps + 1] = i / 2 end
  for _, p in ipairs({ 99.6, 99.7, 99.8, 99.9, 99.95, 99.99, 99.999 }) do ps[#ps + 1] = p end
  return ps
end

function done(summary, latency, requests)
  local mism, non, seen, counted = 0, 0, -1, false
  for _, t in ipairs(threads) do
    local m = t:get("mismatched")
    if m ~= nil then
      counted = true
      mism = mism + m
      non = non + t:get("non2xx")
      local s = t:get("seen_length")
      if s ~= nil and s >= 0 and (seen < 0 or m > 0) then seen = s end
    end
  end
  local points = {}
  for _, p in ipairs(percentiles()) do
    points[#points + 1] = string.format("[%g,%d]", p, latency:percentile(p))
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"max":%d,"mean":%.3f,"stdev":%.3f},' ..
    '"counted":%s,"non2xx":%d,"length_mismatches":%d,"seen_length":%d,' ..
    '"percentiles_us":[%s]}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    tostring(counted), non, mism, seen, table.concat(points, ",")))
end
