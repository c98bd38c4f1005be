package kafkaadmin

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/IBM/sarama"
)

// TestOffsetsFromOrder: an OffsetFetch answer (maps, in no order) becomes
// commits sorted by topic then partition, without the partitions answered
// -1, with per-partition errors kept, whether a topic's partition ids are
// dense (placed by id) or sparse or negative (sorted). Checked against a
// plain sort of the same answer.
func TestOffsetsFromOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	blocks := map[string]map[int32]*sarama.OffsetFetchResponseBlock{}
	add := func(topic string, p int32, off int64, err sarama.KError) {
		if blocks[topic] == nil {
			blocks[topic] = map[int32]*sarama.OffsetFetchResponseBlock{}
		}
		blocks[topic][p] = &sarama.OffsetFetchResponseBlock{Offset: off, Err: err}
	}
	for p := int32(0); p < 500; p++ { // dense, with holes
		if rng.IntN(5) > 0 {
			add("dense", p, rng.Int64N(1000)-1, sarama.ErrNoError)
		}
	}
	add("dense", 7, -1, sarama.ErrUnknownTopicOrPartition)
	for i := 0; i < 50; i++ { // sparse ids
		add("sparse", rng.Int32N(1<<30), rng.Int64N(1000), sarama.ErrNoError)
	}
	add("negative", -3, 5, sarama.ErrNoError)
	add("negative", 2, 6, sarama.ErrNoError)
	blocks["nil"] = map[int32]*sarama.OffsetFetchResponseBlock{0: nil}
	blocks["empty"] = map[int32]*sarama.OffsetFetchResponseBlock{}

	var want []CommittedOffset
	for topic, ps := range blocks {
		for p, blk := range ps {
			switch {
			case blk == nil:
			case blk.Err != sarama.ErrNoError:
				want = append(want, CommittedOffset{Topic: topic, Partition: p, Offset: OffsetUnknown, Err: OffsetError(blk.Err)})
			case blk.Offset >= 0:
				want = append(want, CommittedOffset{Topic: topic, Partition: p, Offset: blk.Offset})
			}
		}
	}
	slices.SortFunc(want, func(a, b CommittedOffset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var d offsetDecoder
	for i := 0; i < 3; i++ { // the decoder's scratch is reused
		got := d.offsets(blocks)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d:\n got %v\nwant %v", i, got, want)
		}
	}
	if got := offsetsFrom(blocks); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("offsetsFrom:\n got %v\nwant %v", got, want)
	}
}

// TestCommittedOffsetCompact: a snapshot holds one CommittedOffset per
// committed offset (4M at the benchmark's largest size): 32 bytes, the
// per-partition error a two-byte code that still reads as Kafka's message.
func TestCommittedOffsetCompact(t *testing.T) {
	if n := unsafe.Sizeof(CommittedOffset{}); n > 32 {
		t.Errorf("CommittedOffset is %d bytes, want at most 32", n)
	}
	var err error = OffsetError(sarama.ErrUnknownTopicOrPartition)
	if err.Error() != sarama.ErrUnknownTopicOrPartition.Error() {
		t.Errorf("OffsetError reads %q", err)
	}
}
