package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/logbuf"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

func run(ctx context.Context) int {
	if store.CheckpointHelperRequested() { // as switchboard's main
		return store.RunCheckpointHelper(os.Stdin, os.Stdout)
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	cfg, err := config.ParseServe(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sbprof: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "sbprof: %v\n", err)
		return 2
	}
	log, out := logbuf.NewLogger(os.Stderr, level)
	defer out.Close()

	if path := os.Getenv("SBPROF_CPU"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if os.Getenv("SBPROF_MUTEX") != "" {
		runtime.SetMutexProfileFraction(100)
	}
	if os.Getenv("SBPROF_BLOCK") != "" {
		runtime.SetBlockProfileRate(100)
	}
	defer writeProfile(log, "heap", os.Getenv("SBPROF_HEAP"))
	defer writeProfile(log, "mutex", os.Getenv("SBPROF_MUTEX"))
	defer writeProfile(log, "block", os.Getenv("SBPROF_BLOCK"))

	if addr := os.Getenv("SBPROF_HTTP"); addr != "" {
		stopDebug, err := serveDebug(addr)
		if err != nil {
			log.Error("pprof listener", "err", err)
			return 1
		}
		defer stopDebug()
	}

	if os.Getenv("SBPROF_SCHED") != "" {
		go logSchedLatency(ctx, log, 250*time.Millisecond)
	}
	var opts server.Options
	if exe, err := os.Executable(); err == nil {
		opts.CheckpointHelper = exe // as switchboard serve
	}
	srv, err := server.New(ctx, cfg, log, os.Stdout, opts)
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

// writeProfile writes the named runtime profile to path (nothing when path
// is empty).
func writeProfile(log *slog.Logger, name, path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		log.Error("profile", "name", name, "err", err)
		return
	}
	defer f.Close()
	if name == "heap" {
		// The heap profile describes the last completed collection: two
		// make it describe now.
		runtime.GC()
		runtime.GC()
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		log.Error("profile", "name", name, "err", err)
	}
}

// serveDebug serves net/http/pprof on addr until the returned func is called.
func serveDebug(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}
