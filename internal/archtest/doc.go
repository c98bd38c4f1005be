// Package archtest enforces the import rules of ARCHITECTURE.md ("Rules")
// with `go list` over the module; see archtest_test.go. It has no code of
// its own.
package archtest
