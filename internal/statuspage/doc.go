// Package statuspage serves the exporter's human side: a server-rendered
// HTML status page and a small JSON API, both read from the exporter's
// latest Result (no request ever reaches Kafka).
//
// Routes (Go 1.22 ServeMux patterns, GET only):
//
//	/                                  clusters, poll health and every group (sortable, filterable)
//	/groups/{cluster}/{group...}       one group: per-partition lag and a lag chart over recent polls
//	/api/v1/clusters                   clusters and poll health
//	/api/v1/groups[?cluster=NAME]      every group, or one cluster's
//	/api/v1/groups/{cluster}/{group...} one group with topics, partitions and lag history
//	/assets/...                        embedded CSS and JavaScript (no build step)
//
// Unknown API paths and unknown groups answer 404 with {"error": "..."}.
// Every value is escaped by html/template on the server and written with
// textContent by the script, so a group named <script> stays text.
//
// The page refreshes itself: the script fetches the JSON API every few
// seconds and re-renders the tables, keeping the sort order and filter.
// Expiry countdowns tick every second between fetches.
//
// History: the lag chart needs more than the latest Result, so Page keeps
// a bounded ring of the last Options.History polls' lag totals per group
// (at most Options.MaxGroups groups). Record feeds it; call it from the
// exporter's Options.OnResult. It never waits on I/O: it takes one short
// lock, and appends a point per group only for clusters whose last
// successful poll is newer than the one recorded before.
package statuspage
