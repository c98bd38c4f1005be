package exporter

import (
	"strings"
	"time"

	"github.com/offsetlag/offsetlag/exporter/result"
)

// phaseText is phases for a log line: "requests=1.2s lag=300ms ...".
func phaseText(phases []result.PollPhase) string {
	var b strings.Builder
	for i, p := range phases {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Phase + "=" + p.Duration.Round(time.Millisecond).String())
	}
	return b.String()
}
