-- The workloads bench/run drives with wrk, in one script so each pays the same Lua cost:
--   wrk -s bench/wrk/clinic.lua https://127.0.0.1:PORT -- WORKLOAD
-- WORKLOAD: healthz (W0), read (W1), phone (W2), name (W3), create (W4), signin (W5), mixed (W6),
--   kpis (W7: the practice's figures from BENCH_KPI_FROM to BENCH_KPI_TO).
-- The driver (bench/http_load.py) signs in first and passes what a signed-in client holds:
--   BENCH_COOKIE, BENCH_CSRF, BENCH_CLINIC; BENCH_PATIENTS, a file of "id<TAB>phone<TAB>family name"
--   lines of existing patients; BENCH_EMAIL and BENCH_PASSWORD for sign-ins; BENCH_REPORT, the
--   file done() writes its JSON summary to.

local workload
local cookie, csrf = os.getenv("BENCH_COOKIE"), os.getenv("BENCH_CSRF")
local clinic_path = "/api/v1/clinics/" .. (os.getenv("BENCH_CLINIC") or "")
local base = clinic_path .. "/patients"
local kpis = clinic_path .. "/kpis?from=" .. (os.getenv("BENCH_KPI_FROM") or "") .. "&to=" .. (os.getenv("BENCH_KPI_TO") or "")
local patients = {}
local serial = 0

-- A mixed clinic day: mostly reads and searches, some edits, a sign-in now and then (sign-ins are
-- bcrypt-bound, about 0.3 s of a core each, and a clinic signs in a few times a day per person).
local day = {
  { "read", 55 }, { "phone", 15 }, { "name", 15 }, { "update", 10 }, { "create", 4.8 }, { "signin", 0.2 },
}

-- setup() runs in the main Lua state; each thread gets its number as the global thread_number.
local started = 0
function setup(thread)
  started = started + 1
  thread:set("thread_number", started)
end

local function encode(text)
  return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  workload = args[1]
  math.randomseed(os.time() * 100 + (thread_number or 0))
  local path = os.getenv("BENCH_PATIENTS")
  if path then
    for line in io.lines(path) do
      local id, phone, family = line:match("^([^\t]+)\t([^\t]*)\t(.*)$")
      if id then table.insert(patients, { id = id, phone = phone, family = family }) end
    end
  end
end

local function signed_in(method, path, body)
  local headers = { ["Cookie"] = cookie }
  if method ~= "GET" then
    headers["X-CSRF-Token"] = csrf
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end

local function any_patient()
  return patients[math.random(#patients)]
end

local function digits(n)
  local out = {}
  for i = 1, n do out[i] = tostring(math.random(0, 9)) end
  return table.concat(out)
end

local builders = {
  healthz = function() return wrk.format("GET", "/healthz") end,
  read = function() return signed_in("GET", base .. "/" .. any_patient().id) end,
  phone = function() return signed_in("GET", base .. "?phone=" .. encode(any_patient().phone)) end,
  name = function() return signed_in("GET", base .. "?q=" .. encode(any_patient().family)) end,
  create = function()
    serial = serial + 1
    local body = string.format(
      '{"givenName":"Bench%d","familyName":"Loadtest","birthDate":"1980-05-17","phone":"04%s","email":"bench%d.%d@mail.example","address":"%d Bench Road"}',
      serial, digits(8), thread_number or 0, serial, serial % 300 + 1)
    return signed_in("POST", base, body)
  end,
  update = function()
    local body = string.format('{"address":"%d Update Street"}', math.random(1, 999))
    return signed_in("PATCH", base .. "/" .. any_patient().id, body)
  end,
  kpis = function() return signed_in("GET", kpis) end,
  signin = function()
    local body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
    return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end,
}

builders.mixed = function()
  local roll = math.random() * 100
  for _, entry in ipairs(day) do
    roll = roll - entry[2]
    if roll <= 0 then return builders[entry[1]]() end
  end
  return builders.read()
end

function request()
  return builders[workload]()
end

function done(summary, latency, requests)
  local file = assert(io.open(os.getenv("BENCH_REPORT"), "w"))
  local e = summary.errors
  file:write(string.format(
    '{"requests":%d,"durationMicros":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyMicros":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  file:close()
end
