// Package policy is the policy model shared by `pingedge verify`, `edge serve`, forward-auth
// and the Worker (reference: docs/policy.md): validation, path normalisation (RFC 3986 §6.2.2)
// and rule matching, first match wins. Reading the YAML file is package policyfile's job, kept
// apart so the Worker's wasm, which receives the policy precompiled, links no YAML parser.
package policy
