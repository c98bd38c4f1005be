package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// WriteText renders the latest Result's series, the same ones Collect
// emits, to w in the Prometheus text exposition format (0.0.4), one block
// per family in name order. It bypasses the registry: no dto objects, no
// consistency hashing, no sorting of millions of series, so it stays fast
// where Gather does not (see BenchmarkCollect). A nil Result writes
// nothing.
func (c *Collector) WriteText(w io.Writer) error {
	r := c.source()
	if r == nil {
		return nil
	}
	s := &textSink{bufs: make([]chunks, len(c.families))}
	c.walk(r, s)
	var head []byte
	for i, f := range c.families {
		body := &s.bufs[i]
		if body.empty() {
			continue
		}
		head = appendHeader(head[:0], f)
		if _, err := w.Write(head); err != nil {
			return err
		}
		if err := body.writeTo(w); err != nil {
			return err
		}
		*body = chunks{} // let the GC have it while later families are written
	}
	return nil
}

// Handler serves WriteText's output, preceded by everything extra gathers
// (Go runtime, process and build-info collectors; may be nil), always in the
// text format 0.0.4 and uncompressed. Use it instead of promhttp when the
// Result is too large for a registry scrape; extra must not also contain
// this Collector. A Gather error of extra fails the request with 500.
func (c *Collector) Handler(extra prometheus.Gatherer) http.Handler {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var mfs []*dto.MetricFamily
		if extra != nil {
			var err error
			mfs, err = extra.Gather()
			if err != nil {
				http.Error(w, fmt.Sprintf("gather: %v", err), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", string(format))
		enc := expfmt.NewEncoder(w, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return // the client went away; nothing useful to send
			}
		}
		_ = c.WriteText(w)
	})
}

// textSink appends each series as a text exposition line to its family's
// buffer, so families come out contiguous although walk interleaves them.
type textSink struct {
	bufs []chunks
	partitionLabels
}

func (s *textSink) emit(f *family, v float64, labelValues []string) {
	c := &s.bufs[f.idx]
	b := c.reserve()
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
	b = append(b, '\n')
	c.cur = b
}

// chunks is an append-only byte buffer made of fixed-size chunks, so a
// family of hundreds of megabytes is never copied to grow.
type chunks struct {
	full [][]byte
	cur  []byte
}

const (
	chunkSize = 256 << 10
	// chunkSlack is room kept for one line; a longer line just grows the
	// current chunk.
	chunkSlack = 1 << 10
)

// reserve returns the current chunk with room for at least one typical
// line.
func (c *chunks) reserve() []byte {
	if cap(c.cur)-len(c.cur) < chunkSlack {
		if len(c.cur) > 0 {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]byte, 0, chunkSize)
	}
	return c.cur
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
