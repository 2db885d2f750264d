// pingedge Cloudflare Worker: the ES-module shim around the Go verification core (pingedge.wasm).
//
// The wasm is imported as a module (Workers refuse to compile wasm from bytes at run time) and
// instantiated once per isolate, here at module scope. Go's runtime itself is started on the
// first request, because it draws random numbers and sets timers at start, which Workers
// forbid in global scope. Each request is handed to Go as lines; Go answers with the decision
// through __pingedgeHost.settle — before __pingedgeDecide returns when no I/O was needed (a
// cached token, a refusal), later when it waited on a key fetch or KV — and this shim applies
// it: 401/403/400/503, or fetch() to the origin with the credentials and client-sent identity
// headers stripped and the identity headers and request id set.
// A request the core allowed on a verified token is answered again from a memo of the core's
// answer, without entering Go, until that token's validation result would leave the core's
// cache (worker/bridge/memo.go says why this replays the core rather than deciding in JS).
// With a PINGEDGE_KV binding the memo also goes to KV, under a hash of its key, so a new isolate
// answers a request another isolate's core already answered before it starts Go at all.
// One audit JSON line per request goes to console.log (Workers Logs / Logpush); never the token.
import "./wasm_exec.js";
import wasm from "./pingedge.wasm";
import policy, { memoValues, requestIDHeader, answerScope } from "./policy.mjs";

const MAX_FETCH_MS = 10000;
const MEMO_MAX = 1024;
const go = new Go();
const instance = new WebAssembly.Instance(wasm, go.importObject);
let started = false;
let kv = null;

// Answers from Go by request id: ready holds those that came before anyone waited (the
// synchronous case), waiting the resolvers of requests whose decision is still running.
const ready = new Map();
const waiting = new Map();

globalThis.__pingedgeHost = {
  settle(id, answer) {
    const resolve = waiting.get(id);
    if (resolve) {
      waiting.delete(id);
      resolve(answer);
    } else {
      ready.set(id, answer);
    }
  },
  log(line) {
    console.error(String(line).trimEnd());
  },
  // fetchBounded GETs url and reads at most limit bytes of the body (a key set larger than
  // verify.MaxJWKSBytes is refused there; reading more would only waste the isolate's memory).
  async fetchBounded(url, limit) {
    const resp = await fetch(url, {
      headers: { Accept: "application/json, application/jwk-set+json" },
      redirect: "manual",
      signal: AbortSignal.timeout(MAX_FETCH_MS),
    });
    const chunks = [];
    let n = 0;
    if (resp.body) {
      const reader = resp.body.getReader();
      while (n < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        n += value.length;
      }
      if (n >= limit) await reader.cancel();
    }
    const body = new Uint8Array(Math.min(n, limit));
    let off = 0;
    for (const c of chunks) {
      const part = c.subarray(0, body.length - off);
      body.set(part, off);
      off += part.length;
    }
    return { status: resp.status, headers: [...resp.headers], body };
  },
  async kvGet(key) {
    return kv ? kv.get(key) : null;
  },
  async kvPut(key, value, ttlSeconds) {
    if (kv) await kv.put(key, value, { expirationTtl: Math.max(60, ttlSeconds) });
  },
};

// The decision memo (worker/bridge/memo.go): the core's answer to an allowed request on a
// verified token, replayed for the same method, raw path, header names and token until the
// token's validation result would leave the core's cache. memoValues are the header names whose
// values key it (the token's) and requestIDHeader the core's request-id header, both written
// into policy.mjs by `edge worker build` from the core's own code.
const memo = new Map();

function memoKey(method, path, headers) {
  let k = method + "\n" + path;
  for (const [name, value] of headers) {
    if (name === requestIDHeader) return null; // a client request id: the core keeps or replaces it
    // DPoP (RFC 9449): every request needs its own proof, checked by the core; never replay.
    if (name === "dpop" || (name === "authorization" && /^dpop /i.test(value))) return null;
    k += "\n" + name;
    if (memoValues.includes(name)) k += "\n" + value;
  }
  return k;
}

function memoGet(key) {
  const m = key && memo.get(key);
  if (!m) return null;
  if (Date.now() >= m.until) {
    memo.delete(key);
    return null;
  }
  return replay(m);
}

// replay is the core's memoised answer m with a fresh request id and audit time.
function replay(m) {
  const id = randomID();
  const time = new Date().toISOString().replace(/\.?0+Z$/, "Z"); // Go's RFC 3339 with trimmed zeros
  return { allow: true, status: 200, path: m.path, strip: m.strip, set: m.set, request_id_header: m.request_id_header,
    request_id: id, audit: '{"time":"' + time + '","request_id":"' + id + '",' + m.tail };
}

// memoPut keeps an answer the core marked reusable, and returns the entry (null: none).
function memoPut(key, a) {
  if (!key) return null;
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value); // the oldest
  const set = { ...a.set };
  delete set[a.request_id_header];
  const m = { until: a.memo_until, path: a.path, strip: a.strip, set, request_id_header: a.request_id_header, tail: a.audit_tail };
  memo.set(key, m);
  return m;
}

// The memo in KV: the entry under pingedge:answer: and the SHA-256 of this build's answerScope
// and the memo key (which holds the token, so never the key itself), kept until `until` (KV's
// least expirationTtl is 60 s, so `until` in the value is what bounds the replay).
async function kvAnswerKey(key) {
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(answerScope + "\n" + key));
  let s = "pingedge:answer:";
  for (const x of new Uint8Array(sum)) s += (x < 16 ? "0" : "") + x.toString(16);
  return s;
}

async function kvAnswerPut(store, key, m) {
  const ttl = Math.max(60, Math.ceil((m.until - Date.now()) / 1000));
  await store.put(await kvAnswerKey(key), JSON.stringify(m), { expirationTtl: ttl });
}

// kvAnswerGet replays the answer another isolate's core gave for key, or returns null. A value
// that is not exactly an entry kvAnswerPut wrote, or whose `until` has passed, is not used.
async function kvAnswerGet(store, key) {
  const raw = await store.get(await kvAnswerKey(key));
  if (!raw) return null;
  let m;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!m || typeof m.until !== "number" || Date.now() >= m.until || typeof m.path !== "string" ||
      typeof m.tail !== "string" || typeof m.request_id_header !== "string" || typeof m.set !== "object" || !Array.isArray(m.strip)) {
    return null;
  }
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value);
  memo.set(key, m);
  return replay(m);
}

function randomID() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const x of b) s += (x < 16 ? "0" : "") + x.toString(16);
  return s;
}

// decide hands one request to Go and returns its answer, or a Promise of it when the core
// has to wait on I/O.
function decide(wire) {
  const id = globalThis.__pingedgeDecide(wire);
  if (typeof id !== "number") throw new Error(String(id));
  const answer = ready.get(id);
  if (answer !== undefined) {
    ready.delete(id);
    return answer;
  }
  return new Promise((resolve) => waiting.set(id, resolve));
}

function start(env) {
  if (started) return;
  started = true;
  console.error(JSON.stringify({ level: "INFO", msg: "starting the pingedge core" })); // once per isolate
  kv = env.PINGEDGE_KV || null;
  go.env = { PINGEDGE_POLICY: policy };
  if (kv) go.env.PINGEDGE_KV = "1"; // validation results go to KV too (verify.ResultStore)
  if (typeof env.PINGEDGE_JWKS_COOLDOWN === "string") go.env.PINGEDGE_JWKS_COOLDOWN = env.PINGEDGE_JWKS_COOLDOWN;
  go.run(instance); // returns once Go's main blocks, with __pingedgeDecide registered
}

// rawTarget keeps the request-target as sent: new URL() would resolve dot segments and
// backslashes before the policy sees them, and the core must judge what the client sent.
function rawTarget(u) {
  const rest = u.slice(u.indexOf("//") + 2);
  const slash = rest.indexOf("/");
  let t = slash < 0 ? "/" : rest.slice(slash);
  const hash = t.indexOf("#");
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf("?");
  const origin = slash < 0 ? u : u.slice(0, u.length - rest.length + slash); // scheme://host, for DPoP's htu
  return q < 0 ? { path: t, query: "", origin } : { path: t.slice(0, q), query: t.slice(q), origin };
}

function plain(status, headers) {
  headers["Content-Type"] = "text/plain; charset=utf-8";
  headers["X-Content-Type-Options"] = "nosniff";
  return new Response(`${STATUS_TEXT[status] || "Error"}\n`, { status, headers });
}

const STATUS_TEXT = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
const FORWARDING = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

async function forward(request, env, target, a) {
  const incoming = new URL(request.url);
  const base = env.PINGEDGE_ORIGIN ? env.PINGEDGE_ORIGIN.replace(/\/+$/, "") : incoming.origin;
  const headers = new Headers(request.headers);
  for (const name of a.strip || []) headers.delete(name);
  for (const name of FORWARDING) headers.delete(name);
  const ip = request.headers.get("cf-connecting-ip");
  if (ip) headers.set("X-Forwarded-For", ip);
  headers.set("X-Forwarded-Host", incoming.host);
  headers.set("X-Forwarded-Proto", incoming.protocol.replace(":", ""));
  for (const [k, v] of Object.entries(a.set || {})) headers.set(k, v);
  headers.set(a.request_id_header, a.request_id);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  let resp;
  try {
    resp = await fetch(base + a.path + target.query, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      redirect: "manual",
    });
  } catch (err) {
    console.error(JSON.stringify({ level: "WARN", msg: "origin did not answer", path: a.path, error: String(err) }));
    return plain(502, { [a.request_id_header]: a.request_id });
  }
  const out = new Response(resp.body, resp);
  out.headers.set(a.request_id_header, a.request_id);
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const target = rawTarget(request.url);
    const key = memoKey(request.method, target.path, request.headers);
    let a = memoGet(key);
    if (!a && key && !started && env.PINGEDGE_KV) {
      // Only before Go has started: a warm isolate's own memo and core answer without a KV read.
      try {
        a = await kvAnswerGet(env.PINGEDGE_KV, key);
      } catch (err) {
        console.error(JSON.stringify({ level: "WARN", msg: "KV answer lookup failed", error: String(err && err.message || err) }));
      }
    }
    if (a) {
      console.log(a.audit);
      return forward(request, env, target, a);
    }
    start(env);
    if (typeof globalThis.__pingedgeDecide !== "function" || go.exited) {
      console.error(JSON.stringify({ level: "ERROR", msg: "pingedge core is not running" }));
      return plain(500, {});
    }
    try {
      // Lines, not JSON: cheaper to read in Go. HTTP allows no CR/LF in names or values.
      let wire = request.method + " " + target.origin + "\n" + target.path;
      for (const [k, v] of request.headers) wire += "\n" + k + "\n" + v;
      let answer = decide(wire);
      if (typeof answer !== "string") answer = await answer;
      a = JSON.parse(answer);
      const m = a.memo_until ? memoPut(key, a) : null;
      if (m && kv) {
        const put = kvAnswerPut(kv, key, m).catch((err) =>
          console.error(JSON.stringify({ level: "WARN", msg: "KV answer not stored", error: String(err && err.message || err) })));
        if (ctx && ctx.waitUntil) ctx.waitUntil(put);
      }
    } catch (err) {
      console.error(JSON.stringify({ level: "ERROR", msg: String(err && err.message || err) }));
      return plain(500, {});
    }
    console.log(a.audit);
    if (!a.allow) {
      const h = { "Cache-Control": "no-store", [a.request_id_header]: a.request_id };
      if (a.www_authenticate) h["WWW-Authenticate"] = a.www_authenticate;
      if (a.dpop_nonce) h["DPoP-Nonce"] = a.dpop_nonce;
      return plain(a.status, h);
    }
    return forward(request, env, target, a);
  },
};
