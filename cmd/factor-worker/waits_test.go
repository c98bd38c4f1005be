package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kfaketest"
	"github.com/offsetlag/offsetlag/internal/testing/testenv"
	"github.com/offsetlag/offsetlag/worker/store"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBinaryWaitsForKafka starts the factor-worker binary 30 s before its
// broker exists (the sidecar case): it must keep running, answer /healthz
// 200 and /readyz 503 meanwhile, and once an in-process cluster comes up
// on the configured address, consume every record, answer /readyz 200 and
// exit 0 on SIGTERM.
func TestBinaryWaitsForKafka(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the binary for 30 s")
	const before = 30 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	broker := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "results.db")
	w := startWorker(t, bin, "--kafka.brokers", broker, "--group", "g-wait", "--sqlite-path", db, "--batch-window", "50ms")

	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(w.logText(), `"msg":"kafka state: connecting"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no connecting state logged:\n%s", w.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Kafka stays away for 30 s after the start; the worker must neither exit
	// nor claim readiness meanwhile.
	for time.Since(w.started) < before {
		select {
		case err := <-w.exited:
			t.Fatalf("worker exited while waiting for Kafka: %v\n%s", err, w.logText())
		case <-time.After(time.Second):
		}
		if code, body := get(t, "http://"+w.addr+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "kafka: connecting") {
			t.Fatalf("/readyz while Kafka is down: %d %q", code, body)
		}
		if code, _ := get(t, "http://"+w.addr+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz while Kafka is down: %d", code)
		}
	}
	if scrape(t, w.addr, "factor_worker_kafka_connected") != 0 {
		t.Fatal("factor_worker_kafka_connected is not 0 while Kafka is down")
	}

	c := kfaketest.New(t, kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(3, "numbers", "numbers-failed"))
	up := time.Now()
	cl := c.NewClient(t, kgo.DefaultProduceTopic("numbers"))
	const total = 600
	recs := make([]*kgo.Record, total)
	for i := range recs {
		recs[i] = &kgo.Record{Value: []byte(fmt.Sprintf(`{"number": %d}`, i+1))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	for {
		offs, err := adm.FetchOffsets(ctx, "g-wait")
		var sum int64
		if err == nil {
			offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		}
		if sum == total {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("committed %d of %d after Kafka came up:\n%s", sum, total, w.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	consumedIn := time.Since(up)
	if code, body := get(t, "http://"+w.addr+"/readyz"); code != http.StatusOK || !strings.Contains(body, "partitions: 3") {
		t.Fatalf("/readyz after Kafka came up: %d %q", code, body)
	}
	if got := scrape(t, w.addr, "factor_worker_consuming"); got != 1 {
		t.Fatalf("factor_worker_consuming = %v", got)
	}
	w.terminate(t)
	st, err := store.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.Count(context.Background()); n != total {
		t.Fatalf("rows = %d, want %d", n, total)
	}
	logs := w.logText()
	for _, want := range []string{`"msg":"kafka state: connecting"`, `"msg":"connected to kafka"`, `"msg":"kafka state: consuming"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("log lacks %s:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, `"msg":"kafka state: connecting"`); n > 3 {
		t.Fatalf("%d 'connecting' lines: want one per state change, not one per attempt", n)
	}
	t.Logf("worker waited %s for Kafka, then consumed and committed %d records %s after the broker came up",
		up.Sub(w.started).Round(time.Millisecond), total, consumedIn.Round(time.Millisecond))
}
