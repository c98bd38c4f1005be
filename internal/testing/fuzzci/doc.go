// Package fuzzci runs the project's Go fuzz targets for a bounded time in CI
// (CI=true or OFFSETLAG_TEST_FUZZ=1); see fuzz_test.go. It has no code of
// its own.
package fuzzci
