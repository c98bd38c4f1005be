package exporter

// DefaultStaleAfterPolls is defaultStaleAfterPolls for the external tests
// (package exporter_test).
const DefaultStaleAfterPolls = defaultStaleAfterPolls

// PollEvery is pollEvery for the external tests.
var PollEvery = pollEvery

// TrendsConfig is trendsConfig for the external tests.
var TrendsConfig = trendsConfig
