package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// The function of a discovered Lambda event source mapping is shown beside
// its group: a badge in the groups table, a fact on the group page, and in
// the JSON API.
func TestLambdaESMShown(t *testing.T) {
	p, src := newPage(t)
	r := fixture(1)
	for i := range r.Clusters[0].Expiry {
		if e := &r.Clusters[0].Expiry[i]; e.Group == "nightly" {
			e.Lambda = []result.LambdaESM{{FunctionName: "nightly-report", UUID: "6d9bce8e", State: "Disabled",
				StartingPosition: "latest", Horizon: 48 * time.Hour, ExpiresWithinHorizon: true}}
		}
	}
	src.poll(p, r)
	_, body := get(t, p, "/")
	if !strings.Contains(body, `<span class="badge lambda expiring" title="Lambda event source mapping 6d9bce8e (Disabled, starting position latest): disabled, its offsets expire within the horizon">λ nightly-report</span>`) {
		t.Errorf("index: no lambda badge:\n%s", body)
	}
	_, body = get(t, p, "/groups/prod/nightly")
	if !strings.Contains(body, `<dt>Lambda function</dt><dd>nightly-report (Disabled, latest, ESM 6d9bce8e)`) {
		t.Errorf("group page: no lambda fact:\n%s", body)
	}
	_, body = get(t, p, "/api/v1/groups")
	compact := strings.Join(strings.Fields(body), "")
	if !strings.Contains(compact, `"lambda":[{"function_name":"nightly-report","esm_uuid":"6d9bce8e","esm_state":"Disabled","starting_position":"latest","expires_within_horizon":true}]`) {
		t.Errorf("api: no lambda:\n%s", body)
	}
}
