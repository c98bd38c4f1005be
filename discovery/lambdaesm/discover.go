package lambdaesm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/offsetlag/offsetlag/exporter/expiry"
	"github.com/offsetlag/offsetlag/internal/settings"
)

// Defaults.
const (
	DefaultRefreshInterval = 5 * time.Minute
	DefaultHorizon         = 48 * time.Hour
)

// pageSize is MaxItems of one ListEventSourceMappings page (Lambda's
// maximum is 10,000; 100 keeps responses small).
const pageSize = 100

// Settings are what a user configures of discovery: the exporter's
// lambda-esm.* options. Each field is one option, declared once: the tags
// give its key, help and range (internal/settings), SetDefaults its
// default. Config embeds them.
type Settings struct {
	// Enabled turns discovery on (off by default); the program reads it.
	Enabled bool `mapstructure:"enabled" help:"discover Lambda Kafka event source mappings (lambda:ListEventSourceMappings) and watch their consumer groups"`
	// Regions to list mappings in; empty: the SDK's region (AWS_REGION,
	// shared config).
	Regions []string `mapstructure:"regions" help:"AWS regions to list event source mappings in (default: AWS_REGION / shared config)"`
	// FunctionAllow and FunctionDeny are anchored regular expressions on
	// function names (deny wins; empty allow: every function); the program
	// compiles them into Config.IncludeFunction.
	FunctionAllow []string `mapstructure:"function-allow" help:"only watch mappings of functions matching one of these anchored regular expressions (default: all)"`
	FunctionDeny  []string `mapstructure:"function-deny" help:"never watch mappings of functions matching one of these anchored regular expressions (wins over allow)"`
	// RefreshInterval between two listings.
	RefreshInterval time.Duration `mapstructure:"refresh-interval" range:"1s..24h" help:"time between two listings of the event source mappings"`
	// Horizon: a Disabled mapping whose group's offsets expire within it is
	// flagged.
	Horizon time.Duration `mapstructure:"horizon" range:"1m..87600h" help:"warn when a disabled mapping's committed offsets expire within this"`
	// Endpoint overrides the Lambda endpoint (tests, VPC endpoints).
	Endpoint string `mapstructure:"endpoint" help:"Lambda endpoint override (VPC endpoint, test server)"`
}

// SetDefaults sets every setting to its default (off).
func (s *Settings) SetDefaults() {
	*s = Settings{Regions: []string{}, FunctionAllow: []string{}, FunctionDeny: []string{},
		RefreshInterval: DefaultRefreshInterval, Horizon: DefaultHorizon}
}

// Config configures discovery: the Settings (zero durations take their
// defaults) and what the program adds.
type Config struct {
	Settings
	// IncludeFunction, when set, says which functions' mappings are kept
	// (by function name).
	IncludeFunction func(name string) bool
	// Clusters mappings are matched to.
	Clusters []Cluster
	Logger   *slog.Logger
	// AWSConfig, when set, is used instead of the default credential and
	// region chain (tests).
	AWSConfig *aws.Config
	// ClientOptions are applied to every Lambda client (tests: retryer).
	ClientOptions []func(*lambda.Options)
}

// Lister is the part of the Lambda client discovery uses.
type Lister interface {
	lambda.ListEventSourceMappingsAPIClient
}

// Discoverer lists the Kafka event source mappings and serves them, from an
// atomic snapshot, as expected groups.
type Discoverer struct {
	cfg     Config
	log     *slog.Logger
	regions []string
	clients map[string]Lister
	snap    atomic.Pointer[Snapshot]

	mu      sync.Mutex // serializes Refresh and guards the fields below
	byReg   map[string][]Mapping
	lastErr map[string]string
	known   map[string]string // uuid -> state, to log changes once
	// knownCluster: uuid -> cluster matched at the last publish.
	knownCluster map[string]string
	unmatch      map[string]bool // uuids logged as matching no cluster

	metaMu    sync.Mutex
	metaFuncs map[string]func() []string // cluster -> its brokers from Metadata
	metaSeen  string                     // the broker sets of the last publish
}

// Snapshot is the result of the last refresh.
type Snapshot struct {
	// At is when it was taken.
	At time.Time
	// Mappings are the Kafka mappings kept, sorted by region and UUID, with
	// their Cluster set (empty when unmatched).
	Mappings []Mapping
	expected map[string][]expiry.ExpectedGroup // by cluster
	groups   map[string]bool
}

// New returns a Discoverer; it sends no request.
func New(ctx context.Context, cfg Config) (*Discoverer, error) {
	var def Settings
	def.SetDefaults()
	settings.FillZero(&cfg.Settings, def) // zero durations: the defaults (ranges are the program's, tests go shorter)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var base aws.Config
	if cfg.AWSConfig != nil {
		base = cfg.AWSConfig.Copy()
	} else {
		var load []func(*config.LoadOptions) error
		if len(cfg.Regions) > 0 {
			load = append(load, config.WithRegion(cfg.Regions[0]))
		}
		var err error
		if base, err = config.LoadDefaultConfig(ctx, load...); err != nil {
			return nil, fmt.Errorf("lambda-esm: aws config: %w", err)
		}
	}
	regions := slices.Compact(slices.Sorted(slices.Values(cfg.Regions)))
	if len(regions) == 0 {
		if base.Region == "" {
			return nil, errors.New("lambda-esm: no AWS region: set lambda-esm.regions or AWS_REGION")
		}
		regions = []string{base.Region}
	}
	d := &Discoverer{cfg: cfg, log: cfg.Logger.With("component", "lambda-esm"), regions: regions,
		clients: map[string]Lister{}, byReg: map[string][]Mapping{}, lastErr: map[string]string{},
		known: map[string]string{}, unmatch: map[string]bool{}, knownCluster: map[string]string{}, metaFuncs: map[string]func() []string{}}
	for _, r := range regions {
		fns := []func(*lambda.Options){func(o *lambda.Options) { o.Region = r }}
		if cfg.Endpoint != "" {
			fns = append(fns, func(o *lambda.Options) { o.BaseEndpoint = aws.String(cfg.Endpoint) })
		}
		d.clients[r] = lambda.NewFromConfig(base, append(fns, cfg.ClientOptions...)...)
	}
	d.snap.Store(&Snapshot{expected: map[string][]expiry.ExpectedGroup{}, groups: map[string]bool{}})
	return d, nil
}

// SetMetadataBrokers gives discovery the brokers of a configured cluster
// as its Metadata answers list them (kafkaadmin.Client.BrokerAddrs): a
// self-managed mapping then matches the cluster when it names any of its
// brokers, not only a configured bootstrap broker.
func (d *Discoverer) SetMetadataBrokers(cluster string, brokers func() []string) {
	d.metaMu.Lock()
	defer d.metaMu.Unlock()
	d.metaFuncs[cluster] = brokers
}

// Rematch matches the last listed mappings to the clusters again when a
// cluster's brokers from Metadata changed since the last match (the first
// poll, a broker added or moved). No AWS request; cheap when nothing
// changed. Safe to call from exporter.Options.OnResult.
func (d *Discoverer) Rematch() {
	if d.metadataKey() == d.lastMetaKey() {
		return
	}
	// A refresh in progress (listing over the network) publishes with the
	// new brokers itself: never wait for it here.
	if !d.mu.TryLock() {
		return
	}
	defer d.mu.Unlock()
	d.publish()
}

func (d *Discoverer) lastMetaKey() string {
	d.metaMu.Lock()
	defer d.metaMu.Unlock()
	return d.metaSeen
}

// metadataBrokers returns each cluster's brokers from Metadata and a key
// of them all.
func (d *Discoverer) metadataBrokers() (map[string][]string, string) {
	d.metaMu.Lock()
	funcs := make(map[string]func() []string, len(d.metaFuncs))
	for k, f := range d.metaFuncs {
		funcs[k] = f
	}
	d.metaMu.Unlock()
	out := map[string][]string{}
	var key strings.Builder
	for _, c := range d.cfg.Clusters {
		if f := funcs[c.Name]; f != nil {
			bs := f()
			out[c.Name] = bs
			key.WriteString(c.Name + "=" + strings.Join(bs, ",") + ";")
		}
	}
	return out, key.String()
}

func (d *Discoverer) metadataKey() string {
	_, k := d.metadataBrokers()
	return k
}

// Regions are the regions listed.
func (d *Discoverer) Regions() []string { return slices.Clone(d.regions) }

// RefreshInterval is the configured interval.
func (d *Discoverer) RefreshInterval() time.Duration { return d.cfg.RefreshInterval }

// Snapshot returns the last refresh's result.
func (d *Discoverer) Snapshot() *Snapshot { return d.snap.Load() }

// ExpectedGroups returns the expected groups of a cluster (for
// expiry.Options.Expected). Safe for concurrent use; no I/O.
func (d *Discoverer) ExpectedGroups(cluster string) []expiry.ExpectedGroup {
	return d.snap.Load().expected[cluster]
}

// HasGroup reports whether a discovered mapping consumes with this group
// id (on any cluster): such groups are polled even when the groups filter
// leaves them out.
func (d *Discoverer) HasGroup(group string) bool { return d.snap.Load().groups[group] }

// Run refreshes every RefreshInterval until ctx ends. The first refresh is
// one interval away: call Refresh first.
func (d *Discoverer) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = d.Refresh(ctx)
		}
	}
}

// Refresh lists the mappings of every region and publishes a new
// snapshot. A region whose listing fails keeps its previous mappings (a
// throttled or denied call must not make disabled functions vanish); the
// error is logged once and returned.
func (d *Discoverer) Refresh(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, r := range d.regions {
		ms, err := d.list(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if msg := errKey(err); msg != d.lastErr[r] {
				d.log.Warn("cannot list Lambda event source mappings; keeping the last ones", "region", r, "err", err)
				d.lastErr[r] = msg
			}
			errs = append(errs, fmt.Errorf("%s: %w", r, err))
			continue
		}
		if d.lastErr[r] != "" {
			d.log.Info("listing Lambda event source mappings works again", "region", r)
			delete(d.lastErr, r)
		}
		d.byReg[r] = ms
	}
	d.publish()
	return errors.Join(errs...)
}

// list reads every page of one region.
func (d *Discoverer) list(ctx context.Context, region string) ([]Mapping, error) {
	var out []Mapping
	p := lambda.NewListEventSourceMappingsPaginator(d.clients[region],
		&lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range page.EventSourceMappings {
			m, ok := FromConfiguration(region, c)
			if !ok {
				continue
			}
			if d.cfg.IncludeFunction != nil && !d.cfg.IncludeFunction(m.FunctionName) {
				continue
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// publish matches the mappings to clusters and stores a new snapshot.
// Called with d.mu held.
func (d *Discoverer) publish() {
	s := &Snapshot{At: time.Now(), expected: map[string][]expiry.ExpectedGroup{}, groups: map[string]bool{}}
	seen := map[string]bool{}
	meta, key := d.metadataBrokers()
	d.metaMu.Lock()
	d.metaSeen = key
	d.metaMu.Unlock()
	for _, r := range d.regions {
		for _, m := range d.byReg[r] {
			for _, c := range d.cfg.Clusters {
				c.MetadataBrokers = meta[c.Name]
				if c.Matches(m) {
					m.Cluster = c.Name
					break
				}
			}
			s.Mappings = append(s.Mappings, m)
		}
	}
	slices.SortFunc(s.Mappings, func(a, b Mapping) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.UUID, b.UUID))
	})
	for _, m := range s.Mappings {
		seen[m.UUID] = true
		d.logChange(m)
		// A mapping being deleted will not come back for its offsets.
		if m.Cluster == "" || m.State == "Deleting" {
			continue
		}
		s.expected[m.Cluster] = append(s.expected[m.Cluster], m.Expected(d.cfg.Horizon))
		s.groups[m.GroupID] = true
	}
	for uuid := range d.known {
		if !seen[uuid] {
			d.log.Info("Lambda event source mapping is gone", "esm_uuid", uuid)
			delete(d.known, uuid)
			delete(d.knownCluster, uuid)
			delete(d.unmatch, uuid)
		}
	}
	d.snap.Store(s)
}

// logChange logs a mapping seen for the first time or in a new state, and
// once a mapping that matches no configured cluster.
func (d *Discoverer) logChange(m Mapping) {
	attrs := []any{"function_name", m.FunctionName, "esm_uuid", m.UUID, "esm_state", m.State, "group", m.GroupID,
		"topics", m.Topics, "starting_position", m.StartingPosition, "region", m.Region}
	if m.Cluster == "" {
		if !d.unmatch[m.UUID] {
			d.unmatch[m.UUID] = true
			where := []any{"msk_cluster_arn", m.MSKClusterARN}
			if m.MSKClusterARN == "" {
				where = []any{"bootstrap_servers", m.BootstrapServers}
			}
			d.log.Info("Kafka event source mapping matches no configured cluster (set msk-cluster-arn or brokers); not watched",
				append(attrs, where...)...)
		}
	} else {
		delete(d.unmatch, m.UUID)
	}
	prev, ok := d.known[m.UUID]
	prevCluster := d.knownCluster[m.UUID]
	if ok && prev == m.State && prevCluster == m.Cluster {
		return
	}
	d.known[m.UUID] = m.State
	d.knownCluster[m.UUID] = m.Cluster
	if m.Cluster == "" {
		return
	}
	if ok && prevCluster == m.Cluster {
		d.log.Info("Lambda event source mapping changed state", append(attrs, "cluster_name", m.Cluster, "previous_state", prev)...)
		return
	}
	d.log.Info("watching the consumer group of a Lambda event source mapping", append(attrs, "cluster_name", m.Cluster)...)
}

// errKey identifies an error for log-once purposes: the API error code and
// message (the full text carries a request id that changes every time).
func errKey(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
