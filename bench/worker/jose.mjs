// The Worker a Cloudflare developer would write with panva/jose, for bench/worker.sh: verify
// the bearer token against the issuer's JWKS (createRemoteJWKSet caches it in the isolate),
// check the path and role as the benchmark's policy does, strip Authorization, set
// X-Auth-User and the other identity headers, pass the request on and console.log an audit line.
// bench/worker.sh bundles it with esbuild, as wrangler does.
import { createRemoteJWKSet, jwtVerify } from "jose";

let jwks = null;

// rules mirror the benchmark's policy (internal/edgecases.Policy): first match wins.
const RULES = [
  { prefix: "/public/", anyone: true },
  { prefix: "/admin/", roles: ["admin"] },
  { prefix: "/api/", roles: ["engineer", "admin"] },
];

function refuse(status, challenge) {
  const headers = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };
  if (challenge) headers["WWW-Authenticate"] = challenge;
  return new Response(status === 401 ? "Unauthorized\n" : "Forbidden\n", { status, headers });
}

function audit(sub, request, path, decision, status) {
  console.log(JSON.stringify({ time: new Date().toISOString(), sub, method: request.method, path, decision, status }));
}

export default {
  async fetch(request, env) {
    jwks ??= createRemoteJWKSet(new URL(env.JWKS_URL));
    const url = new URL(request.url);
    const rule = RULES.find((r) => url.pathname.startsWith(r.prefix));
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    for (const h of ["x-auth-user", "x-auth-email", "x-auth-roles"]) headers.delete(h);
    let sub = "";
    if (!rule || !rule.anyone) {
      const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(request.headers.get("authorization") || "");
      if (!m) {
        audit(sub, request, url.pathname, "deny", 401);
        return refuse(401, "Bearer");
      }
      let payload;
      try {
        ({ payload } = await jwtVerify(m[1], jwks, { issuer: env.ISSUER, audience: env.AUDIENCE, clockTolerance: 30 }));
      } catch {
        audit(sub, request, url.pathname, "deny", 401);
        return refuse(401, 'Bearer error="invalid_token"');
      }
      sub = String(payload.sub || "");
      const roles = Array.isArray(payload.roles) ? payload.roles : [];
      if (!rule || !rule.roles.some((r) => roles.includes(r))) {
        audit(sub, request, url.pathname, "deny", 403);
        return refuse(403);
      }
      headers.set("X-Auth-User", sub);
      if (payload.email) headers.set("X-Auth-Email", String(payload.email));
      headers.set("X-Auth-Roles", roles.join(","));
    }
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const resp = await fetch(env.ORIGIN + url.pathname + url.search, {
      method: request.method, headers, body: hasBody ? request.body : undefined, redirect: "manual",
    });
    audit(sub, request, url.pathname, "allow", resp.status);
    return resp;
  },
};
