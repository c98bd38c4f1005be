package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// Strategies measured by a probe.
const (
	ModeExporter = "exporter" // exporter.Poll: the kafkaadmin round plus lag, trends and expiry
	ModeBare     = "bare"     // the batched requests alone, prebuilt, raw sarama brokers
	ModeNaive    = "naive"    // one ListOffsets per partition, one OffsetFetch per group
)

// ProbeArgs tell a probe (child process) what to measure.
type ProbeArgs struct {
	Mode    string   `json:"mode"`
	Brokers []string `json:"brokers"`
	Polls   int      `json:"polls"`
	// Sample, for the naive strategy, is the most partitions it reads per
	// poll; beyond it every k-th partition and group is read and the
	// figures are scaled by the factor (ProbeResult.Scale).
	Sample int `json:"sample"`
	// CPUProfile, when set, is a file the measured polls' CPU profile is
	// written to.
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// Sample is one measured poll.
type Sample struct {
	Wall time.Duration `json:"wall"`
	// Round is the exporter's kafkaadmin round alone (Snapshot), the rest
	// of Wall being the lag math, trends and expiry.
	Round   time.Duration `json:"round,omitempty"`
	CPU     time.Duration `json:"cpu"`
	Mallocs uint64        `json:"mallocs"`
	Bytes   uint64        `json:"bytes"`
}

// ProbeResult is what a probe reports.
type ProbeResult struct {
	Mode    string   `json:"mode"`
	Samples []Sample `json:"samples"`
	// Scale is the extrapolation factor of a sampled naive run (1 when
	// every partition was read).
	Scale float64 `json:"scale"`
	// PeakRSS is the probe's VmHWM in bytes (after the polls and the
	// /metrics renders).
	PeakRSS int64 `json:"peak_rss"`
	// Render times of /metrics (Collector.WriteText) and its size.
	Renders      []time.Duration `json:"renders,omitempty"`
	MetricsBytes int64           `json:"metrics_bytes,omitempty"`
	// Sanity: what the last poll saw.
	Partitions int `json:"partitions"`
	Groups     int `json:"groups"`
	Offsets    int `json:"offsets"`
	// Leaders, Coordinators and OffsetFetchChunks are the layout the
	// bare probe found (for the request target).
	Leaders           int    `json:"leaders,omitempty"`
	Coordinators      int    `json:"coordinators,omitempty"`
	OffsetFetchChunks int    `json:"offset_fetch_chunks,omitempty"`
	Err               string `json:"err,omitempty"`
	// SelfRequests are the requests the probe counted itself, last poll.
	SelfRequests map[string]int `json:"self_requests,omitempty"`

	round time.Duration // of the last poll
}

// RunProbe is the child side: it warms up, prints "READY", waits for a
// line on in, runs the measured polls and prints the ProbeResult as JSON.
func RunProbe(ctx context.Context, a ProbeArgs, in io.Reader, out io.Writer) error {
	var p prober
	switch a.Mode {
	case ModeExporter:
		p = &exporterProbe{}
	case ModeBare:
		p = &bareProbe{}
	case ModeNaive:
		p = &naiveProbe{sample: a.Sample}
	default:
		return fmt.Errorf("unknown mode %q", a.Mode)
	}
	res := ProbeResult{Mode: a.Mode, Scale: 1}
	if err := p.setup(ctx, a.Brokers); err != nil {
		return fmt.Errorf("%s setup: %w", a.Mode, err)
	}
	defer p.close()
	if err := p.poll(ctx, &res); err != nil { // warm-up
		return fmt.Errorf("%s warm-up: %w", a.Mode, err)
	}
	fmt.Fprintln(out, "READY")
	if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
		return err
	}
	if a.CPUProfile != "" {
		f, err := os.Create(a.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for i := 0; i < a.Polls; i++ {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		c0 := cpuTime()
		t0 := time.Now()
		err := p.poll(ctx, &res)
		wall := time.Since(t0)
		c1 := cpuTime()
		runtime.ReadMemStats(&ms1)
		if err != nil {
			return fmt.Errorf("%s poll: %w", a.Mode, err)
		}
		res.Samples = append(res.Samples, Sample{Wall: wall, Round: res.round, CPU: c1 - c0,
			Mallocs: ms1.Mallocs - ms0.Mallocs, Bytes: ms1.TotalAlloc - ms0.TotalAlloc})
	}
	if a.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if r, ok := p.(renderer); ok {
		res.Renders, res.MetricsBytes = r.render(3)
	}
	res.PeakRSS = peakRSS()
	return json.NewEncoder(out).Encode(res)
}

type prober interface {
	setup(ctx context.Context, brokers []string) error
	poll(ctx context.Context, res *ProbeResult) error
	close()
}

type renderer interface {
	render(n int) ([]time.Duration, int64)
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

// exporterProbe polls through exporter.Poll with production defaults.
type exporterProbe struct {
	ac *kafkaadmin.Client
	e  *exporter.Exporter
}

func (p *exporterProbe) setup(_ context.Context, brokers []string) error {
	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: "bench", Brokers: brokers}, nil)
	if err != nil {
		return err
	}
	e, err := exporter.New([]exporter.Source{ac}, exporter.Options{Interval: time.Hour, Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	p.ac, p.e = ac, e
	return nil
}

func (p *exporterProbe) poll(ctx context.Context, res *ProbeResult) error {
	before := p.e.Latest().Clusters[0].Requests
	p.e.Poll(ctx, p.ac)
	cr := p.e.Latest().Clusters[0]
	if !cr.Up {
		return errors.New(cr.LastError)
	}
	res.round = 0
	for _, ph := range cr.PollPhases {
		if ph.Phase == "requests" {
			res.round = ph.Duration
		}
	}
	res.SelfRequests = map[string]int{}
	for api, n := range cr.Requests {
		if d := int(n - before[api]); d > 0 {
			res.SelfRequests[api] = d
		}
	}
	res.Partitions, res.Groups, res.Offsets = 0, len(cr.Groups), 0
	for _, t := range cr.Topics {
		res.Partitions += len(t.Partitions)
	}
	for _, g := range cr.Groups {
		for _, t := range g.Topics {
			res.Offsets += len(t.Partitions)
		}
	}
	return nil
}

func (p *exporterProbe) render(n int) ([]time.Duration, int64) {
	c := metrics.NewCollector(p.e.Latest, metrics.Options{})
	var ds []time.Duration
	var size int64
	for i := 0; i < n; i++ {
		var cw countingWriter
		t0 := time.Now()
		if err := c.WriteText(&cw); err != nil {
			return nil, -1
		}
		ds = append(ds, time.Since(t0))
		size = int64(cw)
	}
	return ds, size
}

func (p *exporterProbe) close() { _ = p.ac.Close() }

type countingWriter int64

func (w *countingWriter) Write(b []byte) (int, error) {
	*w += countingWriter(len(b))
	return len(b), nil
}

// saramaConfig is the client configuration of the bare and naive probes:
// the same protocol level as the exporter's default.
func saramaConfig() *sarama.Config {
	sc := sarama.NewConfig()
	sc.Version = sarama.V4_0_0_0
	sc.ClientID = "offsetlag-bench"
	sc.Net.ReadTimeout = 5 * time.Minute
	return sc
}

func openBroker(addr string, sc *sarama.Config) (*sarama.Broker, error) {
	b := sarama.NewBroker(addr)
	if err := b.Open(sc); err != nil {
		return nil, err
	}
	if ok, err := b.Connected(); !ok {
		return nil, fmt.Errorf("connect %s: %v", addr, err)
	}
	return b, nil
}

// layout is the cluster as the bare and naive probes learn it once:
// partitions by leader and groups by coordinator.
type layout struct {
	addrs      map[int32]string
	byLeader   map[int32][]tp
	byCoord    map[int32][]string
	partitions int
	groups     int
}

type tp struct {
	topic string
	part  int32
}

func learn(brokers []string, sc *sarama.Config) (*layout, error) {
	b, err := openBroker(brokers[0], sc)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	md, err := b.GetMetadata(sarama.NewMetadataRequest(sc.Version, nil))
	if err != nil {
		return nil, err
	}
	l := &layout{addrs: map[int32]string{}, byLeader: map[int32][]tp{}, byCoord: map[int32][]string{}}
	for _, br := range md.Brokers {
		l.addrs[br.ID()] = br.Addr()
	}
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, "__") {
			continue
		}
		for _, p := range t.Partitions {
			l.byLeader[p.Leader] = append(l.byLeader[p.Leader], tp{t.Name, p.ID})
			l.partitions++
		}
	}
	for id, addr := range l.addrs {
		bb, err := openBroker(addr, sc)
		if err != nil {
			return nil, err
		}
		resp, err := bb.ListGroups(&sarama.ListGroupsRequest{Version: 4})
		_ = bb.Close()
		if err != nil {
			return nil, err
		}
		for g := range resp.Groups {
			l.byCoord[id] = append(l.byCoord[id], g)
			l.groups++
		}
		sort.Strings(l.byCoord[id])
	}
	for _, ps := range l.byLeader {
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].topic != ps[j].topic {
				return ps[i].topic < ps[j].topic
			}
			return ps[i].part < ps[j].part
		})
	}
	return l, nil
}

// bareProbe sends, per poll, exactly the batched requests with prebuilt
// request objects: ListOffsets (latest) per leader and OffsetFetch v8 per
// coordinator (chunks of kafkaadmin.OffsetFetchChunk groups), each on its
// own connection, all at once.
type bareProbe struct {
	conns []*sarama.Broker
	jobs  []func() (int, error) // returns offsets read
	parts int
	grps  int

	leaders, coords, chunks int
}

func (p *bareProbe) setup(_ context.Context, brokers []string) error {
	sc := saramaConfig()
	l, err := learn(brokers, sc)
	if err != nil {
		return err
	}
	p.parts, p.grps = l.partitions, l.groups
	p.leaders, p.coords = len(l.byLeader), len(l.byCoord)
	for leader, ps := range l.byLeader {
		b, err := openBroker(l.addrs[leader], sc)
		if err != nil {
			return err
		}
		p.conns = append(p.conns, b)
		req := sarama.NewOffsetRequest(sc.Version)
		for _, x := range ps {
			req.AddBlock(x.topic, x.part, sarama.OffsetNewest, 1)
		}
		p.jobs = append(p.jobs, func() (int, error) {
			resp, err := b.GetAvailableOffsets(req)
			if err != nil {
				return 0, err
			}
			return len(resp.Blocks), nil
		})
	}
	for coord, gs := range l.byCoord {
		for start := 0; start < len(gs); start += kafkaadmin.OffsetFetchChunk {
			chunk := gs[start:min(start+kafkaadmin.OffsetFetchChunk, len(gs))]
			p.chunks++
			b, err := openBroker(l.addrs[coord], sc)
			if err != nil {
				return err
			}
			p.conns = append(p.conns, b)
			req := &sarama.OffsetFetchRequest{Version: 8}
			for _, g := range chunk {
				req.Groups = append(req.Groups, sarama.OffsetFetchRequestGroup{GroupId: g})
			}
			p.jobs = append(p.jobs, func() (int, error) {
				resp, err := b.FetchOffset(req)
				if err != nil {
					return 0, err
				}
				n := 0
				for _, g := range resp.Groups {
					for _, ps := range g.Blocks {
						n += len(ps)
					}
				}
				return n, nil
			})
		}
	}
	return nil
}

func (p *bareProbe) poll(_ context.Context, res *ProbeResult) error {
	var wg sync.WaitGroup
	errs := make([]error, len(p.jobs))
	for i, job := range p.jobs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = job() }()
	}
	wg.Wait()
	res.Partitions, res.Groups = p.parts, p.grps
	res.SelfRequests = map[string]int{"requests": len(p.jobs)}
	res.Leaders, res.Coordinators, res.OffsetFetchChunks = p.leaders, p.coords, p.chunks
	return errors.Join(errs...)
}

func (p *bareProbe) close() {
	for _, b := range p.conns {
		_ = b.Close()
	}
}

// naiveProbe reads every partition's end offset with its own ListOffsets
// and every group's offsets with its own OffsetFetch (kafka_exporter and
// kminion style), one connection per broker (sarama serialises requests on
// a connection), all brokers at once. With more partitions than sample it
// reads every k-th partition and group and reports the scale k.
type naiveProbe struct {
	sample int
	sc     *sarama.Config
	conns  map[int32]*sarama.Broker
	l      *layout
	k      int
}

func (p *naiveProbe) setup(_ context.Context, brokers []string) error {
	p.sc = saramaConfig()
	l, err := learn(brokers, p.sc)
	if err != nil {
		return err
	}
	p.l = l
	p.k = 1
	if p.sample > 0 && l.partitions > p.sample {
		p.k = (l.partitions + p.sample - 1) / p.sample
	}
	p.conns = map[int32]*sarama.Broker{}
	for id, addr := range l.addrs {
		b, err := openBroker(addr, p.sc)
		if err != nil {
			return err
		}
		p.conns[id] = b
	}
	return nil
}

func (p *naiveProbe) poll(_ context.Context, res *ProbeResult) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	nreq := 0
	for id, b := range p.conns {
		parts, groups := p.l.byLeader[id], p.l.byCoord[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			var err error
			for i := 0; i < len(parts) && err == nil; i += p.k {
				req := sarama.NewOffsetRequest(p.sc.Version)
				req.AddBlock(parts[i].topic, parts[i].part, sarama.OffsetNewest, 1)
				_, err = b.GetAvailableOffsets(req)
				n++
			}
			for i := 0; i < len(groups) && err == nil; i += p.k {
				_, err = b.FetchOffset(&sarama.OffsetFetchRequest{Version: 7, ConsumerGroup: groups[i]})
				n++
			}
			mu.Lock()
			nreq += n
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Scale = float64(p.k)
	res.Partitions, res.Groups = p.l.partitions, p.l.groups
	res.SelfRequests = map[string]int{"requests": nreq}
	return errors.Join(errs...)
}

func (p *naiveProbe) close() {
	for _, b := range p.conns {
		_ = b.Close()
	}
}
