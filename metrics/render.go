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
// (a group's lag, then its committed offsets, ...), so every family
// collects its lines on its own and the families are joined in name order
// at the end. A family whose text reaches streamChunk (the per-partition
// ones of a large Result) has it compressed there and then, into
// compressed parts of its own: memory stays proportional to the
// compressed text plus at most streamChunk of text per family. One
// compressor serves every family in turn: each piece is compressed from a
// reset compressor and ended by a sync flush.
//
// Raw DEFLATE streams ended by a sync flush concatenate into one valid
// stream (none refers back past its own start), and the CRC-32 of the
// whole text is combined from the parts'.
//
// Each line is written from a cached prefix: the family name and its label
// pairs up to the last label's value are escaped once per group, topic or
// cluster, not once per series.
type renderSink struct {
	out  []familyText // by family index
	zw   *flate.Writer
	head []byte
	partitionLabels
}

// familyText is one family's share of a render.
type familyText struct {
	f *family
	// text is the family's text not compressed yet; z the compressed
	// pieces (nil until the first), holding n bytes of text (the header
	// first) whose CRC-32 is crc.
	text chunks
	z    *chunkWriter
	crc  uint32
	n    int64
	// prefix is the line text up to the last label value for key, the
	// label values before the last (have: prefix is valid).
	prefix []byte
	key    []string
	have   bool
}

func newRenderSink(c *Collector) *renderSink {
	s := &renderSink{out: make([]familyText, len(c.families)), zw: streamPool.Get().(*flate.Writer)}
	for i, f := range c.families {
		s.out[i] = familyText{f: f}
	}
	return s
}

func (s *renderSink) emit(f *family, v float64, labelValues []string) {
	ft := &s.out[f.idx]
	b := ft.text.reserve()
	if len(labelValues) == 0 { // no family has no label; as appendLine would write it
		b = append(append(b, f.name...), '{', '}', ' ')
	} else {
		b = ft.appendPrefix(b, labelValues)
		b = appendLabelValue(b, labelValues[len(labelValues)-1])
		b = append(b, '"', '}', ' ')
	}
	b = appendValue(b, v)
	ft.text.cur = append(b, '\n')
	if len(ft.text.cur) >= streamChunk {
		s.compress(ft)
		ft.text.cur = getBuf() // a large family: no more doubling from a small chunk
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

// streamChunk is the text a family collects before it is compressed: a
// full chunk of its text (chunkSize) less room for one line.
const streamChunk = chunkSize - chunkSlack

// streamPool keeps DEFLATE writers (several hundred KB each) from one
// render to the next.
var streamPool = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, deflateLevel) // the level is valid
	return zw
}}

// compress compresses ft's text (after its header, the first time) into
// a piece of its own, ended by a sync flush.
func (s *renderSink) compress(ft *familyText) {
	if ft.text.empty() {
		return
	}
	first := ft.z == nil
	if first {
		ft.z = &chunkWriter{}
	}
	s.zw.Reset(ft.z)
	tw := &crcWriter{w: s.zw, crc: ft.crc, n: ft.n}
	if first {
		s.head = appendHeader(s.head[:0], ft.f)
		_, _ = tw.Write(s.head)
	}
	_ = ft.text.writeTo(tw) // writes to memory do not fail; the compressor copies what it keeps
	_ = s.zw.Flush()
	ft.crc, ft.n = tw.crc, tw.n
	ft.text.release()
}

// buildExposition renders r's exposition: one walk, then the families
// joined in name order.
func (c *Collector) buildExposition(r *result.Result) *exposition {
	x := &exposition{res: r}
	if r == nil {
		return x
	}
	s := newRenderSink(c)
	defer streamPool.Put(s.zw)
	c.walk(r, s)

	// Families compressed during the walk: the rest of their text into
	// their last piece, then their pieces as they are. The others: their
	// header and text through zw into out, in runs between those.
	out := &chunkWriter{}
	zw := s.zw
	tw := &crcWriter{w: zw}
	open := false // zw writes to out and has written since its last Reset
	for i := range s.out {
		ft := &s.out[i]
		if ft.z != nil {
			if open {
				_ = zw.Flush()
				open = false
			}
			s.compress(ft)
			ft.z.close()
			out.chunks = append(out.chunks, ft.z.chunks...)
			out.n += ft.z.n
			tw.crc = crc32Combine(tw.crc, ft.crc, ft.n)
			tw.n += ft.n
			ft.z = nil
			continue
		}
		if ft.text.empty() {
			continue
		}
		if !open {
			zw.Reset(out)
			open = true
		}
		s.head = appendHeader(s.head[:0], ft.f)
		_, _ = tw.Write(s.head)
		_ = ft.text.writeTo(tw)
		ft.text.release()
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
