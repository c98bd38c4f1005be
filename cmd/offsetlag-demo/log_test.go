package main

import (
	"log/slog"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// newTestLogger logs warnings and errors to a buffer; read them with its
// String (safe while components still log).
func newTestLogger() (*slog.Logger, *testenv.LockedBuffer) {
	lw := &testenv.LockedBuffer{}
	return slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn})), lw
}
