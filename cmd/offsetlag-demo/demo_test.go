package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/statuspage"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page screenshots to docs/status-page-*.png")

func TestHelpAndBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, f := range []string{"--web.listen-address", "--offsets.retention", "--offsets.retention-check-interval",
		"--poll.interval", "--web.refresh", "--partitions", "--produce.rate", "--produce.burst-every",
		"--produce.burst-size", "--produce.large-share", "--nightly.start-after", "--nightly.run-for", "--data-dir",
		"--log.level", "127.0.0.1:9745", "Ctrl-C"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
	for _, args := range [][]string{{"--nope"}, {"extra"}, {"--produce.rate=0"}, {"--log.level=loud"}, {"--offsets.retention=10ms"}} {
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("OFFSETLAG_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "chromium not found (scripts/ci-deps.sh installs it: Debian package chromium)")
	return ""
}

// renderedText waits until the first element matching sel has text and
// reads it, in one page task. The page replaces the groups table's rows and
// the group facts at every refresh; chromedp.Text queries the node and
// reads it in two steps, and its text.js returns "" for a node without
// layout, so a node replaced in between read as "" (countdown badge "",
// 1 run in 10 here).
func renderedText(sel string, text *string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel), text)
}

// waitGroups polls the JSON API until ok accepts the groups.
func waitGroups(t *testing.T, url string, timeout time.Duration, ok func(map[string]statuspage.Group) bool) map[string]statuspage.Group {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]statuspage.Group
	for time.Now().Before(deadline) {
		res, err := http.Get(url + "/api/v1/groups")
		if err == nil {
			var gr statuspage.GroupsResponse
			err = json.NewDecoder(res.Body).Decode(&gr)
			res.Body.Close()
			if err == nil {
				last = map[string]statuspage.Group{}
				for _, g := range gr.Groups {
					last[g.Group] = g
				}
				if ok(last) {
					return last
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out; last groups: %+v", last)
	return nil
}

// TestDemoInBrowser runs the demo on a short retention and checks the
// status page in headless Chromium while the nightly-report group's
// offsets count down (screenshot) and once they expired (screenshot): both
// groups, the badges, times shown relative with the exact time on hover,
// the cluster card's count equal to the table's, filtering, the expired
// group's chart and its words, the group page of the worker, and a 400 px
// wide layout where the Status column stays on screen.
func TestDemoInBrowser(t *testing.T) {
	testenv.SkipShort(t, "runs the demo in Chromium")
	exe := chromium(t)
	cfg := defaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	// The countdown runs for the retention (20 s): long enough to open a
	// browser on a busy machine and take its screenshot.
	cfg.Retention, cfg.CheckInterval = 20*time.Second, 500*time.Millisecond
	cfg.PollInterval, cfg.Refresh = 500*time.Millisecond, time.Second
	cfg.Rate, cfg.BurstEvery, cfg.BurstSize = 50, 4*time.Second, 1500
	cfg.NightlyAfter, cfg.NightlyFor = 500*time.Millisecond, 3*time.Second
	cfg.DataDir = t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	log, logw := newTestLogger()
	d, err := start(ctx, cfg, log, log)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := d.wait(); err != nil {
				t.Errorf("demo: %v", err)
			}
		}
	}
	defer stop()

	// 1. The API: the worker is there and nightly-report's offsets count
	// down (it stops after 3.5 s, is Empty, and 20 s later its offsets are
	// deleted).
	waitGroups(t, d.URL, 40*time.Second, func(g map[string]statuspage.Group) bool {
		w, n := g[workerGroup], g[nightlyGroup]
		return w.Present && w.SumLag != nil && n.Expiry != nil && !n.Expiry.ExpiresAt.IsZero() && !n.Expiry.Expired
	})

	// 2. The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.WindowSize(1280, 760),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// Every browser step waits for what it needs (an element, a refresh);
	// they are bounded by the test's deadline, not by a fixed 90 s that a
	// loaded machine (Chromium's start included) could exceed.
	if dl, ok := t.Deadline(); ok {
		var tcancel context.CancelFunc
		bctx, tcancel = context.WithDeadline(bctx, dl.Add(-30*time.Second))
		defer tcancel()
	}

	// The countdown.
	var countdown, lastPollTitle string
	var shot []byte
	expiringBadge := `#groups tbody tr[data-group="nightly-report"] .badge.expiring`
	if err := chromedp.Run(bctx,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(expiringBadge, chromedp.ByQuery),
		chromedp.WaitVisible(`#groups tbody tr[data-group="factor-worker"]`, chromedp.ByQuery),
		chromedp.Sleep(300*time.Millisecond),
		renderedText(expiringBadge, &countdown),
		chromedp.AttributeValue(`.cluster time.rel`, "title", &lastPollTitle, nil, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
	); err != nil {
		t.Fatalf("status page (countdown): %v\n%s", err, logw.String())
	}
	if !regexp.MustCompile(`^(expires in \d+(\.\d)?s|expiring now)$`).MatchString(countdown) {
		t.Errorf("countdown badge %q", countdown)
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$`).MatchString(lastPollTitle) {
		t.Errorf("last poll: exact time on hover %q", lastPollTitle)
	}
	saveScreenshot(t, shot, "status-page-countdown.png")

	// The expired state.
	var rows []string
	var expiredTitle, count, cardGroups, filtered string
	expiredBadge := `#groups tbody tr[data-group="nightly-report"] .badge.expired`
	if err := chromedp.Run(bctx,
		chromedp.WaitVisible(expiredBadge, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#groups tbody tr")).map(r => r.dataset.group)`, &rows),
		chromedp.AttributeValue(expiredBadge, "title", &expiredTitle, nil, chromedp.ByQuery),
		chromedp.Text(`#count`, &count, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".cluster dt")).find(e => e.textContent === "Groups").nextElementSibling.textContent`, &cardGroups),
	); err != nil {
		t.Fatalf("status page (expired): %v\n%s", err, logw.String())
	}
	if strings.Join(rows, ",") != "factor-worker,nightly-report" || count != "2" {
		t.Errorf("rows %v, count %q", rows, count)
	}
	// The card counts the groups the table lists, saying which are gone.
	if !strings.HasPrefix(cardGroups, count) {
		t.Errorf("cluster card says %q groups, the table lists %s", cardGroups, count)
	}
	if !regexp.MustCompile(`numbers at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$`).MatchString(expiredTitle) {
		t.Errorf("expired badge title %q", expiredTitle)
	}
	// Screenshot of the full page (before filtering).
	if err := chromedp.Run(bctx, chromedp.Sleep(300*time.Millisecond), chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot, "status-page-expired.png")

	// Filtering and sorting happen in the page.
	if err := chromedp.Run(bctx,
		chromedp.SendKeys(`#filter`, "expired", chromedp.ByQuery),
		chromedp.Text(`#count`, &filtered, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#groups tbody tr")).map(r => r.dataset.group)`, &rows),
	); err != nil {
		t.Fatal(err)
	}
	if filtered != "1 of 2" || strings.Join(rows, ",") != "nightly-report" {
		t.Errorf("filter 'expired': count %q rows %v", filtered, rows)
	}

	// The group page: partitions and a chart that grows with the polls.
	var partitions int
	var groupShot []byte
	if err := chromedp.Run(bctx,
		chromedp.Evaluate(`sessionStorage.clear()`, nil),
		chromedp.Navigate(d.URL+"/groups/demo/factor-worker"),
		chromedp.WaitVisible(`#chart svg polyline.line`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("group page: %v", err)
	}
	// The page refreshes every second from the API: wait (bounded) for a
	// refresh that lists every partition. (kfake keeps the commits of a
	// Stable consumer group on the topics it subscribes to, idle partitions
	// included: it drops them only once the group has been Empty, without
	// a commit, for the whole retention. On failure the message shows both
	// the exporter's view and the brokers' own, to tell which lost them.)
	rowsJS := `document.querySelectorAll("table.partitions tbody tr").length`
	pctx, pcancel := context.WithTimeout(bctx, 20*time.Second)
	err = chromedp.Run(pctx, chromedp.Poll(fmt.Sprintf("%s === %d", rowsJS, cfg.Partitions), nil,
		chromedp.WithPollingInterval(200*time.Millisecond)))
	pcancel()
	if err := chromedp.Run(bctx,
		chromedp.Evaluate(rowsJS, &partitions),
		chromedp.FullScreenshot(&groupShot, 100),
	); err != nil {
		t.Fatalf("group page: %v", err)
	}
	if partitions != cfg.Partitions {
		t.Errorf("group page shows %d partitions, want %d (wait: %v); the API says:\n%s\nthe brokers say: %s\ndemo log:\n%s",
			partitions, cfg.Partitions, err, apiGroup(d.URL, workerGroup), brokersGroup(d.cluster.ListenAddrs(), workerGroup), logw.String())
	}
	saveScreenshot(t, groupShot, "status-page-group.png")

	// The expired group's page: the chart keeps the lag recorded while
	// the group was listed and says what it shows, in words.
	var note, risk string
	var points int
	if err := chromedp.Run(bctx,
		chromedp.Navigate(d.URL+"/groups/demo/nightly-report"),
		chromedp.WaitVisible(`#chart svg polyline.line`, chromedp.ByQuery),
		chromedp.Sleep(1500*time.Millisecond), // one refresh from the API
		chromedp.Text(`#chart-note`, &note, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#chart svg polyline.line").getAttribute("points").split(" ").length`, &points),
		renderedText(`#facts .risk`, &risk),
	); err != nil {
		t.Fatalf("expired group page: %v", err)
	}
	if err := chromedp.Run(bctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot, "status-page-expired-group.png")
	if !regexp.MustCompile(`^Lag at the last \d+ polls that listed the group\. Its committed offsets expired at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC`).MatchString(note) || points < 2 {
		t.Errorf("expired group chart: %d points, note %q", points, note)
	}
	if !regexp.MustCompile(`(?i)^When a consumer starts again \(commits gone\)\s*[\d,]+ records (reprocessed \(starting from earliest\)|skipped \(starting from latest\))$`).MatchString(risk) {
		t.Errorf("records at risk wording %q", risk)
	}

	// 400 px wide: the groups table keeps Group, State, Lag, Status and
	// Offsets on screen, and the page does not scroll sideways.
	var narrow struct {
		StatusRight, Width, ScrollWidth float64
		Header                          []string
	}
	if err := chromedp.Run(bctx,
		chromedp.EmulateViewport(400, 900),
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(`#groups tbody tr[data-group="factor-worker"] .status`, chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
			const ths = Array.from(document.querySelectorAll("#groups thead th")).filter(th => th.offsetWidth > 0);
			const st = document.querySelector('#groups thead th[data-key="status"]').getBoundingClientRect();
			return {StatusRight: st.right, Width: window.innerWidth, ScrollWidth: document.documentElement.scrollWidth,
				Header: ths.map(th => th.textContent)};
		})()`, &narrow),
		chromedp.FullScreenshot(&shot, 100),
	); err != nil {
		t.Fatalf("400 px: %v", err)
	}
	if narrow.Width != 400 || narrow.StatusRight <= 0 || narrow.StatusRight > narrow.Width || narrow.ScrollWidth > narrow.Width {
		t.Errorf("at 400 px: status column right edge %.0f, window %.0f, page width %.0f (columns %v)",
			narrow.StatusRight, narrow.Width, narrow.ScrollWidth, narrow.Header)
	}
	t.Logf("at 400 px: columns %v, status column ends at %.0f px", narrow.Header, narrow.StatusRight)
	saveScreenshot(t, shot, "status-page-400px.png")

	// /metrics carries the lag families and the worker's metrics.
	res, err := http.Get(d.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var mb bytes.Buffer
	_, _ = mb.ReadFrom(res.Body)
	res.Body.Close()
	for _, want := range []string{`offsetlag_up{cluster_name="demo"} 1`, `group="factor-worker"`, "factor_worker_invocations_total"} {
		if !strings.Contains(mb.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	bcancel()
	acancel()
	start := time.Now()
	stop()
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("stopping took %s", took)
	}
}

// saveScreenshot writes to docs/ with -update-screenshot, else to the
// temporary directory (the path is logged).
func saveScreenshot(t *testing.T, png []byte, name string) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "offsetlag-"+name)
	if *updateScreenshot {
		path = filepath.Join("..", "..", "docs", name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// apiGroup returns the API's answer for one group of the demo cluster, for
// failure messages.
// brokersGroup is the brokers' own view of group: state, members and
// committed partitions (for a failure message).
func brokersGroup(brokers []string, group string) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dg, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return "describe: " + err.Error()
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return "offsets: " + err.Error()
	}
	var committed []string
	offs.Each(func(o kadm.OffsetResponse) {
		committed = append(committed, fmt.Sprintf("%s/%d@%d", o.Topic, o.Partition, o.At))
	})
	return fmt.Sprintf("state %s, %d members, committed %v", dg[group].State, len(dg[group].Members), committed)
}

func apiGroup(url, group string) string {
	res, err := http.Get(url + "/api/v1/groups/demo/" + group)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.Status + " " + b.String()
}
