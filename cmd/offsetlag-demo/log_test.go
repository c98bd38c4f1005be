package main

import (
	"io"
	"log/slog"
	"sync"
)

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.w.(interface{ String() string }); ok {
		return s.String()
	}
	return ""
}

// newTestLogger logs warnings and errors to w; read them with the returned
// writer's String (safe while components still log).
func newTestLogger(w io.Writer) (*slog.Logger, *lockedWriter) {
	lw := &lockedWriter{w: w}
	return slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn})), lw
}
