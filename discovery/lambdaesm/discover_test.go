package lambdaesm_test

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/discovery/lambdaesm"
	"github.com/offsetlag/offsetlag/exporter/expiry"
)

func TestDiscoverAgainstStandIn(t *testing.T) {
	s := newStandIn(t,
		sqsMapping("00000000-sqs", "jobs"), // not Kafka: ignored
		mskMapping("11111111-msk-uuid-group", "factor", "Disabled", "LATEST", "", "numbers"),
		mskMapping("22222222-msk-named", "audit", "Enabled", "TRIM_HORIZON", "audit-esm", "numbers", "audit"),
		selfManagedMapping("33333333-self", "billing", "Disabling", "AT_TIMESTAMP", "billing-esm",
			[]string{"K2.example.com:9092", "k9:9092"}, "invoices"),
		selfManagedMapping("44444444-other", "elsewhere", "Enabled", "LATEST", "", []string{"other:9092"}, "x"),
		mskMapping("55555555-test", "test-scratch", "Disabled", "LATEST", "", "numbers"), // filtered out
		mskMapping("66666666-deleting", "old", "Deleting", "LATEST", "", "numbers"),
	)
	s.set(append(s.mappings[:0:0], s.mappings...)...)
	s.mappings[3]["StartingPositionTimestamp"] = 1.7e9
	s.throttle = 2 // the first two requests are throttled: the SDK retries
	logs := &bytes.Buffer{}
	d := newDiscoverer(t, s, lambdaesm.Config{
		IncludeFunction: func(name string) bool { return !strings.HasPrefix(name, "test-") },
		Settings:        lambdaesm.Settings{Horizon: 36 * time.Hour},
		Logger:          slog.New(slog.NewTextHandler(logs, nil)),
		Clusters: []lambdaesm.Cluster{
			{Name: "msk", MSKClusterARN: mskARN, Brokers: []string{"b-1.orders.kafka.eu-west-1.amazonaws.com:9096"}},
			{Name: "self", Brokers: []string{"k1.example.com:9092", "k2.example.com:9092"}},
		},
	})
	if err := d.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.throttled != 2 {
		t.Errorf("throttled %d requests, want 2", s.throttled)
	}
	// 7 mappings in pages of 2: 4 pages, following NextMarker.
	if want := []string{"", "page-2", "page-4", "page-6"}; !slices.Equal(s.markers, want) {
		t.Errorf("markers %q, want %q", s.markers, want)
	}
	if s.maxItems[0] != "100" {
		t.Errorf("MaxItems %q", s.maxItems[0])
	}

	snap := d.Snapshot()
	var uuids []string
	for _, m := range snap.Mappings {
		uuids = append(uuids, m.UUID+"@"+m.Cluster)
	}
	want := []string{"11111111-msk-uuid-group@msk", "22222222-msk-named@msk", "33333333-self@self",
		"44444444-other@", "66666666-deleting@msk"}
	if !slices.Equal(uuids, want) {
		t.Fatalf("mappings %q, want %q", uuids, want)
	}
	m := snap.Mappings[0]
	if m.GroupID != m.UUID || !m.GroupIDIsUUID || m.FunctionName != "factor" || m.State != "Disabled" ||
		m.StartingPosition != "LATEST" || m.MSKClusterARN != mskARN || m.Region != "eu-west-1" {
		t.Errorf("MSK mapping without ConsumerGroupId: %+v", m)
	}
	if m := snap.Mappings[2]; m.GroupID != "billing-esm" || m.GroupIDIsUUID || m.FunctionName != "billing" ||
		!m.StartingPositionTimestamp.Equal(time.Unix(1.7e9, 0)) || len(m.BootstrapServers) != 2 {
		t.Errorf("self-managed mapping: %+v", m)
	}

	msk := d.ExpectedGroups("msk")
	if len(msk) != 2 {
		t.Fatalf("msk expected groups: %+v", msk)
	}
	if eg := msk[0]; eg.Group != "11111111-msk-uuid-group" || eg.StartingPosition != "latest" ||
		!slices.Equal(eg.Topics, []string{"numbers"}) || len(eg.Lambda) != 1 || eg.Lambda[0].FunctionName != "factor" ||
		eg.Lambda[0].State != "Disabled" || eg.Lambda[0].Horizon != 36*time.Hour {
		t.Errorf("msk[0] = %+v", eg)
	}
	if eg := msk[1]; eg.Group != "audit-esm" || eg.StartingPosition != "earliest" || len(eg.Topics) != 2 {
		t.Errorf("msk[1] = %+v", eg)
	}
	if self := d.ExpectedGroups("self"); len(self) != 1 || self[0].Group != "billing-esm" ||
		self[0].StartingPosition != "timestamp" {
		t.Errorf("self expected groups: %+v", self)
	}
	if !d.HasGroup("audit-esm") || d.HasGroup("66666666-deleting") || d.HasGroup("44444444-other") {
		t.Error("HasGroup")
	}
	if n := strings.Count(logs.String(), "matches no configured cluster"); n != 1 {
		t.Errorf("%d unmatched lines, want 1:\n%s", n, logs)
	}

	// A failed listing keeps the last mappings (a denied or throttled
	// call must not make disabled functions vanish), logged once.
	s.mu.Lock()
	s.deny = true
	s.mu.Unlock()
	for i := 0; i < 2; i++ {
		if err := d.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Fatalf("refresh with 403: %v", err)
		}
	}
	if len(d.ExpectedGroups("msk")) != 2 {
		t.Error("mappings dropped on a failed listing")
	}
	if n := strings.Count(logs.String(), "cannot list Lambda event source mappings"); n != 1 {
		t.Errorf("%d failure lines, want 1", n)
	}

	// Recovery: the factor mapping is enabled, the audit one deleted.
	s.mu.Lock()
	s.deny = false
	s.mappings = s.mappings[:2]
	s.mappings[1]["State"] = "Enabled"
	s.mu.Unlock()
	if err := d.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if msk := d.ExpectedGroups("msk"); len(msk) != 1 || msk[0].Lambda[0].State != "Enabled" {
		t.Errorf("after recovery: %+v", msk)
	}
	for _, want := range []string{"listing Lambda event source mappings works again", "changed state", "is gone"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %q line:\n%s", want, logs)
		}
	}
}

func TestFromConfigurationRules(t *testing.T) {
	for _, c := range []struct {
		arn  string
		want bool
	}{
		{mskARN, true},
		{"arn:aws-cn:kafka:cn-north-1:1:cluster/x/y", true},
		{"arn:aws:kafka:eu-west-1:1:topic/x/y/t", false},
		{"arn:aws:sqs:eu-west-1:1:q", false},
		{"", false},
	} {
		if got := lambdaesm.IsMSKClusterARN(c.arn); got != c.want {
			t.Errorf("IsMSKClusterARN(%q) = %v", c.arn, got)
		}
	}
	for in, want := range map[string]string{
		fnARN("f"): "f", fnARN("f") + ":live": "f", fnARN("f") + ":$LATEST": "f", "plain": "plain",
	} {
		if got := lambdaesm.FunctionName(in); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", in, got, want)
		}
	}
	// Lambda's starting positions map to the strings of the configuration's
	// expiry.expected-groups, which exporter/expiry validates and
	// interprets: an expected group fed from any mapping is a valid one.
	for in, want := range map[string]string{
		"TRIM_HORIZON": "earliest", "LATEST": "latest", "AT_TIMESTAMP": "timestamp", "": "", "trim_horizon": "",
	} {
		if got := lambdaesm.Position(in); got != want {
			t.Errorf("Position(%q) = %q, want %q", in, got, want)
		}
		m := lambdaesm.Mapping{GroupID: "g", StartingPosition: in}
		var cfg expiry.Config
		cfg.Expiry.ExpectedGroups = []expiry.ExpectedGroup{m.Expected(time.Hour)}
		if eg := cfg.Expiry.ExpectedGroups[0]; eg.StartingPosition != want || eg.Lambda[0].StartingPosition != want {
			t.Errorf("Expected of a %q mapping: starting positions %q and %q, want %q", in, eg.StartingPosition, eg.Lambda[0].StartingPosition, want)
		}
		if err := cfg.Validate(nil); err != nil {
			t.Errorf("Expected of a %q mapping: %v", in, err)
		}
	}
	c := lambdaesm.Cluster{Name: "c", Brokers: []string{"a:1"}}
	if c.Matches(lambdaesm.Mapping{MSKClusterARN: mskARN, BootstrapServers: []string{"a:1"}}) {
		t.Error("an MSK mapping matched a cluster without msk-cluster-arn")
	}
	if !c.Matches(lambdaesm.Mapping{BootstrapServers: []string{" A:1 "}}) {
		t.Error("bootstrap overlap not matched")
	}
}
