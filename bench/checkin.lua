-- wrk script for bench_checkin.py: every request is a check-in of a different badge, with its own nonce.
-- Arguments (after `--`): the file of badge codes (one a line), the scanner device's bearer token, and the
-- number of wrk threads. `thread_id` is a global: setup() sets it in each thread's own Lua state.
local codes = {}
local counter = 0
local threads = 1
thread_id = 0
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then codes[#codes + 1] = line end
  end
  threads = tonumber(args[3]) or 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  math.randomseed(os.time() + thread_id * 7919)
end

function request()
  counter = counter + 1
  -- Threads take interleaved slices of the badge list, so no two threads send the same badge at once.
  local index = ((counter - 1) * threads + thread_id) % #codes + 1
  local nonce = string.format("w%d-%d-%d", thread_id, counter, math.random(1, 1000000000))
  local body = string.format('{"code":"%s","door":"Bench door","nonce":"%s"}', codes[index], nonce)
  return wrk.format(nil, "/api/checkin", nil, body)
end
