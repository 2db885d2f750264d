// Package policyfile reads a YAML policy file (reference: docs/policy.md) into the one policy
// model, package policy, with errors that name the line and the field. It is the only package
// of the core that imports a YAML parser: the Worker's wasm gets its policy precompiled
// (worker/bridge/policy.go) and must not link this package, whose YAML dependency compiles
// regular expressions at start-up (internal/archtest pins that).
package policyfile
