package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/offsetlag/offsetlag/exporter"
	"github.com/offsetlag/offsetlag/kafkaadmin"
	"github.com/offsetlag/offsetlag/metrics"
)

// Strategies measured by a probe.
const (
	ModeExporter = "exporter" // Exporter.PollAll: the kafkaadmin round plus lag, trends and expiry
	ModeBare     = "bare"     // the batched requests alone, prebuilt, raw sarama brokers
	// ModeKminion is kminion's request pattern (not its code): ListOffsets
	// latest and earliest batched per leader, one OffsetFetch per group.
	ModeKminion = "kminion-pattern"
	// ModeKafkaExporter is kafka_exporter's request pattern (not its
	// code): two ListOffsets (newest, oldest) per partition, one OffsetFetch
	// per group, and one more ListOffsets per committed group partition.
	ModeKafkaExporter = "kafka_exporter-pattern"
)

// ProbeArgs tell a probe (child process) what to measure.
type ProbeArgs struct {
	Mode    string   `json:"mode"`
	Brokers []string `json:"brokers"`
	Polls   int      `json:"polls"`
	// Offsets is the cluster's committed offsets (for the sampling of the
	// kafka_exporter pattern).
	Offsets int `json:"offsets"`
	// Sample, for the kafka_exporter pattern, is the most partitions and
	// group partitions it reads per
	// poll; beyond it every k-th partition and group is read and the
	// figures are scaled by the factor (ProbeResult.Scale).
	Sample int `json:"sample"`
	// CPUProfile, when set, is a file the measured polls' CPU profile is
	// written to.
	CPUProfile string `json:"cpu_profile,omitempty"`
	// Warmup is the number of polls before the measured ones (at least 1):
	// the exporter's status windows fill after Window polls.
	Warmup int `json:"warmup"`
	// HeapProfile, when set, is a file the exporter's heap profile (in
	// use after the measured polls) is written to.
	HeapProfile string `json:"heap_profile,omitempty"`
	// Scrapes (exporter): measure /metrics through a real HTTP server
	// (bytes allocated and time per gzip scrape, peak RSS while 10 clients
	// scrape during a poll). Load and Stalled add the load scenarios.
	Scrapes bool `json:"scrapes,omitempty"`
	// LoadClients scrape continuously for LoadFor; the RSS they add is
	// reported (0: skip).
	LoadClients int           `json:"load_clients,omitempty"`
	LoadFor     time.Duration `json:"load_for,omitempty"`
	// Stalled readers request /metrics without gzip, read 1 KB and stop
	// reading; the RSS they add is reported (0: skip).
	Stalled int `json:"stalled,omitempty"`
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
	// Scale is the extrapolation factor of a sampled run (1 when
	// every partition was read).
	Scale float64 `json:"scale"`
	// PeakRSS is the probe's VmHWM in bytes after the polls (and, for the
	// exporter, the /metrics render after each poll), before any scrape.
	PeakRSS int64 `json:"peak_rss"`
	// Render wall and CPU times of the /metrics exposition (once per poll,
	// Collector.Render), its size and compressed size.
	Renders      []time.Duration `json:"renders,omitempty"`
	RenderCPU    []time.Duration `json:"render_cpu,omitempty"`
	MetricsBytes int64           `json:"metrics_bytes,omitempty"`
	MetricsGzip  int64           `json:"metrics_gzip,omitempty"`
	// Scrape figures (ProbeArgs.Scrapes): bytes allocated per gzip scrape
	// (handler side), wall time of a gzip scrape over loopback HTTP
	// (median of 3), and VmHWM after one more poll while 10 clients
	// scraped.
	ScrapeAllocBytes  int64         `json:"scrape_alloc_bytes,omitempty"`
	ScrapeGzip        time.Duration `json:"scrape_gzip,omitempty"`
	PeakRSSWithScrape int64         `json:"peak_rss_with_scrapes,omitempty"`
	// LoadRSS is the most VmRSS rose over its level before LoadClients
	// scraped for LoadFor, LoadScrapes how many scrapes they completed;
	// StalledRSS the same for Stalled stalled readers.
	LoadRSS     int64 `json:"load_rss,omitempty"`
	LoadScrapes int64 `json:"load_scrapes,omitempty"`
	StalledRSS  int64 `json:"stalled_rss,omitempty"`
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
// line on in, runs the measured polls, prints "POLLED", waits for a line
// on in (the parent reads the request counts meanwhile), runs the scrape
// scenarios and prints the ProbeResult as JSON.
func RunProbe(ctx context.Context, a ProbeArgs, in io.Reader, out io.Writer) error {
	var p prober
	switch a.Mode {
	case ModeExporter:
		p = &exporterProbe{}
	case ModeBare:
		p = &bareProbe{}
	case ModeKminion, ModeKafkaExporter:
		p = &patternProbe{sample: a.Sample, offsets: a.Offsets, kafkaExporter: a.Mode == ModeKafkaExporter}
	default:
		return fmt.Errorf("unknown mode %q", a.Mode)
	}
	res := ProbeResult{Mode: a.Mode, Scale: 1}
	if err := p.setup(ctx, a.Brokers); err != nil {
		return fmt.Errorf("%s setup: %w", a.Mode, err)
	}
	defer p.close()
	for range max(a.Warmup, 1) {
		if err := p.poll(ctx, &res); err != nil {
			return fmt.Errorf("%s warm-up: %w", a.Mode, err)
		}
	}
	fmt.Fprintln(out, "READY")
	rd := bufio.NewReader(in)
	if _, err := rd.ReadString('\n'); err != nil {
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
		if ep, ok := p.(*exporterProbe); ok { // render once per poll, timed apart
			t0, c0 := time.Now(), cpuTime()
			res.MetricsBytes, res.MetricsGzip = ep.c.Render()
			res.Renders, res.RenderCPU = append(res.Renders, time.Since(t0)), append(res.RenderCPU, cpuTime()-c0)
		}
	}
	if a.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	res.PeakRSS = peakRSS()
	// The parent counts the measured polls' requests now, before the
	// scrape scenarios poll once more.
	fmt.Fprintln(out, "POLLED")
	if _, err := rd.ReadString('\n'); err != nil {
		return err
	}
	if a.HeapProfile != "" {
		if err := writeHeapProfile(a.HeapProfile); err != nil {
			return err
		}
	}
	if ep, ok := p.(*exporterProbe); ok {
		if err := ep.scrapes(ctx, a, &res); err != nil {
			return fmt.Errorf("scrapes: %w", err)
		}
	}
	return json.NewEncoder(out).Encode(res)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

type prober interface {
	setup(ctx context.Context, brokers []string) error
	poll(ctx context.Context, res *ProbeResult) error
	close()
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS() int64 { return procStatus("VmHWM:") }

// rss is VmRSS from /proc/self/status, in bytes.
func rss() int64 { return procStatus("VmRSS:") }

func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

// exporterProbe polls through Exporter.PollAll with production defaults and
// serves /metrics from its Collector on a loopback HTTP server.
type exporterProbe struct {
	ac  *kafkaadmin.Client
	e   *exporter.Exporter
	c   *metrics.Collector
	srv *http.Server
	url string
}

func (p *exporterProbe) setup(_ context.Context, brokers []string) error {
	ac, err := kafkaadmin.New(kafkaadmin.Config{Name: "bench", Brokers: brokers}, nil)
	if err != nil {
		return err
	}
	var opts exporter.Options
	opts.Poll.Interval, opts.Poll.Timeout = time.Hour, 10*time.Minute
	e, err := exporter.New([]exporter.Source{ac}, opts)
	if err != nil {
		return err
	}
	p.ac, p.e = ac, e
	p.c = metrics.NewCollector(e.Latest, metrics.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p.url = "http://" + ln.Addr().String() + "/metrics"
	p.srv = &http.Server{Handler: p.c.Handler(nil), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return nil
}

func (p *exporterProbe) poll(ctx context.Context, res *ProbeResult) error {
	before := p.e.Latest().Clusters[0].Requests
	p.e.PollAll(ctx) // its only source, p.ac
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

func (p *exporterProbe) close() {
	if p.srv != nil {
		_ = p.srv.Close()
	}
	_ = p.ac.Close()
}

// saramaConfig is the client configuration of the bare and pattern probes:
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

// layout is the cluster as the bare and pattern probes learn it once:
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

// patternProbe sends the requests of another exporter's poll, modelled
// on its request pattern, not its code: one connection per broker (sarama
// serialises requests on a connection), all brokers at once.
//
//   - kminion: ListOffsets latest and earliest batched per leader, then one
//     OffsetFetch per group (its consumer-group offsets are fetched group by
//     group).
//   - kafka_exporter: two ListOffsets per partition (newest and oldest),
//     one OffsetFetch per group and one more ListOffsets (newest) per
//     committed group partition.
//
// With more partitions than sample, it sends every k-th per-partition and
// per-group request and reports the scale k.
type patternProbe struct {
	sample, offsets int
	kafkaExporter   bool
	sc              *sarama.Config
	conns           map[int32]*sarama.Broker
	l               *layout
	k               int
	leaderOf        map[tp]int32
}

func (p *patternProbe) setup(_ context.Context, brokers []string) error {
	p.sc = saramaConfig()
	l, err := learn(brokers, p.sc)
	if err != nil {
		return err
	}
	p.l = l
	p.k = 1
	if n := max(l.partitions, p.offsets); p.kafkaExporter && p.sample > 0 && n > p.sample {
		p.k = (n + p.sample - 1) / p.sample
	}
	p.leaderOf = map[tp]int32{}
	for id, ps := range l.byLeader {
		for _, x := range ps {
			p.leaderOf[x] = id
		}
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

func (p *patternProbe) listOffsets(b *sarama.Broker, ps []tp, at int64) error {
	req := sarama.NewOffsetRequest(p.sc.Version)
	for _, x := range ps {
		req.AddBlock(x.topic, x.part, at, 1)
	}
	_, err := b.GetAvailableOffsets(req)
	return err
}

// patternRound is one poll's shared state: the errors seen and the requests sent.
type patternRound struct {
	mu   sync.Mutex // also kafka_exporter's one lock around its per-partition ListOffsets
	errs []error
	nreq atomic.Int64
}

func (r *patternRound) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (p *patternProbe) poll(_ context.Context, res *ProbeResult) error {
	var wg sync.WaitGroup
	var r patternRound
	// Offsets: per leader (kminion) or per partition (kafka_exporter).
	for id, b := range p.conns {
		parts := p.l.byLeader[id]
		wg.Go(func() {
			if err := p.endOffsets(b, parts, &r); err != nil {
				r.fail(err)
			}
		})
	}
	wg.Wait()
	// Group offsets: one OffsetFetch per group, on its coordinator; for
	// kafka_exporter one ListOffsets per committed partition after it.
	for id, b := range p.conns {
		groups := p.l.byCoord[id]
		wg.Go(func() {
			if err := p.groupOffsets(b, groups, &r); err != nil {
				r.fail(err)
			}
		})
	}
	wg.Wait()
	res.Scale = float64(p.k)
	res.Partitions, res.Groups = p.l.partitions, p.l.groups
	res.SelfRequests = map[string]int{"requests": int(r.nreq.Load())}
	return errors.Join(r.errs...)
}

// endOffsets reads the latest and earliest offsets of the partitions b leads:
// one request each for all of them (kminion), or one per partition
// (kafka_exporter, every k-th partition).
func (p *patternProbe) endOffsets(b *sarama.Broker, parts []tp, r *patternRound) error {
	if len(parts) == 0 {
		return nil
	}
	step, batch := len(parts), len(parts)
	if p.kafkaExporter {
		step, batch = p.k, 1
	}
	for i := 0; i < len(parts); i += step {
		for _, at := range []int64{sarama.OffsetNewest, sarama.OffsetOldest} {
			r.nreq.Add(1)
			if err := p.listOffsets(b, parts[i:i+batch], at); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupOffsets sends one OffsetFetch per group (every k-th) to its
// coordinator b; for kafka_exporter, then one ListOffsets per committed
// partition.
func (p *patternProbe) groupOffsets(b *sarama.Broker, groups []string, r *patternRound) error {
	for i := 0; i < len(groups); i += p.k {
		r.nreq.Add(1)
		resp, err := b.FetchOffset(&sarama.OffsetFetchRequest{Version: 7, ConsumerGroup: groups[i]})
		if err != nil {
			return err
		}
		if !p.kafkaExporter {
			continue
		}
		if err := p.committedEndOffsets(resp, r); err != nil {
			return err
		}
	}
	return nil
}

// committedEndOffsets is kafka_exporter's ListOffsets per committed partition,
// sent under one lock, one at a time.
func (p *patternProbe) committedEndOffsets(resp *sarama.OffsetFetchResponse, r *patternRound) error {
	for topic, blocks := range resp.Blocks {
		for part, blk := range blocks {
			x := tp{topic, part}
			lb := p.conns[p.leaderOf[x]]
			if blk.Offset < 0 || lb == nil {
				continue
			}
			r.nreq.Add(1)
			r.mu.Lock()
			err := p.listOffsets(lb, []tp{x}, sarama.OffsetNewest)
			r.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *patternProbe) close() {
	for _, b := range p.conns {
		_ = b.Close()
	}
}
