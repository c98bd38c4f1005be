package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// Options configure a run of the suite.
type Options struct {
	Sizes       []Size
	Polls       int // measured polls per strategy (after the warm-up)
	NaivePolls  int // measured polls of the kminion and kafka_exporter patterns
	NaiveSample int // most partitions (and group partitions) the kafka_exporter pattern reads per poll (then extrapolates)
	// Warmup is the exporter's polls before the measured ones: at least
	// the status window, so that it is measured at steady state.
	Warmup int
	// LoadClients scrape the exporter of LoadSize for LoadFor; Stalled
	// readers stall on the exporter of StalledSize (0: skip).
	LoadClients int
	LoadFor     time.Duration
	LoadSize    string
	Stalled     int
	StalledSize string
	// Strategies, when set, limits the strategies run (bare, exporter,
	// kminion-pattern, kafka_exporter-pattern).
	Strategies []string
	// ProbeEnv is added to the environment of every probe process (for
	// example GOMEMLIMIT=1800MiB).
	ProbeEnv []string
	// HeapDir, when set, receives the exporter's heap profile per size
	// (SIZE-heap.pprof, in use after the measured polls).
	HeapDir     string
	Latency     time.Duration // injected latency of the latency scenario (0: skip it)
	LatencySize string        // size of the latency scenario
	// Probe is the command that runs a probe: argv, to which the JSON
	// ProbeArgs are appended.
	Probe []string
	Log   io.Writer
	// ProfileDir, when set, receives a CPU profile of each probe's
	// measured polls (SIZE-MODE.pprof).
	ProfileDir string
}

// Figures are the medians of one strategy at one size.
type Figures struct {
	Size, Mode   string
	Requests     float64            // per measured poll, counted by the cluster (scaled for a sampled run)
	ByAPI        map[string]float64 // per measured poll
	Wall, CPU    time.Duration
	Round        time.Duration // exporter: the kafkaadmin round (Snapshot) within Wall
	Mallocs      uint64
	AllocBytes   uint64
	PeakRSS      int64
	Render       time.Duration
	RenderCPU    time.Duration
	MetricsBytes int64
	Scale        float64
	Latency      time.Duration // injected per request
	Probe        ProbeResult
	// Warmup is the requests of the probe's setup and warm-up polls
	// (WarmupPolls of them), by API.
	Warmup      map[string]float64
	WarmupPolls int
}

// Report is the outcome of a run.
type Report struct {
	// HeapDir and ProfileDir are where the heap and CPU profiles went
	// (Options).
	HeapDir, ProfileDir string
	Started             time.Time
	Took                time.Duration
	Builds              map[string]time.Duration
	Figures             []Figures
	Machine             string
	Targets             []Target
	Failures            int
}

// Target is one checked ratio.
type Target struct {
	Name, Value, Limit string
	Pass               bool
}

// Run builds each cluster in turn and measures every strategy on it.
func Run(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Started: time.Now(), Builds: map[string]time.Duration{}, Machine: Machine(), HeapDir: o.HeapDir,
		ProfileDir: o.ProfileDir}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	for _, dir := range []string{o.ProfileDir, o.HeapDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range o.Sizes {
		logf("size %s: building %d partitions, %d groups, %d committed offsets", s.Name, s.Partitions(), s.Groups, s.Offsets())
		c, err := NewCluster(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("size %s: %w", s.Name, err)
		}
		rep.Builds[s.Name] = c.Build
		logf("size %s: built in %s", s.Name, c.Build.Round(time.Millisecond))
		runs := []struct {
			mode    string
			polls   int
			latency time.Duration
		}{{ModeBare, o.Polls, 0}, {ModeExporter, o.Polls, 0}, {ModeKminion, o.NaivePolls, 0}, {ModeKafkaExporter, o.NaivePolls, 0}}
		if o.Latency > 0 && s.Name == o.LatencySize {
			runs = append(runs, struct {
				mode    string
				polls   int
				latency time.Duration
			}{ModeBare, o.Polls, o.Latency}, struct {
				mode    string
				polls   int
				latency time.Duration
			}{ModeExporter, o.Polls, o.Latency})
		}
		for _, r := range runs {
			if len(o.Strategies) > 0 && !contains(o.Strategies, r.mode) {
				continue
			}
			c.SetLatency(r.latency)
			a := ProbeArgs{Mode: r.mode, Brokers: c.Addrs(), Polls: r.polls, Sample: o.NaiveSample, Warmup: 1,
				Offsets: s.Offsets()}
			if r.mode == ModeExporter && r.latency == 0 {
				a.Warmup, a.Scrapes = o.Warmup, true
				if s.Name == o.LoadSize {
					a.LoadClients, a.LoadFor = o.LoadClients, o.LoadFor
				}
				if s.Name == o.StalledSize {
					a.Stalled = o.Stalled
				}
				if o.HeapDir != "" {
					a.HeapProfile = filepath.Join(o.HeapDir, s.Name+"-heap.pprof")
				}
			}
			f, err := probe(ctx, o, c, a)
			c.SetLatency(0)
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("size %s %s: %w", s.Name, r.mode, err)
			}
			f.Latency = r.latency
			logf("size %s: %-8s latency %-5s requests/poll %.0f wall %s cpu %s", s.Name, r.mode, r.latency,
				f.Requests, f.Wall.Round(time.Microsecond), f.CPU.Round(time.Microsecond))
			rep.Figures = append(rep.Figures, f)
		}
		c.Close()
		runtime.GC()
		debug.FreeOSMemory()
	}
	rep.Took = time.Since(rep.Started)
	rep.check(o)
	return rep, nil
}

// probe runs one child and collects its figures.
func probe(ctx context.Context, o Options, c *Cluster, a ProbeArgs) (Figures, error) {
	if o.ProfileDir != "" {
		a.CPUProfile = filepath.Join(o.ProfileDir, fmt.Sprintf("%s-%s-%s.pprof", c.Size.Name, a.Mode, c.latencyName()))
	}
	args, _ := json.Marshal(a)
	cmd := exec.CommandContext(ctx, o.Probe[0], append(o.Probe[1:], string(args))...)
	if len(o.ProbeEnv) > 0 {
		cmd.Env = append(os.Environ(), o.ProbeEnv...)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Figures{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Figures{}, err
	}
	c.ResetCounts()
	if err := cmd.Start(); err != nil {
		return Figures{}, err
	}
	defer func() { _ = cmd.Wait() }()
	rd := bufio.NewReader(stdout)
	line, err := rd.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "READY" {
		_ = cmd.Process.Kill()
		return Figures{}, fmt.Errorf("probe did not get ready: %q %v", line, err)
	}
	warm := c.Counts()
	c.ResetCounts()
	if _, err := io.WriteString(stdin, "GO\n"); err != nil {
		return Figures{}, err
	}
	// The requests of the measured polls alone: the probe says when they
	// are done, before its scrape scenarios (which poll once more).
	line, err = rd.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "POLLED" {
		return Figures{}, fmt.Errorf("probe did not finish its polls: %q %v", line, err)
	}
	counts := c.Counts()
	if _, err := io.WriteString(stdin, "GO\n"); err != nil {
		return Figures{}, err
	}
	line, err = rd.ReadString('\n')
	if err != nil {
		return Figures{}, fmt.Errorf("probe result: %w", err)
	}
	_ = stdin.Close()
	var res ProbeResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return Figures{}, fmt.Errorf("probe result %q: %w", line, err)
	}
	f := Figures{Size: c.Size.Name, Mode: a.Mode, ByAPI: map[string]float64{}, PeakRSS: res.PeakRSS,
		Warmup: map[string]float64{}, WarmupPolls: max(a.Warmup, 1),
		MetricsBytes: res.MetricsBytes, Scale: res.Scale, Probe: res}
	var total float64
	for api, n := range counts {
		per := float64(n) * res.Scale / float64(len(res.Samples))
		f.ByAPI[api] = per
		total += per
	}
	f.Requests = total
	for api, n := range warm {
		f.Warmup[api] = float64(n)
	}
	var walls, cpus, rounds []time.Duration
	var mallocs, bytes []uint64
	for _, s := range res.Samples {
		walls = append(walls, time.Duration(float64(s.Wall)*res.Scale))
		cpus = append(cpus, time.Duration(float64(s.CPU)*res.Scale))
		rounds = append(rounds, s.Round)
		mallocs = append(mallocs, uint64(float64(s.Mallocs)*res.Scale))
		bytes = append(bytes, uint64(float64(s.Bytes)*res.Scale))
	}
	f.Wall, f.CPU, f.Mallocs, f.AllocBytes = median(walls), median(cpus), median(mallocs), median(bytes)
	f.Round = median(rounds)
	if len(res.Renders) > 0 {
		f.Render, f.RenderCPU = median(res.Renders), median(res.RenderCPU)
	}
	return f, nil
}

func median[T ~int64 | ~uint64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// Find returns the figures of a size, strategy and latency.
func (r *Report) Find(size, mode string, latency time.Duration) (Figures, bool) {
	for _, f := range r.Figures {
		if f.Size == size && f.Mode == mode && f.Latency == latency {
			return f, true
		}
	}
	return Figures{}, false
}

func (r *Report) check(o Options) {
	add := func(name, value, limit string, pass bool) {
		r.Targets = append(r.Targets, Target{name, value, limit, pass})
		if !pass {
			r.Failures++
		}
	}
	for _, s := range o.Sizes {
		ex, ok1 := r.Find(s.Name, ModeExporter, 0)
		bare, ok2 := r.Find(s.Name, ModeBare, 0)
		if !ok1 || !ok2 {
			continue
		}
		p := bare.Probe
		// Issue 16's bound: per broker Metadata and ListOffsets latest and
		// earliest; per coordinator ListGroups, DescribeGroups and
		// OffsetFetch (one more per extra chunk of groups); one Fetch per
		// leader for the exact time-lag reads.
		limit := 3*NumBrokers + 3*p.Coordinators + (p.OffsetFetchChunks - p.Coordinators) + p.Leaders
		add(fmt.Sprintf("%s: requests per poll", s.Name), fmt.Sprintf("%s (%s)", perPoll(ex.Requests), apis(ex.ByAPI)),
			fmt.Sprintf("<= %d (3x%d brokers + 3x%d coordinators + %d extra OffsetFetch chunks + %d Fetch, one per leader)", limit, NumBrokers,
				p.Coordinators, p.OffsetFetchChunks-p.Coordinators, p.Leaders), ex.Requests <= float64(limit))
		if s.Name == "M" {
			if ke, ok := r.Find(s.Name, ModeKafkaExporter, 0); ok {
				rq := ke.Requests / ex.Requests
				add("M: kafka_exporter-pattern requests / poll requests", fmt.Sprintf("%.0fx (%.0f / %s)", rq, ke.Requests, perPoll(ex.Requests)), ">= 100x", rq >= 100)
			}
		}
	}
	peak := func(f Figures) int64 { return max(f.PeakRSS, f.Probe.PeakRSSWithScrape) }
	if m, ok := r.Find("M", ModeExporter, 0); ok {
		add("M: peak RSS (polls, renders, 10 concurrent scrapes)", mb(peak(m)), "<= 128 MB", peak(m) <= 128<<20)
		add("M: CPU per poll (steady state)", withRender(m), "<= 100 ms", m.CPU <= 100*time.Millisecond)
		if z := m.Probe.MetricsGzip; z > 0 {
			a := m.Probe.ScrapeAllocBytes
			add("M: bytes allocated per gzip scrape / compressed body", fmt.Sprintf("%.3f (%s / %s)", float64(a)/float64(z), kb(a), kb(z)),
				"<= 2", a <= 2*z)
		}
	}
	if l, ok := r.Find("L", ModeExporter, 0); ok {
		add("L (1M): peak RSS (polls, renders, 10 concurrent scrapes)", mb(peak(l)), "<= 512 MB", peak(l) <= 512<<20)
	}
	if x, ok := r.Find("XL", ModeExporter, 0); ok {
		add("XL (4M): peak RSS (polls, renders, 10 concurrent scrapes)", mb(peak(x)), "<= 2048 MB", peak(x) <= 2<<30)
		add("XL (4M): CPU per poll (steady state)", withRender(x), "<= 3 s", x.CPU <= 3*time.Second)
		add("XL (4M): gzip scrape over loopback HTTP", fmt.Sprintf("%s (%s compressed)", ms(x.Probe.ScrapeGzip), mb(x.Probe.MetricsGzip)),
			"<= 2 s", x.Probe.ScrapeGzip <= 2*time.Second)
	}
	if f, ok := r.Find(o.LoadSize, ModeExporter, 0); ok && o.LoadClients > 0 {
		add(fmt.Sprintf("%s: RSS added by %d clients scraping for %s", o.LoadSize, o.LoadClients, o.LoadFor),
			fmt.Sprintf("%s (%s scrapes)", mb(f.Probe.LoadRSS), count(float64(f.Probe.LoadScrapes))), "< 50 MB", f.Probe.LoadRSS < 50<<20)
	}
	if f, ok := r.Find(o.StalledSize, ModeExporter, 0); ok && o.Stalled > 0 {
		add(fmt.Sprintf("%s: RSS added by %d readers stalled on a %s /metrics", o.StalledSize, o.Stalled, mb(f.MetricsBytes)),
			mb(f.Probe.StalledRSS), "< 100 MB", f.Probe.StalledRSS < 100<<20)
	}
	if o.Latency > 0 {
		if f, ok := r.Find(o.LatencySize, ModeExporter, o.Latency); ok {
			if f0, ok := r.Find(o.LatencySize, ModeExporter, 0); ok {
				// What the latency added: serial request steps x latency,
				// without the poll's own CPU work.
				d := f.Wall - f0.Wall
				limit := 4 * o.Latency
				add(fmt.Sprintf("%s: wall added by %s per request", o.LatencySize, o.Latency),
					fmt.Sprintf("%s (%s - %s), %.1f serial steps", ms(d), ms(f.Wall), ms(f0.Wall), float64(d)/float64(o.Latency)),
					"<= "+ms(limit), d <= limit)
			}
		}
	}
}

// withRender is a poll's CPU and, beside it, with its /metrics render
// (once per poll in production, measured apart).
func withRender(f Figures) string {
	return fmt.Sprintf("%s (%s with the /metrics render of its Result)", ms(f.CPU), ms(f.CPU+f.RenderCPU))
}

func kb(b int64) string { return fmt.Sprintf("%.0f KB", float64(b)/(1<<10)) }

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

func mb(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
}

// apis abbreviates requests by API: "ListOffsets 6, OffsetFetch 3".
func apis(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+perPoll(m[k]))
	}
	return strings.Join(parts, ", ")
}

// perPoll formats a request count per poll: an integer when it is one,
// else with two decimals (a request sent every few polls).
func perPoll(n float64) string {
	if n == float64(int64(n)) {
		return count(n)
	}
	return fmt.Sprintf("%.2f", n)
}

func count(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sizes describes the sizes of the report's figures, in their order.
func (r *Report) sizes() string {
	var sz []string
	for _, f := range r.Figures {
		if s, ok := SizeByName(f.Size); ok && !contains(sz, s.Name) {
			sz = append(sz, s.Name)
		}
	}
	var desc []string
	for _, n := range sz {
		s, _ := SizeByName(n)
		desc = append(desc, fmt.Sprintf("%s = %s partitions, %s groups, %s committed offsets (built in %s)", s.Name,
			count(float64(s.Partitions())), count(float64(s.Groups)), count(float64(s.Offsets())), r.Builds[n].Round(100*time.Millisecond)))
	}
	return strings.Join(desc, "; ")
}

// warmupTable writes the exporter's requests during its setup and warm-up
// polls.
func (r *Report) warmupTable(b *strings.Builder) {
	b.WriteString("### Exporter requests during its setup and warm-up polls\n\n" +
		"Counted by the cluster from the probe's start to its first measured poll (the status window filling, " +
		"exact time-lag reads of partitions seen lagging for the first time included).\n\n" +
		"| size | warm-up polls | requests | per poll | by API (total) |\n|---|---:|---:|---:|---|\n")
	for _, f := range r.Figures {
		if f.Mode != ModeExporter || f.Latency > 0 || len(f.Warmup) == 0 {
			continue
		}
		var total float64
		for _, n := range f.Warmup {
			total += n
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s |\n", f.Size, f.WarmupPolls, count(total),
			perPoll(math.Round(100*total/float64(f.WarmupPolls))/100), apis(f.Warmup))
	}
	b.WriteString("\n")
}

// Markdown renders the report.
func (r *Report) Markdown(command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# offsetlag performance (issues 10 and 16)\n\n")
	fmt.Fprintf(&b, "Produced by `%s` on %s (took %s).\n\n", command, r.Started.UTC().Format("2006-01-02 15:04 MST"),
		r.Took.Round(time.Second))
	fmt.Fprintf(&b, "## Machine\n\n%s\n", r.Machine)
	if r.HeapDir != "" || r.ProfileDir != "" {
		b.WriteString("## Profiles\n\n")
		if r.HeapDir != "" {
			fmt.Fprintf(&b, "- `%s/SIZE-heap.pprof`: the exporter's heap in use after its measured polls (`go tool pprof -sample_index=inuse_space`).\n", r.HeapDir)
		}
		if r.ProfileDir != "" {
			fmt.Fprintf(&b, "- `%s/SIZE-STRATEGY-LATENCY.pprof`: CPU of each strategy's measured polls (the exporter's with its /metrics renders).\n", r.ProfileDir)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Per poll (median of the measured polls)\n\n")
	fmt.Fprintf(&b, "In-process kfake cluster, %d brokers. Sizes: %s.\n\n", NumBrokers, r.sizes())
	b.WriteString("| size | strategy | latency | requests/poll | requests by API | wall | of which requests | CPU | allocs | alloc MB | peak RSS |\n")
	b.WriteString("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, f := range r.Figures {
		mode := f.Mode
		if f.Scale > 1 {
			mode += fmt.Sprintf(" (1/%.0f sampled, x%.0f)", f.Scale, f.Scale)
		}
		lat := "-"
		if f.Latency > 0 {
			lat = ms(f.Latency)
		}
		round := "-"
		if f.Round > 0 {
			round = ms(f.Round)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %s |\n", f.Size, mode, lat, perPoll(f.Requests),
			apis(f.ByAPI), ms(f.Wall), round, ms(f.CPU), count(float64(f.Mallocs)), float64(f.AllocBytes)/(1<<20), mb(f.PeakRSS))
	}
	b.WriteString("\nStrategies: **exporter** = `Exporter.PollAll` with production defaults (kafkaadmin round, lag, trends with " +
		"hybrid time lag, expiry), measured at steady state (after its warm-up polls filled the status window), *of which " +
		"requests* being its requests phase (the kafkaadmin Snapshot); **bare** = only the batched requests (ListOffsets latest per leader, OffsetFetch v8 per " +
		"coordinator and chunk of 1,000 groups), prebuilt, raw sarama connections, all at once: the floor; " +
		"**kminion-pattern** = kminion's request pattern, not its code (ListOffsets latest and earliest batched per leader, one " +
		"OffsetFetch per group); **kafka_exporter-pattern** = kafka_exporter's request pattern, not its code (two ListOffsets per " +
		"partition, one OffsetFetch per group, one more ListOffsets per committed group partition, those one at a time). " +
		"Neither models what those exporters compute after the requests. Requests are counted by the cluster over the measured polls (not the warm-up, not the scrape scenarios' extra poll) and divided by their number: a fraction is a request sent every few polls. Each strategy runs in its own child process: CPU " +
		"(getrusage), allocations (MemStats) and peak RSS (VmHWM after the polls and the exporter's once-per-poll /metrics " +
		"render, before any scrape) are the strategy's alone, not kfake's; the exporter's CPU and allocations are its polls' (requests and math), " +
		"its /metrics render being measured apart (next table). Wall time includes kfake's own work (it serves every request on one goroutine " +
		"and shares the machine's cores). Sampled rows send every k-th per-partition and per-group request and multiply by k.\n\n")

	r.warmupTable(&b)

	b.WriteString("## /metrics (exporter, rendered once per poll, served gzip)\n\n")
	b.WriteString("| size | render wall | render CPU | text | gzip | alloc per gzip scrape | gzip scrape (loopback HTTP) | peak RSS | peak RSS with 10 scrapes during a poll | load | stalled readers |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, f := range r.Figures {
		if f.Mode != ModeExporter || f.Latency > 0 || f.MetricsBytes == 0 {
			continue
		}
		pr := f.Probe
		load, stalled := "-", "-"
		if pr.LoadScrapes > 0 {
			load = fmt.Sprintf("+%s RSS, %s scrapes", mb(pr.LoadRSS), count(float64(pr.LoadScrapes)))
		}
		if pr.StalledRSS != 0 {
			stalled = fmt.Sprintf("+%s RSS", mb(pr.StalledRSS))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Size, ms(f.Render), ms(f.RenderCPU),
			mb(f.MetricsBytes), mb(pr.MetricsGzip), kb(pr.ScrapeAllocBytes), ms(pr.ScrapeGzip), mb(f.PeakRSS),
			mb(pr.PeakRSSWithScrape), load, stalled)
	}
	b.WriteString("\n## Ratios against the bare batched round (same run)\n\n| size | strategy | requests | wall | CPU | peak RSS |\n|---|---|---:|---:|---:|---:|\n")
	for _, f := range r.Figures {
		bare, ok := r.Find(f.Size, ModeBare, f.Latency)
		if !ok || f.Mode == ModeBare {
			continue
		}
		x := func(a, b float64) string {
			if b <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.1fx", a/b)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", f.Size, f.Mode, x(f.Requests, bare.Requests),
			x(float64(f.Wall), float64(bare.Wall)), x(float64(f.CPU), float64(bare.CPU)), x(float64(f.PeakRSS), float64(bare.PeakRSS)))
	}
	b.WriteString("\n")
	b.WriteString("## Targets\n\n| target | measured | limit | result |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		res := "PASS"
		if !t.Pass {
			res = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Value, t.Limit, res)
	}
	fmt.Fprintf(&b, "\n%d of %d targets met.\n", len(r.Targets)-r.Failures, len(r.Targets))
	return b.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Machine describes the machine and toolchain.
func Machine() string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
				mem = fmt.Sprintf("%.1f GB", float64(kb)/(1<<20))
			}
		}
	}
	kfake := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go/pkg/kfake" {
				kfake = d.Version
			}
		}
	}
	return fmt.Sprintf("- CPUs (nproc): %d, GOMAXPROCS %d\n- CPU model: %s\n- Memory: %s\n- Go: %s %s/%s\n- kfake: %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), cpu, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH, kfake)
}
