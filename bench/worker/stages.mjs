// Cold-start stages of the pingedge Worker's Go core, timed in node (the V8 family workerd
// embeds, also compiling wasm lazily). workerd freezes Date.now() and performance.now() while a
// request runs (a Spectre mitigation), so the stages cannot be timed inside it; bench/worker.sh
// times the whole cold start there. Used by bench/worker-stages.sh:
//
//   node stages.mjs DIR          one cold start of the bundle in DIR (pingedge.wasm,
//                                wasm_exec.js, policy.mjs): prints one JSON line of stages
//   node stages.mjs summary FILE medians per name, and paired medians against the first name
//
// The bundle's policy must name issuer http://127.0.0.1:18787 with jwks_uri /jwks and audience
// api (bench/worker/stages-policy.yaml): this process serves that key set and signs the token.
// A Go Worker without __pingedgeDecide (bench/worker/gofloor) is timed up to go.run.
// With CPU=1 the figures are the process's CPU time (all V8 threads), not wall time: less
// swayed by other jobs on a loaded machine.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { generateKeyPairSync, createSign } from "node:crypto";
import { pathToFileURL } from "node:url";

if (process.argv[2] === "summary") summary(process.argv[3]);
else await coldStart(process.argv[2]);

async function coldStart(dir) {
  const { token, server } = await issuer();
  const answers = new Map();
  globalThis.__pingedgeHost = {
    settle(id, a) {
      const resolve = answers.get(id);
      if (resolve) resolve(a);
      else answers.set(id, a);
    },
    log() {},
    async fetchBounded(url, limit) {
      const resp = await fetch(url);
      const body = new Uint8Array(await resp.arrayBuffer());
      return { status: resp.status, headers: [...resp.headers], body: body.subarray(0, limit) };
    },
    async kvGet() { return null; },
    async kvPut() {},
  };
  const policy = (await import(pathToFileURL(dir + "/policy.mjs"))).default;
  await import(pathToFileURL(dir + "/wasm_exec.js"));
  const bytes = readFileSync(dir + "/pingedge.wasm");
  const marks = [mark()];
  const module = new WebAssembly.Module(bytes);
  marks.push(mark());
  const go = new Go();
  const instance = new WebAssembly.Instance(module, go.importObject);
  marks.push(mark());
  go.env = { PINGEDGE_POLICY: policy };
  go.run(instance); // returns once Go's main blocks, as in worker/shim.mjs
  marks.push(mark());
  if (typeof globalThis.__pingedgeDecide === "function") {
    const refused = await decide(answers, "GET https://w.example\n/x");
    marks.push(mark());
    const allowed = await decide(answers, "GET https://w.example\n/x\nauthorization\nBearer " + token);
    marks.push(mark());
    if (!refused.includes('"status":401') || !allowed.includes('"allow":true')) {
      throw new Error("unexpected answers: " + refused.slice(0, 120) + " / " + allowed.slice(0, 120));
    }
  }
  const names = ["compile", "instantiate", "go_run", "first_401", "first_verified"];
  const out = {};
  for (let i = 1; i < marks.length; i++) out[names[i - 1]] = +(marks[i] - marks[i - 1]).toFixed(2);
  console.log(JSON.stringify(out));
  server.close();
  process.exit(0);
}

function mark() {
  if (!process.env.CPU || process.env.CPU === "0") return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function decide(answers, wire) {
  const id = globalThis.__pingedgeDecide(wire);
  if (answers.has(id)) {
    const a = answers.get(id);
    answers.delete(id);
    return Promise.resolve(String(a));
  }
  return new Promise((resolve) => answers.set(id, (a) => resolve(String(a))));
}

// issuer serves a fresh RSA key set on 127.0.0.1:18787 and signs an RS256 access token.
async function issuer() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const input = b64({ alg: "RS256", kid: "k1", typ: "at+jwt" }) + "." +
    b64({ iss: "http://127.0.0.1:18787", aud: "api", sub: "alice", iat: now, exp: now + 600 });
  const token = input + "." + createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url");
  const server = createServer((_, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((ok) => server.listen(18787, "127.0.0.1", ok));
  return { token, server };
}

function summary(file) {
  const runs = new Map(); // name -> [stages]
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const sp = line.indexOf(" ");
    if (sp < 0) continue;
    const o = JSON.parse(line.slice(sp + 1));
    o.total = Object.values(o).reduce((a, b) => a + b, 0);
    const name = line.slice(0, sp);
    if (!runs.has(name)) runs.set(name, []);
    runs.get(name).push(o);
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const fmt = (o, signed) => Object.entries(o).map(([k, v]) => `${k} ${signed && v >= 0 ? "+" : ""}${v.toFixed(1)}`).join("  ");
  const [first, ...rest] = [...runs.keys()];
  for (const [name, rs] of runs) {
    const m = {};
    for (const k of Object.keys(rs[0])) m[k] = median(rs.map((r) => r[k]));
    console.log(`${name.padEnd(12)} n=${rs.length}  ${fmt(m)}`);
  }
  for (const name of rest) {
    const a = runs.get(name), b = runs.get(first), n = Math.min(a.length, b.length), d = {};
    for (const k of Object.keys(a[0])) if (k in b[0]) d[k] = median([...Array(n).keys()].map((i) => a[i][k] - b[i][k]));
    console.log(`${name} - ${first}, paired medians: ${fmt(d, true)}`);
  }
}
