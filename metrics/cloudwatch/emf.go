package cloudwatch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// MaxEMFMetrics is the most metrics one EMF directive may carry.
const MaxEMFMetrics = 100

// EMFWriter writes datums as CloudWatch Embedded Metric Format lines: one
// JSON object per line for each (timestamp, dimension set), with
//
//	"_aws": {"Timestamp": <ms>, "CloudWatchMetrics": [{"Namespace": ...,
//	         "Dimensions": [["Cluster Name", "Consumer Group", "Topic"]],
//	         "Metrics": [{"Name": "SumOffsetLag", "Unit": "Count"}, ...]}]}
//
// and the dimension and metric values as top-level keys. A line carries at
// most MaxEMFMetrics metrics. The CloudWatch agent or Lambda's log pipeline
// turns the lines into metrics; no API call is made.
type EMFWriter struct {
	namespace  string
	resolution int32

	mu sync.Mutex
	w  io.Writer
}

// NewEMFWriter returns a writer of EMF lines to w in namespace; resolution
// 1 marks the metrics high-resolution.
func NewEMFWriter(w io.Writer, namespace string, resolution int32) *EMFWriter {
	return &EMFWriter{w: w, namespace: namespace, resolution: resolution}
}

type emfMetric struct {
	Name              string `json:"Name"`
	Unit              string `json:"Unit"`
	StorageResolution int32  `json:"StorageResolution,omitempty"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emfLine is one line being assembled.
type emfLine struct {
	d      *Datum // the first datum: time and dimensions
	names  map[string]bool
	fields []*Datum
}

// Lines returns the EMF lines (without newlines) for ds, in the order their
// first datum appears.
func (e *EMFWriter) Lines(ds []Datum) ([][]byte, error) {
	var lines []*emfLine
	open := map[string]*emfLine{} // key: time + dimensions
	for i := range ds {
		d := &ds[i]
		key := emfKey(d)
		l := open[key]
		if l == nil || len(l.fields) >= MaxEMFMetrics || l.names[d.Name] {
			l = &emfLine{d: d, names: map[string]bool{}}
			open[key] = l
			lines = append(lines, l)
		}
		l.names[d.Name] = true
		l.fields = append(l.fields, d)
	}
	out := make([][]byte, 0, len(lines))
	for _, l := range lines {
		obj := make(map[string]any, 1+len(l.d.Dimensions)+len(l.fields))
		dimNames := make([]string, len(l.d.Dimensions))
		for i, dim := range l.d.Dimensions {
			dimNames[i] = dim.Name
			obj[dim.Name] = dim.Value
		}
		metrics := make([]emfMetric, len(l.fields))
		for i, f := range l.fields {
			m := emfMetric{Name: f.Name, Unit: string(f.Unit)}
			if e.resolution == 1 {
				m.StorageResolution = 1
			}
			metrics[i] = m
			if _, clash := obj[f.Name]; clash {
				return nil, fmt.Errorf("emf: metric %q has the name of a dimension", f.Name)
			}
			obj[f.Name] = f.Value
		}
		obj["_aws"] = emfMeta{
			Timestamp: l.d.Time.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace: e.namespace, Dimensions: [][]string{dimNames}, Metrics: metrics,
			}},
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("emf: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

func emfKey(d *Datum) string {
	var b strings.Builder
	b.WriteString(fmt.Sprint(d.Time.UnixMilli()))
	for _, dim := range d.Dimensions {
		b.WriteByte(0)
		b.WriteString(dim.Name)
		b.WriteByte(0)
		b.WriteString(dim.Value)
	}
	return b.String()
}

// Write writes the lines for ds, each followed by a newline, in one go.
func (e *EMFWriter) Write(ds []Datum) error {
	lines, err := e.Lines(ds)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	bw := bufio.NewWriter(e.w)
	for _, l := range lines {
		bw.Write(l)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}
