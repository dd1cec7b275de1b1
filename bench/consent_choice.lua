-- One visitor after another on each connection: GET / (banner, CSRF token, session cookie), then POST the choice.
-- The pairs go through a queue shared by the thread's connections: a GET's answer feeds the next request's POST.
-- At the end, how many choices were answered with the redirect that follows a recorded choice (303).
local threads = {}
local waiting = {}
recorded = 0

setup = function(thread)
  table.insert(threads, thread)
end

request = function()
  local pair = table.remove(waiting)
  if pair == nil then
    return wrk.format("GET", "/", {})
  end
  return wrk.format("POST", "/cookies/choix", {
    ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = pair.cookie,
  }, "csrf_token=" .. pair.token .. "&choice=accept_all&next=%2F")
end

response = function(status, headers, body)
  if status == 303 then
    recorded = recorded + 1
  end
  if status == 200 then
    local token = body:match('name="csrf_token" value="([^"]+)"')
    local cookie = headers["Set-Cookie"]
    if token and cookie then
      table.insert(waiting, {token = token, cookie = cookie:match("^([^;]+)")})
    end
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("recorded")
  end
  io.write(string.format("choices recorded: %d\n", total))
end
