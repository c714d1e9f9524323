-- DELETE /v1/calls/{call_id} towards rtp-pool, for deploy/kamailio/kamailio.cfg.
-- Kamailio 5.6's http_client sends only GET and POST from the config, so the one DELETE
-- the edge needs goes through LuaSocket (Debian: lua-socket). The config sets $var(del_url)
-- (call id already percent-encoded) and reads the HTTP status back from $var(del_code):
-- the status, or -1 when the pool could not be reached within RTP_EDGE_HTTP_TIMEOUT seconds.
local http = require("socket.http")
local ltn12 = require("ltn12")

local timeout = tonumber(os.getenv("RTP_EDGE_HTTP_TIMEOUT") or "") or 5
local token = os.getenv("RTP_API_TOKEN") or ""

function pool_delete()
  http.TIMEOUT = timeout
  local headers = { ["content-length"] = "0" }
  if token ~= "" then headers["authorization"] = "Bearer " .. token end
  local ok, code = http.request({
    url = KSR.pv.get("$var(del_url)"),
    method = "DELETE",
    headers = headers,
    sink = ltn12.sink.null(),
  })
  if ok and type(code) == "number" then
    KSR.pv.seti("$var(del_code)", code)
  else
    KSR.pv.seti("$var(del_code)", -1)
  end
end
