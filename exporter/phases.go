package exporter

import (
	"strings"
	"time"
)

// phaseText is phases for a log line: "requests=1.2s lag=300ms ...".
func phaseText(phases []PollPhase) string {
	var b strings.Builder
	for i, p := range phases {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Phase + "=" + p.Duration.Round(time.Millisecond).String())
	}
	return b.String()
}
