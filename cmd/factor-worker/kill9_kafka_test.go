package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/offsetlag/offsetlag/internal/testing/kafkatest"
	"github.com/offsetlag/offsetlag/worker/message"
	"github.com/offsetlag/offsetlag/worker/store"
)

// workerProc is a running factor-worker binary.
type workerProc struct {
	cmd     *exec.Cmd
	addr    string // metrics address
	mu      sync.Mutex
	logs    bytes.Buffer
	exited  chan error
	started time.Time
}

func startWorker(t *testing.T, bin string, args ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--web.listen-address", "127.0.0.1:0", "--log.format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, exited: make(chan error, 1), started: time.Now()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.logs.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil && l["msg"] == "metrics listening" {
				addrc <- l["addr"].(string)
			}
		}
		w.exited <- cmd.Wait()
	}()
	select {
	case w.addr = <-addrc:
	case err := <-w.exited:
		t.Fatalf("worker exited at start: %v\n%s", err, w.logText())
	case <-time.After(30 * time.Second):
		t.Fatal("worker logged no metrics address")
	}
	return w
}

// terminate sends SIGTERM and fails t unless the worker exits cleanly
// within a minute.
func (w *workerProc) terminate(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.exited:
		if err != nil {
			t.Fatalf("worker exit after SIGTERM: %v\n%s", err, w.logText())
		}
	case <-time.After(time.Minute):
		t.Fatalf("worker did not exit within a minute of SIGTERM\n%s", w.logText())
	}
}

func (w *workerProc) logText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "factor-worker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// readAll reads every record of topic from the start up to its end offsets.
func readAll(t *testing.T, brokers []string, adm *kadm.Client, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Transaction markers take offsets too, so on a transactional topic the
	// end offsets overcount: stop at the count, or after 3 idle seconds once
	// the markers' share is all that is missing.
	var out []*kgo.Record
	idle := time.Now()
	for int64(len(out)) < want && time.Since(idle) < 3*time.Second {
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d of %d records", topic, len(out), want)
		}
		if recs := fs.Records(); len(recs) > 0 {
			out = append(out, recs...)
			idle = time.Now()
		}
	}
	return out
}

// TestKill9RealKafka is the end-to-end crash test on a real Kafka broker:
// produce records (1% malformed), kill -9 the worker midway, restart it, and
// require exactly one result row per valid record and the malformed records
// (by source partition and offset) on the failure topic: exactly once with
// --transactional-id (100,000 records), at least once without it (50,000
// records), where a duplicate dead letter may only be of a record at or
// after the offset committed when the worker was killed (the measured
// at-least-once bound).
func TestKill9RealKafka(t *testing.T) {
	b := kafkatest.Start(t, kafkatest.Options{})
	bin := buildBinary(t)
	brokers := b.Bootstrap()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	t.Run("transactional", func(t *testing.T) { kill9Run(t, bin, brokers, adm, true, 100_000) })
	t.Run("at-least-once", func(t *testing.T) { kill9Run(t, bin, brokers, adm, false, 50_000) })
}

func kill9Run(t *testing.T, bin string, brokers []string, adm *kadm.Client, txn bool, total int) {
	ctx := context.Background()
	src, failed, group := "numbers", "numbers-failed", "kill9"
	if !txn {
		src, failed, group = "numbers-alo", "numbers-alo-failed", "kill9-alo"
	}
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, src); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, failed); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "produce", "--kafka.brokers", strings.Join(brokers, ","), "--topic", src, "--count", strconv.Itoa(total),
		"--malformed", "0.01", "--large-share", "0.05", "--seed", "11").CombinedOutput()
	if err != nil {
		t.Fatalf("produce: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))

	// The oracle: classify every source record with the worker's own parser.
	valid := map[string]bool{}
	malformed := map[string]string{} // "partition/offset" -> value
	for _, r := range readAll(t, brokers, adm, src) {
		if _, err := message.Parse(r.Value, message.DefaultLimits()); err != nil {
			malformed[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = string(r.Value)
		} else {
			valid[store.MsgID(r.Topic, r.Partition, r.Offset)] = true
		}
	}
	if len(valid)+len(malformed) != total || len(malformed) < total/140 || len(malformed) > total*13/1000 {
		t.Fatalf("source holds %d valid + %d malformed records", len(valid), len(malformed))
	}

	db := filepath.Join(t.TempDir(), "results.db")
	args := []string{"--kafka.brokers", strings.Join(brokers, ","), "--group", group, "--topic", src, "--failure-topic", failed,
		"--sqlite-path", db, "--batch-size", "500", "--batch-window", "50ms"}
	if txn {
		args = append(args, "--transactional-id", "kill9-worker-0")
	}
	w1 := startWorker(t, bin, args...)
	deadline := time.Now().Add(3 * time.Minute)
	for scrape(t, w1.addr, `factor_worker_records_total{outcome="stored"}`) < float64(total/4) {
		if time.Now().After(deadline) {
			t.Fatalf("worker stored too little; logs:\n%s", w1.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := w1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w1.exited
	first := time.Since(w1.started)
	// What the killed worker had committed: below it nothing may be redone.
	atKillCommit := map[int32]int64{}
	kctx, kcancel := context.WithTimeout(ctx, time.Minute)
	offsAtKill, err := adm.FetchOffsets(kctx, group)
	kcancel()
	if err != nil {
		t.Fatal(err)
	}
	offsAtKill.Each(func(o kadm.OffsetResponse) { atKillCommit[o.Partition] = o.At })
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	atKill, err := st.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if atKill >= len(valid) {
		t.Fatalf("worker finished (%d rows) before kill -9: test proves nothing", atKill)
	}
	t.Logf("kill -9 after %s with %d of %d rows stored (%.0f rows/s including startup)",
		first.Round(time.Millisecond), atKill, len(valid), float64(atKill)/first.Seconds())

	w2 := startWorker(t, bin, args...)
	deadline = time.Now().Add(5 * time.Minute)
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		var sum int64
		if err == nil {
			offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		}
		if sum == int64(total) {
			break
		}
		select {
		case err := <-w2.exited:
			t.Fatalf("restarted worker exited: %v; logs:\n%s", err, w2.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted worker committed %d of %d; logs:\n%s", sum, total, w2.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second := time.Since(w2.started)
	w2.terminate(t)
	t.Logf("end to end: %d records in %s (%.0f records/s incl. restart)", total, (first + second).Round(time.Millisecond),
		float64(total)/(first+second).Seconds())

	// Exactly one row per valid record (msg_id is the primary key, so equal
	// sets mean exactly one each) and nothing else.
	n, err := st.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(valid) {
		t.Fatalf("rows = %d, want %d", n, len(valid))
	}
	ids, err := st.MsgIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !valid[id] {
			t.Fatalf("row %s is not a valid source record", id)
		}
	}

	// The failure topic holds exactly the malformed records.
	dlq := readAll(t, brokers, adm, failed)
	seen := map[string]int{}
	for _, r := range dlq {
		key := header(r, "source_partition") + "/" + header(r, "source_offset")
		seen[key]++
		v, ok := malformed[key]
		if !ok || v != string(r.Value) || header(r, "source_topic") != src || header(r, "reason") == "" {
			t.Fatalf("unexpected dead letter %s: %q headers %v", key, r.Value, r.Headers)
		}
	}
	if !txn {
		// At least once: every malformed record at least once; a duplicate
		// only for a record at or after the offset committed at the kill.
		dups := 0
		for key := range malformed {
			var p int32
			var off int64
			if _, err := fmt.Sscanf(key, "%d/%d", &p, &off); err != nil {
				t.Fatal(err)
			}
			switch n := seen[key]; {
			case n == 0:
				t.Fatalf("malformed record %s missing from the failure topic", key)
			case n > 2:
				t.Fatalf("malformed record %s on the failure topic %d times after one crash", key, n)
			case n == 2 && off < atKillCommit[p]:
				t.Fatalf("malformed record %s dead-lettered twice although offset %d was committed before the kill", key, atKillCommit[p])
			case n == 2:
				dups++
			}
		}
		t.Logf("KILL9 | at-least-once, %d records, kill -9 at %d rows | %d rows, each once; %d dead letters for %d malformed: %d duplicate(s), all at or after the offsets committed at the kill %v |",
			total, atKill, n, len(dlq), len(malformed), dups, atKillCommit)
		return
	}
	// Dead letters and offset commits are transactional (--transactional-id),
	// so a read_committed reader sees each malformed record exactly once.
	for key := range malformed {
		if seen[key] != 1 {
			t.Fatalf("malformed record %s is on the failure topic %d times, want 1 (%d dead letters for %d malformed)",
				key, seen[key], len(dlq), len(malformed))
		}
	}
	if len(dlq) != len(malformed) {
		t.Fatalf("failure topic holds %d records, want %d", len(dlq), len(malformed))
	}
	t.Logf("KILL9 | transactional, %d records, kill -9 at %d rows | %d rows, each once; %d dead letters for %d malformed, 0 duplicates |",
		total, atKill, n, len(dlq), len(malformed))
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
