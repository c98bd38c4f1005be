package exporter

// DefaultStaleAfterPolls is defaultStaleAfterPolls for the external tests
// (package exporter_test).
const DefaultStaleAfterPolls = defaultStaleAfterPolls
