package metrics

import (
	"bytes"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// bufferedText is the definition of the text exposition: every series walk
// emits, appended to its family's buffer line by line, then the families
// in name order with their headers. The one-walk render must write exactly
// these bytes.
func bufferedText(c *Collector, r *result.Result) []byte {
	s := &textSink{bufs: make([]chunks, len(c.families))}
	c.walk(r, s)
	var out bytes.Buffer
	for i, f := range c.families {
		if s.bufs[i].empty() {
			continue
		}
		out.Write(appendHeader(nil, f))
		_ = s.bufs[i].writeTo(&out)
	}
	return out.Bytes()
}

// textSink appends each series as a text exposition line to its family's
// buffer; skip leaves families out (nil: none).
type textSink struct {
	bufs []chunks
	skip []bool
	partitionLabels
}

func (s *textSink) emit(f *family, v float64, labelValues []string) {
	if s.skip != nil && s.skip[f.idx] {
		return
	}
	c := &s.bufs[f.idx]
	c.cur = appendLine(c.reserve(), f, v, labelValues)
}

// appendLine appends one series as a text exposition line, label by label.
func appendLine(b []byte, f *family, v float64, labelValues []string) []byte {
	b = append(b, f.name...)
	b = append(b, '{')
	for i, l := range f.labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l...)
		b = append(b, '=', '"')
		b = appendLabelValue(b, labelValues[i])
		b = append(b, '"')
	}
	b = append(b, '}', ' ')
	b = appendValue(b, v)
	return append(b, '\n')
}

// richSynthetic is synthetic with what a production Result also has: time
// lag from every source, statuses, rates, a group without lag and names
// that need escaping.
func richSynthetic(groups, topics, partitions int) *result.Result {
	r := synthetic(groups, topics, partitions)
	cr := &r.Clusters[0]
	for gi := range cr.Groups {
		g := &cr.Groups[gi]
		g.Status = result.Statuses[gi%len(result.Statuses)].String()
		g.HasLagSeconds, g.MaxLagSeconds = true, float64(gi)+0.25
		if gi%7 == 3 {
			g.Name += "\"quoted\\\n"
		}
		for ti := range g.Topics {
			t := &g.Topics[ti]
			t.Status = g.Status
			t.HasLagSeconds, t.MaxLagSeconds = true, 1.5
			t.HasRates, t.ProduceRate, t.ConsumeRate = true, 10.5, 3
			t.PartitionsWithoutCommit = ti
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				p.LagSecondsSource = result.LagSource((gi + pi + 1) % len(lagSources)) // caught_up, interpolated, exact, none
				p.LagSeconds = float64(pi) / 3
				if gi%5 == 4 {
					p.HasLag = false
				}
			}
		}
	}
	return r
}

// renderVariants are the option sets every render test covers.
var renderVariants = []struct {
	name string
	opts Options
}{
	{"defaults", Options{}},
	{"topic", Options{Granularity: GranularityTopic}},
	{"enums_current", Options{Enums: EnumsCurrent}},
	{"topic_current", Options{Granularity: GranularityTopic, Enums: EnumsCurrent}},
	{"compat", Options{Compat: CompatKafkaExporter}},
	{"topic_compat", Options{Granularity: GranularityTopic, Compat: CompatKafkaExporter}},
}

// TestRenderSameBytes: the one-walk render (plain and gzip) writes exactly
// the text of bufferedText, for every option set, on the golden fixture and
// on a Result large enough to span many compressed chunks.
func TestRenderSameBytes(t *testing.T) {
	// large: the per-partition families are compressed during the walk;
	// many_groups: the per-group and group+topic ones too.
	results := map[string]*result.Result{"fixture": fixture(), "large": richSynthetic(60, 3, 200),
		"many_groups": richSynthetic(3000, 2, 1)}
	for rname, r := range results {
		for _, v := range renderVariants {
			if rname == "many_groups" && v.opts.Enums != "" {
				continue // few series per group+topic: nothing large enough to compress during the walk
			}
			t.Run(rname+"/"+v.name, func(t *testing.T) {
				c := NewCollector(static(r), v.opts)
				want := bufferedText(c, r)
				if len(want) == 0 {
					t.Fatal("empty reference text")
				}
				var got bytes.Buffer
				if err := c.WriteText(&got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("rendered text differs from the reference (%d vs %d bytes) at byte %d", got.Len(), len(want), firstDiff(got.Bytes(), want))
				}
				if rname == "many_groups" || (rname == "large" && v.opts.Granularity != GranularityTopic) {
					// The walk compressed some families before the end.
					s := newRenderSink(c)
					c.walk(r, s)
					pieces := 0
					for i := range s.out {
						if s.out[i].z != nil {
							pieces++
						}
					}
					streamPool.Put(s.zw)
					if pieces == 0 {
						t.Fatal("no family compressed during the walk: the test does not cover it")
					}
				}
				// The gzip body: valid (gzip checks the CRC-32 and length
				// combined from the families' streams) and the same text.
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				c.Handler(nil).ServeHTTP(rec, req)
				body, err := gunzip(rec.Body.Bytes())
				if err != nil {
					t.Fatalf("gzip body: %v", err)
				}
				if !bytes.Equal(body, want) {
					t.Fatalf("gzip body differs from the reference (%d vs %d bytes)", len(body), len(want))
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for _, n := range []int{0, 1, 7, 100, 4096, 1 << 20} {
		for _, cut := range []int{0, 1, n / 3, n} {
			if cut > n {
				continue
			}
			a, b := buf[:cut], buf[cut:n]
			got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
			if want := crc32.ChecksumIEEE(buf[:n]); got != want {
				t.Errorf("n=%d cut=%d: %08x, want %08x", n, cut, got, want)
			}
		}
	}
}

// oldExposition is the render this package had before the one-walk render:
// the small families buffered in one walk, then one more walk per family
// with a partition label, every line formatted label by label, through one
// DEFLATE stream. Kept for BenchmarkRender's ratio.
func oldExposition(c *Collector, r *result.Result) (size, compressed int64) {
	cw := &chunkWriter{}
	zw, _ := flate.NewWriter(cw, deflateLevel)
	tw := &crcWriter{w: zw}
	streamed := make([]bool, len(c.families))
	for i, f := range c.families {
		streamed[i] = slices.Contains(f.labels, labelPartition)
	}
	s := &textSink{bufs: make([]chunks, len(c.families)), skip: streamed}
	c.walk(r, s)
	var head []byte
	var st *oldStreamSink
	for i, f := range c.families {
		if streamed[i] {
			if st == nil {
				st = &oldStreamSink{w: tw, buf: make([]byte, 0, oldStreamChunk+chunkSlack)}
			}
			st.f, st.started = f, false
			c.walk(r, st)
			st.flush()
			continue
		}
		body := &s.bufs[i]
		if body.empty() {
			continue
		}
		head = appendHeader(head[:0], f)
		_, _ = tw.Write(head)
		_ = body.writeTo(tw)
		*body = chunks{}
	}
	_ = zw.Flush()
	cw.close()
	return tw.n, cw.n
}

// oldStreamChunk is the size of the pieces the old render wrote a
// streamed family in.
const oldStreamChunk = 64 << 10

type oldStreamSink struct {
	w       io.Writer
	f       *family
	started bool
	buf     []byte
	partitionLabels
}

func (s *oldStreamSink) emit(f *family, v float64, labelValues []string) {
	if f != s.f {
		return
	}
	if !s.started {
		s.buf, s.started = appendHeader(s.buf, f), true
	}
	s.buf = appendLine(s.buf, f, v, labelValues)
	if len(s.buf) >= oldStreamChunk {
		s.flush()
	}
}

func (s *oldStreamSink) flush() {
	_, _ = s.w.Write(s.buf)
	s.buf = s.buf[:0]
}

// BenchmarkRender compares, in one run, the once-per-Result render of
// /metrics: "old" walks the Result once more per family with a partition
// label, "new" once (render.go). M is 500 groups x 2 topics x 100
// partitions = 100,000 committed offsets, L 1,000 x 2 x 500 = 1,000,000,
// both with time lag and statuses.
//
//	go test -run '^$' -bench Render -benchmem ./metrics/
func BenchmarkRender(b *testing.B) {
	for _, size := range []struct {
		name                       string
		groups, topics, partitions int
	}{{"M", 500, 2, 100}, {"L", 1000, 2, 500}} {
		r := richSynthetic(size.groups, size.topics, size.partitions)
		c := NewCollector(static(r), Options{})
		b.Run(size.name+"/old", func(b *testing.B) {
			b.ReportAllocs()
			var n, z int64
			c0 := processCPU()
			for b.Loop() {
				n, z = oldExposition(c, r)
			}
			b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(n), "text-bytes")
			b.ReportMetric(float64(z), "compressed-bytes")
		})
		b.Run(size.name+"/new", func(b *testing.B) {
			b.ReportAllocs()
			var x *exposition
			c0 := processCPU()
			for b.Loop() {
				x = c.buildExposition(r)
			}
			b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(x.size), "text-bytes")
			b.ReportMetric(float64(x.zsize), "compressed-bytes")
		})
	}
}

// processCPU is the process's user plus system CPU time (GC workers
// included): steadier than wall time on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestGzipTailInStoredBlocks: extra families longer than one stored block
// (64 KB) and none at all, after an exposition and after an empty one,
// make valid gzip bodies of the announced length.
func TestGzipTailInStoredBlocks(t *testing.T) {
	big := prometheus.NewRegistry()
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "offsetlag_test_extra", Help: "Extra."}, []string{"n"})
	for i := range 3000 {
		vec.WithLabelValues(strconv.Itoa(i)).Set(float64(i))
	}
	big.MustRegister(vec)
	for _, tc := range []struct {
		name  string
		r     *result.Result
		extra prometheus.Gatherer
	}{
		{"big tail", fixture(), big},
		{"no tail", fixture(), nil},
		{"nil result, big tail", nil, big},
		{"nil result, no tail", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(static(tc.r), Options{})
			var want bytes.Buffer
			if err := c.WriteText(&want); err != nil {
				t.Fatal(err)
			}
			plain := scrapeWith(t, c.Handler(tc.extra), "")
			if !bytes.HasPrefix(plain.Body.Bytes(), want.Bytes()) {
				t.Fatal("plain body does not start with the exposition")
			}
			if tc.extra != nil && plain.Body.Len()-want.Len() <= maxStored {
				t.Fatalf("extra families %d bytes, want more than one stored block", plain.Body.Len()-want.Len())
			}
			rec := scrapeWith(t, c.Handler(tc.extra), "gzip")
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %s, body %d bytes", cl, rec.Body.Len())
			}
			got, err := gunzip(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if !bytes.Equal(got, plain.Body.Bytes()) {
				t.Fatalf("gzip body differs from the plain one (%d vs %d bytes)", len(got), plain.Body.Len())
			}
		})
	}
}
