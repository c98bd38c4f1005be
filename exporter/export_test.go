package exporter

// DefaultStaleAfterPolls is defaultStaleAfterPolls for the external tests
// (package exporter_test).
const DefaultStaleAfterPolls = defaultStaleAfterPolls

// PollEvery is pollEvery for the external tests.
var PollEvery = pollEvery
