package statuspage

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

const hostile = `<script>alert("x")</script>&'"/evil`

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is one cluster "prod" with a live group, an Empty group whose
// offsets expire in 90s, a group out of range, a hostile name, and an
// expired group the last poll no longer lists.
func fixture(poll int) *result.Result {
	at := t0.Add(time.Duration(poll) * time.Second)
	lag := int64(100 + poll)
	part := func(p int32, committed, end int64) result.PartitionLag {
		return result.PartitionLag{Partition: p, Committed: committed, End: end, Lag: end - committed, HasLag: true,
			LagSeconds: 2.5, LagSecondsSource: result.LagSourceInterpolated, Status: result.StatusOK}
	}
	return &result.Result{Generated: at, Clusters: []result.ClusterResult{{
		Name: "prod", Up: true, LastPoll: at, LastSuccess: at, PollDuration: 12 * time.Millisecond,
		Polls: uint64(poll), Requests: map[string]uint64{"Metadata": uint64(poll)}, Brokers: 3,
		Topics:           []result.TopicResult{{Name: "orders"}},
		OffsetsRetention: 7 * 24 * time.Hour, OffsetsRetentionSource: "broker",
		Groups: []result.GroupResult{
			{Name: "billing", Type: "classic", State: "Stable", Members: 2, SumLag: lag, MaxLag: lag - 40,
				MaxLagSeconds: 2.5, HasLagSeconds: true, Status: "OK", Topics: []result.GroupTopicResult{{
					Topic: "orders", SumLag: lag, MaxLag: lag - 40, Status: "OK", MaxLagSeconds: 2.5, HasLagSeconds: true,
					ProduceRate: 10, ConsumeRate: 9, HasRates: true,
					Partitions: []result.PartitionLag{part(0, 1000, 1040), part(1, 2000, 2000+lag-40)},
				}}},
			{Name: "nightly", Type: "classic", State: "Empty", SumLag: 7, MaxLag: 7, Status: "STOP",
				Topics: []result.GroupTopicResult{{Topic: "orders", SumLag: 7, MaxLag: 7, Status: "STOP",
					Partitions: []result.PartitionLag{part(0, 1033, 1040)}}}},
			{Name: "slowpoke", Type: "classic", State: "Stable", Members: 1, SumLag: 5, MaxLag: 5, Status: "WARN",
				OutOfRange: 1, RecordsLost: 300, PartitionsWithoutCommit: 2, Topics: []result.GroupTopicResult{{
					Topic: "orders", SumLag: 5, MaxLag: 5, Status: "WARN", OutOfRange: 1, RecordsLost: 300,
					Partitions: []result.PartitionLag{{Partition: 0, Committed: 10, End: 15, Lag: 5, HasLag: true,
						OutOfRange: true, RecordsLost: 300, Status: result.StatusWarn}}}}},
			{Name: hostile, Type: "simple", State: "Empty", SumLag: 1, MaxLag: 1, Status: "OK"},
		},
		Expiry: []result.GroupExpiry{
			{Group: "billing", Type: "classic", State: "Stable", Present: true,
				Topics: []result.TopicExpiry{{Topic: "orders", LastCommitChange: at}}},
			{Group: "gone-report", Type: "classic", State: "Empty", Present: false,
				Topics: []result.TopicExpiry{{Topic: "orders", Expired: true, ExpiredAt: at.Add(-time.Minute),
					RecordsAtRisk: []result.RecordsAtRisk{{StartingPosition: "earliest", Records: 5000}, {StartingPosition: "latest", Records: 120}}}}},
			{Group: "nightly", Type: "classic", State: "Empty", Present: true, EmptySince: at.Add(-30 * time.Second),
				EmptySinceExact: true, ExpiresAt: at.Add(90 * time.Second), ExpiresIn: 90 * time.Second,
				Topics: []result.TopicExpiry{{Topic: "orders", ExpiresAt: at.Add(90 * time.Second),
					RecordsAtRisk: []result.RecordsAtRisk{{StartingPosition: "earliest", Records: 1033}}}}},
		},
	}}}
}

type source struct {
	r atomic.Pointer[result.Result]
}

// poll is one poll of the exporter: r becomes the latest Result and p
// records it.
func (s *source) poll(p *Page, r *result.Result) {
	s.r.Store(r)
	p.Record(r)
}

func newPage(t *testing.T) (*Page, *source) {
	t.Helper()
	src := &source{}
	src.r.Store(fixture(1))
	p, err := New(src.r.Load, Options{History: 5, Links: []Link{{Href: "/metrics", Text: "Metrics"}}})
	if err != nil {
		t.Fatal(err)
	}
	return p, src
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func getJSON[T any](t *testing.T, h http.Handler, path string, wantCode int) T {
	t.Helper()
	res, body := get(t, h, path)
	if res.StatusCode != wantCode {
		t.Fatalf("GET %s: %d, want %d: %s", path, res.StatusCode, wantCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: content type %q", path, ct)
	}
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return v
}

func TestAPIClusters(t *testing.T) {
	p, _ := newPage(t)
	got := getJSON[map[string]any](t, p, "/api/v1/clusters", 200)
	cs := got["clusters"].([]any)
	if len(cs) != 1 {
		t.Fatalf("clusters: %v", got)
	}
	c := cs[0].(map[string]any)
	for k, want := range map[string]any{"name": "prod", "up": true, "brokers": 3.0, "topics": 1.0, "groups": 5.0, "groups_not_listed": 1.0,
		"poll_duration_seconds": 0.012, "offsets_retention_seconds": 604800.0, "offsets_retention_source": "broker",
		"last_poll": "2025-03-01T12:00:01Z", "polls": 1.0, "poll_errors": 0.0} {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	if _, ok := c["last_error"]; ok {
		t.Error("last_error present while up")
	}
}

func TestAPIGroups(t *testing.T) {
	p, _ := newPage(t)
	got := getJSON[GroupsResponse](t, p, "/api/v1/groups", 200)
	var names []string
	by := map[string]Group{}
	for _, g := range got.Groups {
		names = append(names, g.Group)
		by[g.Group] = g
	}
	if want := []string{hostile, "billing", "gone-report", "nightly", "slowpoke"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("groups %q, want %q", names, want)
	}
	if g := by["billing"]; !g.Present || *g.SumLag != 101 || *g.MaxLagSeconds != 2.5 || g.Members != 2 ||
		g.Expiry == nil || g.Expiry.Expired || g.Expiry.ExpiresInSeconds != nil {
		t.Errorf("billing: %+v %+v", g, g.Expiry)
	}
	if g := by["nightly"]; g.Expiry == nil || !g.Expiry.ExpiresAt.Equal(t0.Add(91*time.Second)) ||
		*g.Expiry.ExpiresInSeconds != 90 || g.MaxLagSeconds != nil {
		t.Errorf("nightly: %+v %+v", g, g.Expiry)
	}
	if g := by["gone-report"]; g.Present || g.SumLag != nil || g.Status != "EXPIRED" || !g.Expiry.Expired ||
		fmt.Sprint(g.Expiry.RecordsAtRisk) != "[{earliest 5000} {latest 120}]" || fmt.Sprint(g.Topics) != "[orders]" {
		t.Errorf("gone-report: %+v %+v", g, g.Expiry)
	}
	if g := by["slowpoke"]; g.OutOfRange != 1 || g.RecordsLost != 300 || g.PartitionsWithoutCommit != 2 {
		t.Errorf("slowpoke: %+v", g)
	}
	// Raw shape: null for unknown values, not 0.
	raw := getJSON[struct{ Groups []map[string]any }](t, p, "/api/v1/groups", 200)
	for _, g := range raw.Groups {
		if g["group"] == "gone-report" && (g["sum_lag"] != nil || g["max_lag_seconds"] != nil) {
			t.Errorf("gone group lag not null: %v", g)
		}
		if g["group"] == "nightly" && g["max_lag_seconds"] != nil {
			t.Errorf("unknown time lag not null: %v", g)
		}
	}

	if got := getJSON[GroupsResponse](t, p, "/api/v1/groups?cluster=prod", 200); len(got.Groups) != 5 {
		t.Errorf("?cluster=prod: %d groups", len(got.Groups))
	}
	e := getJSON[ErrorResponse](t, p, "/api/v1/groups?cluster=nope", 404)
	if !strings.Contains(e.Error, `"nope"`) {
		t.Errorf("error %q", e.Error)
	}
}

func TestAPIGroupDetailAndHistory(t *testing.T) {
	p, src := newPage(t)
	for i := 1; i <= 8; i++ {
		r := fixture(i)
		src.poll(p, r)
		p.Record(r) // the same poll again (another cluster's poll): no new point
	}
	d := getJSON[GroupDetail](t, p, "/api/v1/groups/prod/billing", 200)
	if d.Group.Group != "billing" || len(d.TopicDetails) != 1 || len(d.TopicDetails[0].Partitions) != 2 {
		t.Fatalf("detail: %+v", d)
	}
	pt := d.TopicDetails[0]
	if *pt.ProduceRate != 10 || *pt.ConsumeRate != 9 || pt.CatchUpSeconds != nil || *pt.Partitions[1].Lag != 68 ||
		pt.Partitions[1].LagSecondsSource != "interpolated" {
		t.Errorf("topic: %+v", pt)
	}
	// History: bounded at 5 points, oldest first, one per poll.
	var lags []int64
	for _, h := range d.History {
		lags = append(lags, h.SumLag)
	}
	if fmt.Sprint(lags) != "[104 105 106 107 108]" {
		t.Errorf("history %v", lags)
	}
	if d.History[0].MaxLagSeconds == nil || *d.History[0].MaxLagSeconds != 2.5 {
		t.Errorf("history time lag: %+v", d.History[0])
	}
	// A gone, expired group has a detail page too, without topics.
	if g := getJSON[GroupDetail](t, p, "/api/v1/groups/prod/gone-report", 200); len(g.TopicDetails) != 0 || !g.Expiry.Expired || len(g.History) != 0 {
		t.Errorf("gone-report: %+v", g)
	}
	// The hostile name, escaped the way the page links it.
	if g := getJSON[GroupDetail](t, p, groupAPIPath("prod", hostile), 200); g.Group.Group != hostile {
		t.Errorf("hostile: %q", g.Group.Group)
	}
	for _, path := range []string{"/api/v1/groups/prod/nope", "/api/v1/groups/nope/billing", "/api/v1/groups/prod/", "/api/v1/nope", "/api/v2/groups"} {
		if e := getJSON[ErrorResponse](t, p, path, 404); e.Error == "" {
			t.Errorf("%s: empty error", path)
		}
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/groups", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestHistoryForgetsGoneGroupsAndIsBounded(t *testing.T) {
	h := newHistory(3, 2)
	r := fixture(1)
	h.record(r)
	if n := len(h.groups); n != 2 || h.dropped != 2 {
		t.Fatalf("groups %d dropped %d, want 2 and 2 (max groups)", n, h.dropped)
	}
	r = fixture(2)
	r.Clusters[0].Groups = r.Clusters[0].Groups[1:2] // only nightly left
	h.record(r)
	if _, ok := h.groups[groupKey{"prod", "billing"}]; ok || len(h.points("prod", "nightly")) != 2 {
		t.Fatalf("after billing left: %v", h.groups)
	}
	r = fixture(3)
	r.Clusters[0].Up, r.Clusters[0].LastSuccess = false, t0.Add(2*time.Second) // failed poll: no new point
	h.record(r)
	if n := len(h.points("prod", "nightly")); n != 2 {
		t.Fatalf("failed poll added a point: %d", n)
	}
	h.record(&result.Result{})
	if len(h.groups) != 0 || len(h.last) != 0 {
		t.Fatal("cluster gone, history kept")
	}
	h.record(nil)
}

func TestRecordConcurrent(t *testing.T) {
	p, src := newPage(t)
	srv := httptest.NewServer(p)
	defer srv.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 300; i++ {
			src.poll(p, fixture(i))
		}
	}()
	for i := 0; i < 20; i++ {
		for _, path := range []string{"/", "/groups/prod/billing", "/api/v1/groups/prod/billing", "/api/v1/groups"} {
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s: %d", path, res.StatusCode)
			}
		}
	}
	wg.Wait()
}

func TestHTMLPages(t *testing.T) {
	p, src := newPage(t)
	p.Record(src.r.Load())
	res, body := get(t, p, "/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<a href="/groups/prod/billing">billing</a>`,
		`<span class="badge expired"`,
		`<span class="badge expiring" data-expires-at="2025-03-01T12:01:31Z"`,
		`expires in 1m 30s`,
		`<span class="badge oor"`, `2 uncommitted`,
		`<span class="state s-gone">gone</span>`,
		`<span class="status st-expired">EXPIRED</span>`,
		`<a href="/metrics">Metrics</a>`,
		`data-kind="index"`, `data-api="/api/v1/groups"`,
		`<input id="filter"`, `<th data-key="sum_lag"`,
		`<dd title="source: broker">7d 00h</dd>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/ lacks %q", want)
		}
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("no CSP")
	}

	res, body = get(t, p, "/groups/prod/billing")
	if res.StatusCode != 200 {
		t.Fatalf("group page: %d", res.StatusCode)
	}
	for _, want := range []string{`<polyline class="line"`, `<table class="partitions">`, `10.0/s`, `interpolated`,
		`data-api="/api/v1/groups/prod/billing"`, `<h1>billing`} {
		if !strings.Contains(body, want) {
			t.Errorf("group page lacks %q", want)
		}
	}
	_, body = get(t, p, "/groups/prod/nightly")
	for _, want := range []string{`Empty since`, `<dt>If restarted without its commits</dt><dd>1,033 records reprocessed (starting from earliest)</dd>`,
		`<circle class="last"`, `<time class="rel" datetime="2025-03-01T12:01:31Z" title="2025-03-01 12:01:31 UTC">`,
		`Lag (records behind the log end, all topics) at each of the last 1 polls.`} {
		if !strings.Contains(body, want) {
			t.Errorf("nightly page lacks %q", want)
		}
	}
	_, body = get(t, p, "/groups/prod/gone-report")
	for _, want := range []string{`no lag to chart`, `the group is gone`, `Offsets expired`,
		`<dt>When a consumer starts again (commits gone)</dt><dd>120 records skipped (starting from latest)</dd>`,
		`No lag to chart: the group&#39;s committed offsets expired at 2025-03-01 11:59:01 UTC`} {
		if !strings.Contains(body, want) {
			t.Errorf("gone-report page lacks %q", want)
		}
	}
	_, body = get(t, p, "/groups/prod/slowpoke")
	if !strings.Contains(body, `<tr class="oor">`) {
		t.Error("out-of-range partition not marked")
	}

	for _, path := range []string{"/groups/prod/nope", "/groups/nope/billing", "/nope", "/groups/prod/"} {
		res, body := get(t, p, path)
		if res.StatusCode != 404 || !strings.Contains(body, "Not found") {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	for path, ct := range map[string]string{"/assets/app.js": "javascript", "/assets/style.css": "text/css", "/assets/favicon.svg": "image/svg+xml"} {
		res, _ := get(t, p, path)
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), ct) {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

func TestHTMLEscapesHostileNames(t *testing.T) {
	p, src := newPage(t)
	r := fixture(1)
	r.Clusters[0].Groups[0].Topics[0].Topic = `<img src=x onerror=alert(1)>`
	src.poll(p, r)
	for _, path := range []string{"/", groupPath("prod", hostile), "/groups/prod/billing", "/groups/prod/" + url.PathEscape("<b>nope</b>")} {
		_, body := get(t, p, path)
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>nope"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains unescaped %q", path, bad)
			}
		}
	}
	_, body := get(t, p, "/")
	if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#39;&#34;/evil`) {
		t.Error("hostile group name not shown escaped")
	}
	// The link reaches the group (its "/" is escaped in the path).
	link := `href="/groups/prod/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E&amp;%27%22%2Fevil"`
	if !strings.Contains(body, link) {
		t.Errorf("hostile link not found: want %s", link)
	}
	res, body := get(t, p, "/groups/prod/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E&%27%22%2Fevil")
	if res.StatusCode != 200 || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("hostile group page: %d", res.StatusCode)
	}
}

func TestNoResultYet(t *testing.T) {
	p, err := New(func() *result.Result { return nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, body := get(t, p, "/"); res.StatusCode != 200 || !strings.Contains(body, "No consumer groups yet") {
		t.Fatalf("/: %d", res.StatusCode)
	}
	if g := getJSON[GroupsResponse](t, p, "/api/v1/groups", 200); g.Groups == nil {
		t.Fatal("groups must be [] not null")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("nil source accepted")
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{0: "0.0s", 4.21: "4.2s", 42.4: "42s", 185: "3m 05s", 7380: "2h 03m", 3*86400 + 7200: "3d 02h", -1: "0.0s"} {
		if got := FormatSeconds(in); got != want {
			t.Errorf("FormatSeconds(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := formatInt(in); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]int64{0: 1, 1: 1, 3: 5, 7: 10, 11: 20, 180: 200, 501: 1000} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestExpiredGroupChart: a group whose offsets expired is no longer listed
// by the brokers; its chart keeps the points recorded while it was listed,
// frozen, and says so in words, poll after poll, until the tracker forgets
// it.
func TestExpiredGroupChart(t *testing.T) {
	p, src := newPage(t)
	for i := 1; i <= 3; i++ {
		src.poll(p, fixture(i))
	}
	for i := 4; i <= 100; i++ {
		r := fixture(i)
		c := &r.Clusters[0]
		c.Groups = c.Groups[:1] // nightly (and the others) no longer listed
		c.Expiry[2].Present, c.Expiry[2].ExpiresAt, c.Expiry[2].ExpiresIn = false, time.Time{}, 0
		c.Expiry[2].Topics[0].Expired, c.Expiry[2].Topics[0].ExpiredAt = true, t0.Add(4*time.Second)
		src.poll(p, r)
	}
	d := getJSON[GroupDetail](t, p, "/api/v1/groups/prod/nightly", 200)
	if d.Present || len(d.History) != 3 || d.History[2].Time != t0.Add(3*time.Second) {
		t.Fatalf("expired group: present %v, history %+v", d.Present, d.History)
	}
	want := "Lag at the last 3 polls that listed the group. Its committed offsets expired at 2025-03-01 12:00:04 UTC"
	if !strings.HasPrefix(d.HistoryNote, want) {
		t.Errorf("history note %q, want it to start with %q", d.HistoryNote, want)
	}
	_, body := get(t, p, "/groups/prod/nightly")
	for _, want := range []string{`<polyline class="line"`, `last poll that listed it`, `Lag at the last 3 polls that listed the group`} {
		if !strings.Contains(body, want) {
			t.Errorf("expired group page lacks %q", want)
		}
	}
	if strings.Contains(body, "no polls recorded yet") {
		t.Error(`expired group page says "no polls recorded yet"`)
	}
	// The tracker forgets the group: so does the history.
	r := fixture(101)
	r.Clusters[0].Groups, r.Clusters[0].Expiry = r.Clusters[0].Groups[:1], nil
	p.Record(r)
	if n := len(p.hist.points("prod", "nightly")); n != 0 {
		t.Errorf("history kept %d points of a forgotten group", n)
	}
}

// TestNoRawTimestamps: the visible text of the pages has no RFC 3339
// timestamps (they are in datetime attributes and titles only).
func TestNoRawTimestamps(t *testing.T) {
	p, src := newPage(t)
	p.Record(src.r.Load())
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	raw := regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)
	for _, path := range []string{"/", "/groups/prod/nightly", "/groups/prod/gone-report"} {
		_, body := get(t, p, path)
		if m := raw.FindString(tags.ReplaceAllString(body, " ")); m != "" {
			t.Errorf("%s shows a raw timestamp %q", path, m)
		}
		if !strings.Contains(body, `<time class="rel"`) {
			t.Errorf("%s has no relative time", path)
		}
	}
}

// HA replicas: the header names the replica that owns the groups shown, on
// every page; without HA there is no such line.
func TestReplicaOwner(t *testing.T) {
	src := &source{}
	src.r.Store(fixture(1))
	owner := "kgo-abc (host-1), 5 of 16 shards"
	p, err := New(src.r.Load, Options{Replica: func() string { return owner }})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/groups/prod/billing"} {
		_, body := get(t, p, path)
		if !strings.Contains(body, `<span class="replica"`) || !strings.Contains(body, "owner: kgo-abc (host-1), 5 of 16 shards") {
			t.Errorf("%s: no owner line", path)
		}
	}
	owner = "<script>"
	if _, body := get(t, p, "/"); strings.Contains(body, "owner: <script>") {
		t.Error("owner not escaped")
	}
	plain, _ := newPage(t)
	if _, body := get(t, plain, "/"); strings.Contains(body, `class="replica"`) {
		t.Error("owner line without HA")
	}
}
