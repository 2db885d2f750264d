// The go-floor Worker of bench/worker.sh: Go's runtime started on the first request (as the
// pingedge shim does), then a pass-through.
import "./wasm_exec.js";
import wasm from "./gofloor.wasm";

const go = new Go();
const instance = new WebAssembly.Instance(wasm, go.importObject);
let started = false;

export default {
  async fetch(request, env) {
    if (!started) {
      started = true;
      go.run(instance);
    }
    if (globalThis.__goFloor() !== "ok") return new Response("go did not start\n", { status: 500 });
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, { method: request.method, headers: request.headers, redirect: "manual" });
  },
};
