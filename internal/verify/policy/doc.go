// Package policy is the YAML policy language shared by `pingedge verify`, `edge serve`,
// forward-auth and the Worker (reference: docs/policy.md): parsing with line numbers,
// validation, path normalisation (RFC 3986 §6.2.2) and rule matching, first match wins.
package policy
