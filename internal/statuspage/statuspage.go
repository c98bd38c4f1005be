package statuspage

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configure the page.
type Options struct {
	// Title is shown in the header ("offsetlag").
	Title string
	// Refresh is how often the page fetches fresh data (5s).
	Refresh time.Duration
	// History is how many polls the lag chart keeps per group (120).
	History int
	// MaxGroups caps the groups with a history (5000); more get no chart.
	MaxGroups int
	// Links are shown in the footer (metrics, health, readiness).
	Links []Link
	// Version is shown in the footer.
	Version string
	// Replica, when set, names this replica and the shards it owns (HA
	// replicas, --ha.enabled): every group on the page is exported by it,
	// the other groups by the other replicas. Shown in the header; called
	// at each render (it must not block).
	Replica func() string
}

// Link is a footer link.
type Link struct {
	Href, Text string
}

// Defaults.
const (
	DefaultRefresh   = 5 * time.Second
	DefaultHistory   = 120
	DefaultMaxGroups = 5000
)

// Page is the status page and JSON API. It is an http.Handler serving the
// routes listed in the package doc; mount it at "/".
type Page struct {
	latest func() *result.Result
	opts   Options
	hist   *history
	tmpl   map[string]*template.Template
	mux    *http.ServeMux
}

// New returns a Page reading latest (exporter.Exporter.Latest).
func New(latest func() *result.Result, opts Options) (*Page, error) {
	if latest == nil {
		return nil, fmt.Errorf("statuspage: nil source")
	}
	if opts.Title == "" {
		opts.Title = "offsetlag"
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = DefaultMaxGroups
	}
	p := &Page{latest: latest, opts: opts, hist: newHistory(max(opts.History, 2), opts.MaxGroups),
		tmpl: map[string]*template.Template{}}
	for _, name := range []string{"index", "group", "notfound"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("statuspage: template %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET /groups/{cluster}/{group...}", p.group)
	mux.HandleFunc("GET /group", p.group) // ?cluster=&group=: names that are "." or ".." (see groupPath)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	mux.HandleFunc("GET /api/v1/clusters", p.apiClusters)
	mux.HandleFunc("GET /api/v1/groups", p.apiGroups)
	mux.HandleFunc("GET /api/v1/groups/{cluster}/{group...}", p.apiGroup)
	mux.HandleFunc("GET /api/v1/group", p.apiGroup) // ?cluster=&group=
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, ErrorResponse{Error: "method not allowed"})
			return
		}
		writeJSON(w, http.StatusNotFound, ErrorResponse{Error: "no such API path: " + r.URL.Path})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, http.StatusNotFound, "notfound", p.base("Not found", nil))
	})
	p.mux = mux
	return p, nil
}

// Record feeds the lag history from a new Result. Safe for concurrent use;
// it never waits on I/O. Pass it as (or call it from) the exporter's
// Options.OnResult.
func (p *Page) Record(r *result.Result) { p.hist.record(r) }

// ServeHTTP serves the page, its assets and the JSON API.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

func (p *Page) result() *result.Result {
	if r := p.latest(); r != nil {
		return r
	}
	return &result.Result{}
}

// --- JSON API ---

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (p *Page) apiClusters(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clustersView(p.result()))
}

func (p *Page) apiGroups(w http.ResponseWriter, r *http.Request) {
	res := p.result()
	cluster := r.URL.Query().Get("cluster")
	if cluster != "" {
		if clusterNamed(res, cluster) == nil {
			writeJSON(w, http.StatusNotFound, ErrorResponse{Error: fmt.Sprintf("unknown cluster %q", cluster)})
			return
		}
	}
	writeJSON(w, http.StatusOK, groupsView(res, cluster))
}

func (p *Page) apiGroup(w http.ResponseWriter, r *http.Request) {
	cluster, group := groupOf(r)
	d, ok := groupDetail(p.result(), cluster, group, p.hist.points(cluster, group))
	if !ok {
		writeJSON(w, http.StatusNotFound, ErrorResponse{Error: fmt.Sprintf("unknown group %q in cluster %q", group, cluster)})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// --- HTML ---

// pageData is what every template gets.
type pageData struct {
	Title, Heading string
	Generated      time.Time
	// Now is the server's clock at render time; the script corrects
	// countdowns by the browser's offset from it.
	Now           time.Time
	RefreshMillis int64
	Links         []Link
	Version       string
	// Replica names the HA replica that owns the groups shown ("" when
	// not in HA mode).
	Replica string
	// Kind selects the script's behaviour: "index", "group" or "".
	Kind string
	// API is the JSON the page refreshes from.
	API  string
	Body any
}

type indexBody struct {
	Clusters []Cluster
	Groups   []Group
}

type groupBody struct {
	GroupDetail
	Chart chart
}

func (p *Page) base(heading string, body any) pageData {
	d := pageData{Title: p.opts.Title, Heading: heading, Now: time.Now(), RefreshMillis: p.opts.Refresh.Milliseconds(),
		Links: p.opts.Links, Version: p.opts.Version, Body: body}
	if p.opts.Replica != nil {
		d.Replica = p.opts.Replica()
	}
	return d
}

func (p *Page) render(w http.ResponseWriter, code int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

func (p *Page) index(w http.ResponseWriter, _ *http.Request) {
	res := p.result()
	d := p.base("Consumer groups", indexBody{Clusters: clustersView(res).Clusters, Groups: groupsView(res, "").Groups})
	d.Generated, d.Kind, d.API = res.Generated, "index", "/api/v1/groups"
	p.render(w, http.StatusOK, "index", d)
}

func (p *Page) group(w http.ResponseWriter, r *http.Request) {
	cluster, group := groupOf(r)
	res := p.result()
	gd, ok := groupDetail(res, cluster, group, p.hist.points(cluster, group))
	if !ok {
		d := p.base("Not found", fmt.Sprintf("No group %q in cluster %q (as of the last poll).", group, cluster))
		p.render(w, http.StatusNotFound, "notfound", d)
		return
	}
	d := p.base(group, groupBody{GroupDetail: gd, Chart: newChart(gd.History)})
	d.Generated, d.Kind, d.API = res.Generated, "group", groupAPIPath(cluster, group)
	p.render(w, http.StatusOK, "group", d)
}

// groupOf reads the cluster and group of a detail route: the path
// segments, decoded by the mux (/groups/{cluster}/{group...}), or the
// query of the /group and /api/v1/group forms.
func groupOf(r *http.Request) (cluster, group string) {
	if r.PathValue("cluster") != "" {
		return r.PathValue("cluster"), r.PathValue("group")
	}
	q := r.URL.Query()
	return q.Get("cluster"), q.Get("group")
}

// dotSegment reports a name that, as a path segment, every client resolves
// away: "." and ".." (and, by the URL standard, their %2E spellings too).
func dotSegment(s string) bool { return s == "." || s == ".." }

// groupPath is the link to a group's page. Each name is one escaped path
// segment ("/", "%", spaces and non-ASCII are escaped, the mux decodes
// them); a cluster or group named "." or ".." is passed in the query
// instead, since browsers remove such segments even escaped. Mirrored by
// groupPath in assets/app.js.
func groupPath(cluster, group string) string {
	return detailPath("/groups/", "/group?", cluster, group)
}

func groupAPIPath(cluster, group string) string {
	return detailPath("/api/v1/groups/", "/api/v1/group?", cluster, group)
}

func detailPath(pathPrefix, queryPrefix, cluster, group string) string {
	if dotSegment(cluster) || dotSegment(group) {
		return queryPrefix + "cluster=" + url.QueryEscape(cluster) + "&group=" + url.QueryEscape(group)
	}
	return pathPrefix + url.PathEscape(cluster) + "/" + url.PathEscape(group)
}

// --- formatting (mirrored by assets/app.js) ---

var funcs = template.FuncMap{
	"groupPath": groupPath,
	"int":       formatInt,
	"intp": func(v *int64) string {
		if v == nil {
			return "–"
		}
		return formatInt(*v)
	},
	"secs": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return FormatSeconds(*v)
	},
	"secsf": FormatSeconds,
	"barWidth": func(v, of *int64) string {
		if v == nil || of == nil || *of <= 0 {
			return "0"
		}
		return strconv.FormatFloat(min(100, float64(*v)*100/float64(*of)), 'f', 1, 64)
	},
	"rate": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return strconv.FormatFloat(*v, 'f', 1, 64) + "/s"
	},
	"rfc3339": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"rfc3339milli": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") },
	"exact":        exactTime,
	// when renders t relative to now ("3m 05s ago", "in 1m 30s") in a
	// <time> element whose title is the exact time; the script keeps the
	// relative text current.
	"when": func(now, t time.Time) template.HTML {
		if t.IsZero() {
			return "never"
		}
		return template.HTML(`<time class="rel" datetime="` + t.UTC().Format(time.RFC3339Nano) + `" title="` +
			exactTime(t) + `">` + html.EscapeString(relativeTime(now, t)) + `</time>`)
	},
	"ms":    func(s float64) string { return strconv.FormatFloat(s*1000, 'f', 0, 64) + " ms" },
	"lower": strings.ToLower,
	"join":  strings.Join,
	"stateClass": func(s string) string {
		return strings.ToLower(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return -1
		}, s))
	},
}

// exactTime is the exact time shown on hover: "2026-11-30 11:26:46 UTC".
func exactTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// relativeTime says when t is from now: "in 1m 30s", "3m 05s ago".
func relativeTime(now, t time.Time) string {
	if d := t.Sub(now).Seconds(); d >= 0.05 {
		return "in " + FormatSeconds(d)
	}
	return FormatSeconds(now.Sub(t).Seconds()) + " ago"
}

// formatInt writes n with comma thousands separators.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatSeconds renders a duration in seconds the way the page does:
// "0s", "4.2s", "3m 05s", "2h 03m", "4d 02h".
func FormatSeconds(s float64) string {
	if s < 0 {
		s = 0
	}
	switch {
	case s < 10:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	case s < 60:
		return strconv.FormatFloat(s, 'f', 0, 64) + "s"
	}
	n := int64(s)
	switch {
	case n < 3600:
		return fmt.Sprintf("%dm %02ds", n/60, n%60)
	case n < 86400:
		return fmt.Sprintf("%dh %02dm", n/3600, n%3600/60)
	}
	return fmt.Sprintf("%dd %02dh", n/86400, n%86400/3600)
}
