-- One visitor after another on each connection: GET / (the banner; a page view sets no cookie), then POST the
-- choice as the banner's form does (same origin, no token: app.crossorigin). A GET's answer feeds the next POST.
-- At the end, how many choices were answered with the redirect that follows a recorded choice (303).
local threads = {}
local waiting = 0
recorded = 0

setup = function(thread)
  table.insert(threads, thread)
end

request = function()
  if waiting == 0 then
    return wrk.format("GET", "/", {})
  end
  waiting = waiting - 1
  return wrk.format("POST", "/cookies/choix", {
    ["Content-Type"] = "application/x-www-form-urlencoded", ["Sec-Fetch-Site"] = "same-origin",
  }, "choice=accept_all&next=%2F")
end

response = function(status, headers, body)
  if status == 303 then
    recorded = recorded + 1
  end
  if status == 200 and body:find('id="cc"', 1, true) then
    waiting = waiting + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("recorded")
  end
  io.write(string.format("choices recorded: %d\n", total))
end
