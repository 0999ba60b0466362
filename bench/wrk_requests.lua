-- wrk script for bench/compare.py: sends prepared (pre-signed) requests.
--
--   wrk -t2 -c16 -d8s -s bench/wrk_requests.lua URL -- REQUESTS.lua THREADS MODE
--
-- REQUESTS.lua returns a list of {method=, path=, headers={...}, body=}. MODE "repeat" sends
-- them round and round (replays); MODE "once" sends each request once, split between the
-- threads (thread k sends requests k+1, k+1+THREADS, ...), and the thread stops when its share
-- is used up. Answers whose body holds "resultStatus":"S" (or, for non-Alipay+ targets, any
-- 2xx) count as good; done() prints one JSON line starting with WRK_JSON.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local list = dofile(args[1])
   local step = tonumber(args[2])
   mode = args[3]
   expect_s = args[4] == "S"
   prepared = {}
   for i = id + 1, #list, (mode == "once") and step or 1 do
      local r = list[i]
      table.insert(prepared, wrk.format(r.method, r.path, r.headers, r.body))
   end
   index = 0
   exhausted = 0
   good = 0
   other = 0
end

function request()
   index = index + 1
   if index > #prepared then
      if mode == "once" then -- used up: stop (the few requests already asked for repeat the last)
         wrk.thread:stop()
         exhausted = 1
         return prepared[#prepared]
      end
      index = 1
   end
   return prepared[index]
end

function response(status, headers, body)
   local ok
   if expect_s then
      ok = status == 200 and body ~= nil and string.find(body, '"resultStatus":"S"', 1, true)
   else
      ok = status >= 200 and status < 300
   end
   if ok then
      good = good + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local good_total, other_total, exhausted_total = 0, 0, 0
   for _, thread in ipairs(threads) do
      good_total = good_total + thread:get("good")
      other_total = other_total + thread:get("other")
      exhausted_total = exhausted_total + thread:get("exhausted")
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"duration_us":%d,"good":%d,"other":%d,' ..
      '"exhausted":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
      summary.requests, summary.duration, good_total, other_total, exhausted_total,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
