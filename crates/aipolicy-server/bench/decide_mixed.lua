-- /v1/decide with the 100 queries of queries100.jsonl in turn (run from the crate's folder).
local bodies = {}
for line in io.lines("bench/queries100.jsonl") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/decide", {["Content-Type"] = "application/json"}, bodies[i])
end
