-- wrk script for bench/keys.sh: GET /key/info, each request with the
-- next key of the sample file (KEYS_FILE), so every key is looked up in
-- turn and no single row stays hot.
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local i = 0
request = function()
  i = i % #keys + 1
  return wrk.format("GET", "/key/info",
                    { ["Authorization"] = "Bearer " .. keys[i] })
end
