package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/logbuf"
	"github.com/switchboard-voice/switchboard/internal/server"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.ParseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard serve: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintf(stderr, "switchboard serve: %v\n", err)
		return 2
	}
	// Log lines are written in batches, warnings and errors at once
	// (logbuf): a write per line was half of what logging cost.
	log, out := logbuf.NewLogger(stderr, level)
	defer out.Close()
	// sipgo logs some events through its package logger; keep them with ours.
	gosip.SetDefaultLogger(log.With("part", "sipgo"))
	// The store's checkpoints run in a process of this executable, where
	// their fsyncs do not stop this one (store.WithCheckpointHelper; main
	// turns the process into the helper).
	var opts server.Options
	if exe, err := os.Executable(); err == nil {
		opts.CheckpointHelper = exe
	}
	srv, err := server.New(ctx, cfg, log, stdout, opts)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}
