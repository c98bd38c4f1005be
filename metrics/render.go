package metrics

import (
	"hash/crc32"
	"slices"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// renderSink renders an exposition in one walk of a Result. The text
// format wants each family's series contiguous while walk interleaves them
// (a group's lag, then its committed offsets, ...), so every family gets a
// destination of its own and they are joined in name order at the end:
//
//   - a family with a partition label (the bulk of a large Result) is
//     compressed as it is emitted, into a DEFLATE stream of its own: memory
//     stays proportional to the compressed text;
//   - the other families (a few series per group and topic) are kept as
//     text and compressed when the streams are joined.
//
// Raw DEFLATE streams ended by a sync flush concatenate into one valid
// stream (none refers back past its own start), and the CRC-32 of the
// whole text is combined from the parts'.
//
// Each line is written from a cached prefix: the family name and its label
// pairs up to the last label's value are escaped once per group, topic or
// cluster, not once per series.
type renderSink struct {
	out []familyText // by family index
	partitionLabels
}

// familyText is one family's share of a render.
type familyText struct {
	f *family
	// streamed: the family is compressed as it is emitted (z, created on
	// its first series); otherwise its text is kept in text.
	streamed bool
	z        *familyStream
	text     chunks
	// prefix is the line text up to the last label value for key, the
	// label values before the last (have: prefix is valid).
	prefix []byte
	key    []string
	have   bool
}

// familyStream is a streamed family's DEFLATE stream, with the CRC-32
// and length of the text it holds.
type familyStream struct {
	zw      *flate.Writer
	out     chunkWriter
	pending []byte // text not compressed yet
	crc     uint32
	n       int64
}

func newRenderSink(c *Collector) *renderSink {
	s := &renderSink{out: make([]familyText, len(c.families))}
	for i, f := range c.families {
		s.out[i] = familyText{f: f, streamed: slices.Contains(f.labels, labelPartition)}
	}
	return s
}

func (s *renderSink) emit(f *family, v float64, labelValues []string) {
	ft := &s.out[f.idx]
	var b []byte
	if ft.streamed {
		if ft.z == nil {
			ft.z = newFamilyStream()
			ft.z.pending = appendHeader(ft.z.pending, f)
		}
		b = ft.z.pending
	} else {
		b = ft.text.reserve()
	}
	if len(labelValues) == 0 { // no family has no label; as appendLine would write it
		b = append(append(b, f.name...), '{', '}', ' ')
	} else {
		b = ft.appendPrefix(b, labelValues)
		b = appendLabelValue(b, labelValues[len(labelValues)-1])
		b = append(b, '"', '}', ' ')
	}
	b = appendValue(b, v)
	b = append(b, '\n')
	if ft.streamed {
		ft.z.pending = b
		if len(b) >= streamChunk {
			ft.z.compress()
		}
	} else {
		ft.text.cur = b
	}
}

// appendPrefix appends the line text before the last label value:
// name{l1="v1",...,lN=" (lv is not empty).
func (ft *familyText) appendPrefix(b []byte, lv []string) []byte {
	k := len(lv) - 1
	if !ft.have || !slices.Equal(ft.key, lv[:k]) {
		ft.key = append(ft.key[:0], lv[:k]...)
		p := append(ft.prefix[:0], ft.f.name...)
		p = append(p, '{')
		for i, l := range ft.f.labels[:k] {
			p = append(p, l...)
			p = append(p, '=', '"')
			p = appendLabelValue(p, lv[i])
			p = append(p, '"', ',')
		}
		p = append(p, ft.f.labels[k]...)
		ft.prefix, ft.have = append(p, '=', '"'), true
	}
	return append(b, ft.prefix...)
}

// streamChunk is the text a streamed family collects before compressing
// it (its pending buffer is a chunkSize buffer from bufPool, with room for
// one more line).
const streamChunk = chunkSize - chunkSlack

var streamPool = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, deflateLevel) // the level is valid
	return zw
}}

func newFamilyStream() *familyStream {
	z := &familyStream{zw: streamPool.Get().(*flate.Writer), pending: getBuf()}
	z.zw.Reset(&z.out)
	return z
}

// compress compresses the pending text.
func (z *familyStream) compress() {
	z.crc = crc32.Update(z.crc, crc32.IEEETable, z.pending)
	z.n += int64(len(z.pending))
	_, _ = z.zw.Write(z.pending) // writes to memory do not fail
	z.pending = z.pending[:0]
}

// finish compresses what is pending and ends the stream with a sync
// flush; the writer goes back to the pool.
func (z *familyStream) finish() {
	z.compress()
	_ = z.zw.Flush()
	z.out.close()
	z.zw.Reset(nil)
	streamPool.Put(z.zw)
	putBuf(z.pending)
	z.zw, z.pending = nil, nil
}

// buildExposition renders r's exposition: one walk, then the families joined in
// name order.
func (c *Collector) buildExposition(r *result.Result) *exposition {
	x := &exposition{res: r}
	if r == nil {
		return x
	}
	s := newRenderSink(c)
	c.walk(r, s)

	out := &chunkWriter{}
	zw := streamPool.Get().(*flate.Writer)
	defer streamPool.Put(zw)
	zw.Reset(out)
	tw := &crcWriter{w: zw}
	open := false // zw has written since its last Reset
	var head []byte
	for i := range s.out {
		ft := &s.out[i]
		if ft.z != nil {
			if open {
				_ = zw.Flush()
				zw.Reset(out)
				open = false
			}
			ft.z.finish()
			out.chunks = append(out.chunks, ft.z.out.chunks...)
			out.n += ft.z.out.n
			tw.crc = crc32Combine(tw.crc, ft.z.crc, ft.z.n)
			tw.n += ft.z.n
			ft.z = nil
			continue
		}
		if ft.text.empty() {
			continue
		}
		head = appendHeader(head[:0], ft.f)
		_, _ = tw.Write(head)
		_ = ft.text.writeTo(tw) // the compressor copies what it keeps
		ft.text.release()
		open = true
	}
	if open {
		_ = zw.Flush()
	}
	zw.Reset(nil)
	out.close()
	x.body, x.crc, x.size, x.zsize = out.chunks, tw.crc, tw.n, out.n
	return x
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from crc1 of
// A, crc2 of B and B's length (zlib's crc32_combine).
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	// Apply len2 zero bytes to crc1 (the first square makes one byte).
	for {
		gf2Square(&even, &odd)
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}
