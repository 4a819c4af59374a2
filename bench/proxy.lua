-- wrk script for bench/proxy.sh: POST a small chat-completions request,
-- with BENCH_KEY (when set) as the bearer, the same bytes on every side.
wrk.method = "POST"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"Say hello."}]}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
