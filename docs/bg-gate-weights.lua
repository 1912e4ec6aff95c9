-- bg-gate-weights.lua — per-request pool choice for bg-gate's nginx router, mode "hitless".
--
-- bg-gate writes the weights file atomically (temp file, fsync, rename):
--     {"blue": 75, "green": 25}
-- Each nginx worker keeps its own copy of the weights and re-reads the file when its last
-- read is 5 ms old or more (so a flip is seen within ~5 ms plus one request; reading a
-- 30-byte file at most 200 times a second costs a worker nothing measurable), and
-- picks the pool with nginx's smooth weighted round robin: over any 100 requests a
-- worker sends exactly 75 to blue and 25 to green, interleaved (B B B G …). The choice
-- is the name of an upstream block, "bg_gate_blue" or "bg_gate_green" — never anything
-- read from the file.
--
-- The file never causes an error response: when it is missing, unreadable or malformed
-- the worker keeps the last good weights (and logs once per change: an error when the
-- file cannot be read, a warning when its content is bad);
-- before any good read it sends everything to the default pool (blue unless told).
--
-- Used from nginx (see nginx-hitless.conf):
--     set_by_lua_block $bg_pool {
--         return require("bg-gate-weights").pool("/etc/nginx/bg-gate/weights.json")
--     }
-- Needs only LuaJIT's standard library and the ngx API (ngx.now, ngx.log).

local M = {}

local RECHECK_S = 0.005 -- how stale a worker's copy may get
local MAX_BYTES = 4096  -- anything larger is not a weights file
local POOLS = { "blue", "green" }
local UPSTREAMS = { blue = "bg_gate_blue", green = "bg_gate_green" }

-- per worker (this module is loaded once per worker)
local files = {}

local function parse(text)
    if #text > MAX_BYTES or not text:match("^%s*{.*}%s*$") then
        return nil, "not a JSON object"
    end
    local w, sum = {}, 0
    for _, pool in ipairs(POOLS) do
        local v = text:match('"' .. pool .. '"%s*:%s*(%-?%d+)%s*[,}]')
        v = tonumber(v)
        if not v or v < 0 or v > 100 then
            return nil, "no integer 0..100 for \"" .. pool .. "\""
        end
        w[pool] = v
        sum = sum + v
    end
    if sum ~= 100 then
        return nil, "weights add up to " .. sum .. ", not 100"
    end
    return w
end

-- The file's text, or nil and io.open's reason ("Permission denied", …).
local function read_file(path)
    local f, err = io.open(path, "rb")
    if not f then
        return nil, err
    end
    local text = f:read(MAX_BYTES + 1)
    f:close()
    return text
end

-- Re-reads the file when the copy is stale; new weights restart the round robin.
local function refresh(st, path, now)
    st.checked = now
    local text, err = read_file(path)
    if text == st.text then
        return
    end
    st.text = text
    if not text then
        -- at error level (nginx's default) so that a weights file the worker user cannot
        -- read is visible, not just a router that silently stays on the default pool
        ngx.log(ngx.ERR, "bg-gate: cannot read ", err or path, "; keeping the last good weights")
        return
    end
    local w, why = parse(text)
    if not w then
        ngx.log(ngx.WARN, "bg-gate: ", path, ": ", why, "; keeping the last good weights")
        return
    end
    st.weights = w
    st.current = { blue = 0, green = 0 }
end

-- nginx's smooth weighted round robin over the two pools.
local function pick(st)
    local best, total = nil, 0
    for _, pool in ipairs(POOLS) do
        local w = st.weights[pool]
        if w > 0 then
            st.current[pool] = st.current[pool] + w
            total = total + w
            if not best or st.current[pool] > st.current[best] then
                best = pool
            end
        end
    end
    st.current[best] = st.current[best] - total
    return best
end

-- The upstream name for this request. default_pool ("blue" or "green") is used only
-- until the file was read successfully once.
function M.pool(path, default_pool)
    local st = files[path]
    if not st then
        st = { checked = -1, text = false } -- false: not read yet (nil: missing)
        files[path] = st
    end
    local now = ngx.now()
    if now - st.checked >= RECHECK_S or now < st.checked then
        refresh(st, path, now)
    end
    if not st.weights then
        return UPSTREAMS[default_pool] or UPSTREAMS.blue
    end
    return UPSTREAMS[pick(st)]
end

-- For tests and curious operators: the weights this worker routes by (nil before the
-- first good read).
function M.weights(path)
    local st = files[path]
    return st and st.weights
end

return M
