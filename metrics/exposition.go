package metrics

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// exposition is the Collector's text exposition of one Result, rendered
// once and kept compressed: a raw DEFLATE stream ended by a sync flush (so
// that more can follow) in fixed-size chunks, with the CRC-32 and length of
// the text it holds. Immutable once built; scrapes share it and only copy
// its bytes.
type exposition struct {
	res   *result.Result
	body  [][]byte
	crc   uint32
	size  int64 // uncompressed bytes
	zsize int64 // compressed bytes
}

// renderState is the Collector's latest exposition and the machinery that
// renders it at most once per Result.
type renderState struct {
	latest atomic.Pointer[exposition]
	mu     sync.Mutex // held while rendering: concurrent scrapes wait for one render
	// busy is true while a background render (OnResult) runs; pending
	// that a Result came meanwhile.
	busy, pending atomic.Bool
	// renders counts renders (tests check there is one per Result).
	renders atomic.Int64
}

// deflateLevel trades CPU for size: BestSpeed compresses the exposition
// ~10x at several hundred MB/s.
const deflateLevel = flate.BestSpeed

// OnResult renders the exposition of the new latest Result in the
// background (for exporter.Options.OnResult: it does not block), so that
// the first scrape after a poll finds it ready. Results published while a
// render runs are picked up by it when it finishes (only the latest is
// rendered).
func (c *Collector) OnResult(*result.Result) {
	if !c.render.busy.CompareAndSwap(false, true) {
		c.render.pending.Store(true)
		return
	}
	go func() {
		for {
			c.render.pending.Store(false)
			c.current()
			c.render.busy.Store(false)
			// A Result published after current() read the source but
			// before busy was cleared set pending: render again.
			if !c.render.pending.Load() || !c.render.busy.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// current returns the exposition of the source's latest Result, rendering
// it if it is not the one cached (once: concurrent callers wait for the
// render and share it).
func (c *Collector) current() *exposition {
	r := c.source()
	if x := c.render.latest.Load(); x != nil && x.res == r {
		return x
	}
	c.render.mu.Lock()
	defer c.render.mu.Unlock()
	r = c.source() // the newest by now
	if x := c.render.latest.Load(); x != nil && x.res == r {
		return x
	}
	x := c.renderExposition(r)
	c.render.latest.Store(x)
	return x
}

// Render renders and caches the exposition of the source's latest Result
// now (what OnResult does in the background) and returns its uncompressed
// and compressed sizes.
func (c *Collector) Render() (size, compressed int64) {
	x := c.current()
	return x.size, x.zsize
}

// renderExposition renders r (see render.go) and counts the render.
func (c *Collector) renderExposition(r *result.Result) *exposition {
	c.render.renders.Add(1)
	return c.buildExposition(r)
}

// crcWriter passes writes on, keeping their CRC-32 and length.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p)
	c.n += int64(len(p))
	return c.w.Write(p)
}

// chunkWriter appends to fixed-size chunks: the buffer is never copied to
// grow and its last chunk is trimmed on close.
type chunkWriter struct {
	chunks [][]byte
	n      int64
}

// Chunks double from firstExposChunk to exposChunk: a family that
// compresses to a few KB does not hold a whole chunk.
const (
	firstExposChunk = 16 << 10
	exposChunk      = 256 << 10
)

func (cw *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(cw.chunks) - 1
		if last < 0 || len(cw.chunks[last]) == cap(cw.chunks[last]) {
			size := firstExposChunk
			if last >= 0 {
				size = min(max(2*cap(cw.chunks[last]), firstExposChunk), exposChunk)
			}
			cw.chunks = append(cw.chunks, make([]byte, 0, size))
			last++
		}
		c := cw.chunks[last]
		k := min(len(p), cap(c)-len(c))
		cw.chunks[last] = append(c, p[:k]...)
		p = p[k:]
	}
	cw.n += int64(n)
	return n, nil
}

// close trims the last chunk to its length.
func (cw *chunkWriter) close() {
	if last := len(cw.chunks) - 1; last >= 0 && cap(cw.chunks[last])-len(cw.chunks[last]) > 4<<10 {
		cw.chunks[last] = bytes.Clone(cw.chunks[last])
	}
}

// gzipHeader is a gzip member header: no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// writeGzip writes a gzip member holding the exposition and then tail:
// the cached DEFLATE stream as it is, tail after it in stored
// (uncompressed) blocks, the last one final, and the trailer with the
// CRC-32 and length of both. The tail (the extra families, a few KB) is
// not compressed: a scrape holds no compressor (several hundred KB each,
// times the concurrent scrapes) and spends no CPU on it.
func (x *exposition) writeGzip(w http.ResponseWriter, tail []byte) {
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc32.Update(x.crc, crc32.IEEETable, tail))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(x.size+int64(len(tail)))) // ISIZE is modulo 2^32
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.FormatInt(int64(len(gzipHeader))+x.zsize+storedSize(len(tail))+int64(len(trailer)), 10))
	if _, err := w.Write(gzipHeader); err != nil {
		return
	}
	for _, b := range x.body {
		if _, err := w.Write(b); err != nil {
			return // the client went away
		}
	}
	if err := writeStored(w, tail); err != nil {
		return
	}
	_, _ = w.Write(trailer[:])
}

// maxStored is the most bytes a DEFLATE stored block holds.
const maxStored = 65535

// storedSize is the size of p written by writeStored.
func storedSize(n int) int64 {
	blocks := max((n+maxStored-1)/maxStored, 1)
	return int64(n + 5*blocks)
}

// writeStored writes p as DEFLATE stored blocks, the last one final (an
// empty final block when p is empty). The stream before must end on a
// byte boundary, as the exposition's does (sync flush).
func writeStored(w io.Writer, p []byte) error {
	for {
		n := min(len(p), maxStored)
		var final byte
		if n == len(p) {
			final = 1
		}
		head := [5]byte{final, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
		if _, err := w.Write(head[:]); err != nil {
			return err
		}
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		if p = p[n:]; final == 1 {
			return nil
		}
	}
}

// writePlain writes the exposition's text, decompressed as it goes.
func (x *exposition) writePlain(w io.Writer) error {
	if x.size == 0 {
		return nil
	}
	zr := flate.NewReader(&chunkReader{chunks: x.body})
	defer zr.Close()
	// The stream ends with a sync flush, not a final block: read exactly
	// the text's length.
	_, err := io.CopyN(w, zr, x.size)
	return err
}

// chunkReader reads a sequence of byte slices without modifying it (it is
// shared by concurrent scrapes).
type chunkReader struct {
	chunks [][]byte
	i, off int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.i < len(r.chunks) && r.off == len(r.chunks[r.i]) {
		r.i, r.off = r.i+1, 0
	}
	if r.i == len(r.chunks) {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[r.i][r.off:])
	r.off += n
	return n, nil
}
