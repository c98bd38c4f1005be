package statuspage

import (
	"strconv"
	"strings"
)

// Chart geometry, shared with assets/app.js (drawChart).
const (
	chartW, chartH               = 720, 200
	chartLeft, chartRight        = 64, 12
	chartTop, chartBottom        = 12, 26
	chartPlotW, chartPlotH       = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartMinSpanMillis     int64 = 1000
)

// chart is a server-rendered SVG line of a group's lag over recent polls.
type chart struct {
	W, H            int
	Left, Top       int
	Right, Bottom   int // plot area edges
	Line, Area      string
	YMax, YMid      string
	XFrom, XTo      string
	Points          int
	LastX, LastY    float64
	Empty           bool
	YMidPos, CX, CY int
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v int64) int64 {
	if v < 1 {
		return 1
	}
	for m := int64(1); ; m *= 10 {
		for _, f := range []int64{1, 2, 5} {
			if f*m >= v {
				return f * m
			}
		}
	}
}

func newChart(points []Point) chart {
	c := chart{W: chartW, H: chartH, Left: chartLeft, Top: chartTop, Right: chartW - chartRight,
		Bottom: chartH - chartBottom, Points: len(points), YMidPos: chartTop + chartPlotH/2,
		CX: chartLeft + chartPlotW/2, CY: chartTop + chartPlotH/2}
	if len(points) == 0 {
		c.Empty = true
		return c
	}
	var maxLag int64
	for _, p := range points {
		maxLag = max(maxLag, p.SumLag)
	}
	ymax := niceMax(maxLag)
	t0, t1 := points[0].Time, points[len(points)-1].Time
	span := max(t1.Sub(t0).Milliseconds(), chartMinSpanMillis)
	var line strings.Builder
	for i, p := range points {
		x := float64(chartLeft) + float64(p.Time.Sub(t0).Milliseconds())/float64(span)*chartPlotW
		if len(points) == 1 {
			x = float64(chartLeft + chartPlotW)
		}
		y := float64(chartTop) + (1-float64(p.SumLag)/float64(ymax))*chartPlotH
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(fmtF(x) + "," + fmtF(y))
		c.LastX, c.LastY = x, y
	}
	c.Line = line.String()
	first := strconv.Itoa(chartLeft)
	if len(points) == 1 {
		first = fmtF(c.LastX)
	}
	c.Area = first + "," + strconv.Itoa(chartTop+chartPlotH) + " " + c.Line + " " + fmtF(c.LastX) + "," + strconv.Itoa(chartTop+chartPlotH)
	c.YMax, c.YMid = formatInt(ymax), formatInt(ymax/2)
	c.XFrom = "−" + FormatSeconds(float64(span)/1000)
	c.XTo = "last poll"
	return c
}
