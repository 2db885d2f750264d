// The floor of bench/worker.sh: a Worker that passes every request to the origin unchecked,
// i.e. what workerd itself costs per request.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, { method: request.method, headers: request.headers, redirect: "manual" });
  },
};
