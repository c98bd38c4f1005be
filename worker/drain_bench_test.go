package worker

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/offsetlag/offsetlag/internal/testing/mototest"
	"github.com/offsetlag/offsetlag/worker/store"
)

// timedStore wraps a Store: every Put takes at least latency (a slow
// store; calls may overlap, as independent requests to a remote store do)
// and the end of the last successful Put is recorded.
type timedStore struct {
	store.Store
	latency time.Duration
	mu      sync.Mutex
	lastEnd time.Time
	puts    int
}

func (s *timedStore) Put(ctx context.Context, rs []store.Result) error {
	start := time.Now()
	err := s.Store.Put(ctx, rs)
	if d := s.latency - time.Since(start); d > 0 {
		time.Sleep(d)
	}
	if err == nil {
		s.mu.Lock()
		s.lastEnd, s.puts = time.Now(), s.puts+1
		s.mu.Unlock()
	}
	return err
}

// slowDynamo adds latency to every BatchWriteItem call (a distant region, a
// throttled table).
type slowDynamo struct {
	api     store.DynamoDBAPI
	latency time.Duration
}

func (s slowDynamo) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	time.Sleep(s.latency)
	return s.api.BatchWriteItem(ctx, in, opts...)
}

// drainCase is one row of the worker throughput benchmark.
type drainCase struct {
	name    string
	parts   int32
	latency time.Duration // per Put (the ideal time is computed from it), 0 = none
	open    func(b *testing.B) store.Store
}

// BenchmarkDrain measures how fast the worker drains 6,000 records (numbers
// log-uniform up to 10^12, batch size 100, default 500 ms window) already
// in the topic, per store. The clock starts when the worker enters its
// group session (Status().Since); it is read at the end of the last store
// write (stored) and when the committed offsets of every partition are
// seen at the end (drained: polled every 20 ms, so up to ~20 ms late). The
// records/s and the ratio to the ideal use the drained time. For a store with a fixed latency L per write the ideal is
// ceil(records per partition / 100) * L (partitions in parallel, batches of
// one partition in order).
//
//	go test -run '^$' -bench BenchmarkDrain -benchtime 1x ./worker/
func BenchmarkDrain(b *testing.B) {
	const total = 6000
	mem := func(*testing.B) store.Store { return newMemStore() }
	sqlite := func(b *testing.B) store.Store {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "results.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	var motoEP string
	parent := b
	dynamo := func(concurrency int, latency time.Duration) func(*testing.B) store.Store {
		return func(b *testing.B) store.Store {
			if motoEP == "" {
				motoEP = mototest.Start(parent) // one server for every DynamoDB row
			}
			ctx := context.Background()
			client := mototest.DynamoDB(motoEP)
			table := mototest.TableName("bench-")
			if err := store.CreateDynamoDBTable(ctx, client, table); err != nil {
				b.Fatal(err)
			}
			d := store.NewDynamoDB(slowDynamo{api: client, latency: latency}, table)
			d.Concurrency = concurrency
			return d
		}
	}
	cases := []drainCase{
		{"memory/4p", 4, 0, mem},
		{"memory+150ms/4p", 4, 150 * time.Millisecond, mem},
		{"memory+150ms/1p", 1, 150 * time.Millisecond, mem},
		{"sqlite/4p", 4, 0, sqlite},
		{"sqlite+150ms/4p", 4, 150 * time.Millisecond, sqlite},
		{"dynamodb-moto/4p/concurrency-1", 4, 0, dynamo(1, 0)},
		{"dynamodb-moto/4p/concurrency-4", 4, 0, dynamo(4, 0)},
		{"dynamodb-moto+150ms-per-call/4p/concurrency-1", 4, 0, dynamo(1, 150*time.Millisecond)},
		{"dynamodb-moto+150ms-per-call/4p/concurrency-4", 4, 0, dynamo(4, 150*time.Millisecond)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var wall, stored time.Duration
			for i := 0; i < b.N; i++ {
				s, w := drainOnce(b, c, total)
				stored, wall = stored+s, wall+w
			}
			wall /= time.Duration(b.N)
			stored /= time.Duration(b.N)
			b.ReportMetric(float64(total)/wall.Seconds(), "records/s")
			b.ReportMetric(wall.Seconds(), "drain_s")
			row := fmt.Sprintf("DRAIN | %s | %d | %.2f s | %.2f s | %.0f |", c.name, total, stored.Seconds(), wall.Seconds(), float64(total)/wall.Seconds())
			if c.latency > 0 {
				perPart := (total + int(c.parts) - 1) / int(c.parts)
				ideal := time.Duration((perPart+99)/100) * c.latency
				b.ReportMetric(wall.Seconds()/ideal.Seconds(), "x_ideal")
				row += fmt.Sprintf(" %.2f s ideal, %.2fx |", ideal.Seconds(), wall.Seconds()/ideal.Seconds())
			} else {
				row += " - |"
			}
			fmt.Println(row)
		})
	}
}

func drainOnce(b *testing.B, c drainCase, total int) (stored, drained time.Duration) {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b, 1, c.parts)
	rng := rand.New(rand.NewPCG(1, 2))
	per := total / int(c.parts)
	for p := int32(0); p < c.parts; p++ {
		vals := make([]string, per)
		for i := range vals {
			n := max(1, uint64(math.Pow(10, rng.Float64()*12))) // log-uniform in [1, 10^12]
			vals[i] = fmt.Sprintf(`{"number": %d}`, n)
		}
		e.produce(p, time.Time{}, vals...)
	}
	st := &timedStore{Store: c.open(b), latency: c.latency}
	b.StartTimer()
	r := e.start("g-bench", st, func(cfg *Config) { cfg.BatchWindow = 500 * time.Millisecond; cfg.MaxRetries = 0 })
	var since time.Time
	waitFor(b, "consuming", func() bool {
		s := r.w.Status()
		since = s.Since
		return s.Ready() && s.Partitions == int(c.parts)
	})
	waitFor(b, "drained", func() bool {
		for p := int32(0); p < c.parts; p++ {
			if e.committed("g-bench", p) != int64(per) {
				return false
			}
		}
		return true
	})
	end := time.Now()
	b.StopTimer()
	r.stop(b)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lastEnd.Sub(since), end.Sub(since)
}
