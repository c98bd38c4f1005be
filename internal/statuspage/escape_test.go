package statuspage

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/offsetlag/offsetlag/exporter/result"
	"github.com/offsetlag/offsetlag/internal/httpapi"
)

// oddNames are group (and cluster) names that are not plain path segments.
var oddNames = []string{"..", ".", "a/b", "50%", "café", "with space", "a/../b", "?x=1#frag", "%2E%2E"}

type latest struct{ r *result.Result }

func (l latest) Latest() *result.Result { return l.r }

// Every group, whatever its name, is linked from the index to a working
// detail page and has a working API entry, through the exporter's real
// routes (httpapi in front of the page), with links resolved the way a
// browser resolves them (dot segments removed).
func TestOddNamesLinkToWorkingPages(t *testing.T) {
	r := fixture(1)
	base := r.Clusters[0]
	r.Clusters[0].Groups = nil
	for _, n := range oddNames {
		r.Clusters[0].Groups = append(r.Clusters[0].Groups, result.GroupResult{Name: n, Type: "classic", State: "Stable", SumLag: 3, Status: "OK"})
	}
	// A cluster with odd names of its own.
	for _, cn := range []string{"..", "eu/west", "café"} {
		c := base
		c.Name = cn
		c.Groups = []result.GroupResult{{Name: "g", Type: "classic", State: "Stable", Status: "OK"}, {Name: "..", Type: "classic", State: "Stable", Status: "OK"}}
		c.Expiry = nil
		r.Clusters = append(r.Clusters, c)
	}
	p, err := New(func() *result.Result { return r }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux, err := httpapi.NewMux(latest{r}.Latest, http.NotFoundHandler(), httpapi.Options{StatusPage: p})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	baseURL, _ := url.Parse(srv.URL + "/")

	fetch := func(ref string) (int, string) {
		t.Helper()
		u, err := url.Parse(ref)
		if err != nil {
			t.Fatalf("link %q: %v", ref, err)
		}
		res, err := http.Get(baseURL.ResolveReference(u).String())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, index := fetch("/")
	links := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a href="([^"]*)">`).FindAllStringSubmatch(index, -1) {
		links[html.UnescapeString(m[1])] = true
	}
	type key struct{ cluster, group string }
	var all []key
	for _, c := range r.Clusters {
		for _, g := range c.Groups {
			all = append(all, key{c.Name, g.Name})
		}
	}
	for _, k := range all {
		link := groupPath(k.cluster, k.group)
		if !links[link] {
			t.Errorf("index has no link %q for group %q of %q", link, k.group, k.cluster)
		}
		code, body := fetch(link)
		if code != 200 || !strings.Contains(body, "<strong>"+html.EscapeString(k.group)+"</strong>") ||
			!strings.Contains(body, "<span>"+html.EscapeString(k.cluster)+"</span>") {
			t.Errorf("page of group %q in %q at %s: %d, not its page", k.group, k.cluster, link, code)
		}
		api := groupAPIPath(k.cluster, k.group)
		code, body = fetch(api)
		var d GroupDetail
		if err := json.Unmarshal([]byte(body), &d); code != 200 || err != nil || d.Group.Group != k.group || d.Cluster != k.cluster {
			t.Errorf("API of group %q in %q at %s: %d %v %q/%q", k.group, k.cluster, api, code, err, d.Cluster, d.Group.Group)
		}
	}
	// The path form decodes each escaped segment, whatever client built it.
	for _, c := range []struct{ path, cluster, group string }{
		{"/api/v1/groups/prod/a%2Fb", "prod", "a/b"},
		{"/api/v1/groups/prod/a/b", "prod", "a/b"},
		{"/api/v1/groups/prod/50%25", "prod", "50%"},
		{"/api/v1/groups/prod/caf%C3%A9", "prod", "café"},
		{"/api/v1/groups/eu%2Fwest/g", "eu/west", "g"},
		{"/api/v1/group?cluster=prod&group=..", "prod", ".."},
	} {
		code, body := fetch(c.path)
		var d GroupDetail
		if err := json.Unmarshal([]byte(body), &d); code != 200 || err != nil || d.Group.Group != c.group || d.Cluster != c.cluster {
			t.Errorf("%s: %d %q/%q, want %q/%q", c.path, code, d.Cluster, d.Group.Group, c.cluster, c.group)
		}
	}
	// Unknown names in the query form are a 404, not another group.
	if code, _ := fetch("/group?cluster=prod&group=nope"); code != 404 {
		t.Errorf("unknown group in the query form: %d", code)
	}
}
