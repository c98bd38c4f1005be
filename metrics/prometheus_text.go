package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// WriteText writes the latest Result's series, the same ones Collect
// emits, to w in the Prometheus text exposition format (0.0.4), one block
// per family in name order. It bypasses the registry: no dto objects, no
// consistency hashing, no sorting of millions of series, so it stays fast
// where Gather does not (see BenchmarkCollect). A nil Result writes
// nothing. It renders as Handler does (render.go: one walk, compressed in
// memory) and writes the text decompressed.
func (c *Collector) WriteText(w io.Writer) error {
	r := c.source()
	if r == nil {
		return nil
	}
	return c.buildExposition(r).writePlain(w)
}

// Handler serves the exposition of the latest Result: the Collector's
// families (see Render: rendered and compressed once per Result, shared by
// every scrape) followed by everything extra gathers (Go runtime, process
// and build-info collectors; may be nil; gathered per scrape), in the text
// format 0.0.4. A client that accepts gzip (Prometheus does) gets the
// compressed bytes as they are, others the text decompressed on the fly:
// a scrape copies bytes and never walks the Result. extra must not also
// contain this Collector. A Gather error of extra fails the request with
// 500.
func (c *Collector) Handler(extra prometheus.Gatherer) http.Handler {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var mfs []*dto.MetricFamily
		if extra != nil {
			var err error
			mfs, err = extra.Gather()
			if err != nil {
				http.Error(w, fmt.Sprintf("gather: %v", err), http.StatusInternalServerError)
				return
			}
		}
		x := c.current()
		eb := extraPool.Get().(*bytes.Buffer)
		defer func() {
			if eb.Cap() <= maxPooledExtra {
				eb.Reset()
				extraPool.Put(eb)
			}
		}()
		eb.Reset()
		enc := expfmt.NewEncoder(eb, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				http.Error(w, fmt.Sprintf("encode: %v", err), http.StatusInternalServerError)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", string(format))
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(req) {
			x.writeGzip(w, eb.Bytes())
			return
		}
		h.Set("Content-Length", strconv.FormatInt(x.size+int64(eb.Len()), 10))
		if err := x.writePlain(w); err != nil {
			return // the client went away; nothing useful to send
		}
		_, _ = w.Write(eb.Bytes())
	})
}

// maxPooledExtra bounds the buffers of extra families kept for reuse.
const maxPooledExtra = 1 << 20

var extraPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (not with q=0).
func acceptsGzip(req *http.Request) bool {
	for _, v := range req.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// chunks is an append-only byte buffer made of fixed-size chunks, so a
// family of hundreds of megabytes is never copied to grow.
type chunks struct {
	full [][]byte
	cur  []byte
}

const (
	chunkSize  = 128 << 10
	firstChunk = 4 << 10
	// chunkSlack is room kept for one line; a longer line just grows the
	// current chunk.
	chunkSlack = 1 << 10
)

// reserve returns the current chunk with room for at least one typical
// line. Chunks double from firstChunk to chunkSize: a family of a few
// lines does not hold a whole chunk.
func (c *chunks) reserve() []byte {
	if cap(c.cur)-len(c.cur) < chunkSlack {
		if len(c.cur) > 0 {
			c.full = append(c.full, c.cur)
		}
		if n := min(max(2*cap(c.cur), firstChunk), chunkSize); n == chunkSize {
			c.cur = getBuf()
		} else {
			c.cur = make([]byte, 0, n)
		}
	}
	return c.cur
}

// release gives the full-size chunks back to bufPool; c is empty after.
func (c *chunks) release() {
	for _, b := range c.full {
		putBuf(b)
	}
	putBuf(c.cur)
	*c = chunks{}
}

// bufPool keeps the render's scratch buffers of chunkSize bytes (text of
// the small families, pending text of the streamed ones) from one render
// to the next.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, chunkSize)
	return &b
}}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

// putBuf pools b if it has the pool's size (a longer line may have grown a
// chunk; smaller ones are not pooled).
func putBuf(b []byte) {
	if cap(b) == chunkSize {
		bufPool.Put(&b)
	}
}

func (c *chunks) empty() bool { return len(c.full) == 0 && len(c.cur) == 0 }

func (c *chunks) writeTo(w io.Writer) error {
	for _, b := range c.full {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := w.Write(c.cur)
	return err
}

func appendHeader(b []byte, f *family) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	for i := 0; i < len(f.help); i++ { // escape \ and newline, as expfmt does
		switch ch := f.help[i]; ch {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, ch)
		}
	}
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	if f.typ == prometheus.CounterValue {
		b = append(b, " counter\n"...)
	} else {
		b = append(b, " gauge\n"...)
	}
	return b
}

// appendLabelValue appends v escaped for a quoted label value.
func appendLabelValue(b []byte, v string) []byte {
	clean := true
	for i := 0; i < len(v); i++ {
		if ch := v[i]; ch == '\\' || ch == '"' || ch == '\n' {
			clean = false
			break
		}
	}
	if clean {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; ch {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, ch)
		}
	}
	return b
}

// maxExactInt is the largest integer every float64 below it represents
// exactly (2^53).
const maxExactInt = 1 << 53

// appendValue appends v; integers (offsets, counts) are written as
// integers, the rest as Go's shortest float representation. Collect never
// produces NaN or Inf.
func appendValue(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < maxExactInt {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
