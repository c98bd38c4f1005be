package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/offsetlag/offsetlag/internal/statuspage"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page screenshot to docs/status-page.png")

func TestHelpAndBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, f := range []string{"--web.listen-address", "--offsets.retention", "--offsets.retention-check-interval",
		"--poll.interval", "--web.refresh", "--partitions", "--produce.rate", "--produce.burst-every",
		"--produce.burst-size", "--produce.large-share", "--nightly.start-after", "--nightly.run-for", "--data-dir",
		"--log.level", "127.0.0.1:9745", "Ctrl-C"} {
		if !strings.Contains(errb.String(), f) {
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
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (scripts/ci-deps.sh installs it); required when CI=true")
	}
	t.Skip("chromium not found; install the Debian package chromium to run the browser test")
	return ""
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

// TestDemoInBrowser runs the demo on a short retention, waits until the
// nightly-report group's offsets expired, and checks the status page in
// headless Chromium: both groups, the expired badge, filtering, the group
// page's chart; it saves a screenshot.
func TestDemoInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	exe := chromium(t)
	cfg := defaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.Retention, cfg.CheckInterval = 8*time.Second, 500*time.Millisecond
	cfg.PollInterval, cfg.Refresh = 500*time.Millisecond, time.Second
	cfg.Rate, cfg.BurstEvery, cfg.BurstSize = 50, 4*time.Second, 1500
	cfg.NightlyAfter, cfg.NightlyFor = 500*time.Millisecond, 3*time.Second
	cfg.DataDir = t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	log, logw := newTestLogger(&logs)
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

	// 1. The API: the worker is there and nightly-report expired (it
	// stops after 3.5s, is Empty, and 8s later its offsets are deleted).
	waitGroups(t, d.URL, 40*time.Second, func(g map[string]statuspage.Group) bool {
		w, n := g[workerGroup], g[nightlyGroup]
		return w.Present && w.SumLag != nil && n.Expiry != nil && n.Expiry.Expired
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
	bctx, tcancel := context.WithTimeout(bctx, 40*time.Second)
	defer tcancel()

	var rows []string
	var expiredTitle, count, filtered string
	var shot []byte
	// Rows with data-group are rendered by the script from the JSON API.
	expiredBadge := `#groups tbody tr[data-group="nightly-report"] .badge.expired`
	if err := chromedp.Run(bctx,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(expiredBadge, chromedp.ByQuery),
		chromedp.WaitVisible(`#groups tbody tr[data-group="factor-worker"]`, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#groups tbody tr")).map(r => r.dataset.group)`, &rows),
		chromedp.AttributeValue(expiredBadge, "title", &expiredTitle, nil, chromedp.ByQuery),
		chromedp.Text(`#count`, &count, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("status page: %v\n%s", err, logw.String())
	}
	if strings.Join(rows, ",") != "factor-worker,nightly-report" || count != "2" {
		t.Errorf("rows %v, count %q", rows, count)
	}
	if !strings.Contains(expiredTitle, "numbers") {
		t.Errorf("expired badge title %q", expiredTitle)
	}
	// Screenshot of the full page (before filtering).
	if err := chromedp.Run(bctx, chromedp.Sleep(300*time.Millisecond), chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot, "status-page.png")

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
		chromedp.Evaluate(`document.querySelectorAll("table.partitions tbody tr").length`, &partitions),
		chromedp.FullScreenshot(&groupShot, 100),
	); err != nil {
		t.Fatalf("group page: %v", err)
	}
	if partitions != cfg.Partitions {
		t.Errorf("group page shows %d partitions, want %d", partitions, cfg.Partitions)
	}
	saveScreenshot(t, groupShot, "status-page-group.png")

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
