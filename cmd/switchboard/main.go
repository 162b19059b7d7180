package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: switchboard <command> [arguments]

commands:
  serve     run the server (flags: switchboard serve -h)
  lint      check TwiML documents: switchboard lint FILE...|-
  call      place a call: switchboard call SIP-URI [--play F.wav] [--digits 12#] [--record HEARD.wav] [--duration 10s]
            or take calls: switchboard call --listen ADDR [--ring 1s | --reject 486 | --no-answer] [--calls N] [...]
  version   print the version
`

func main() {
	// switchboard serve runs its SQLite checkpoints in a process started
	// from this executable (store.WithCheckpointHelper).
	if store.CheckpointHelperRequested() {
		os.Exit(store.RunCheckpointHelper(os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code: 0 success, 1
// failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], os.Getenv, stdout, stderr)
	case "lint":
		return runLint(args[1:], stdin, stdout, stderr)
	case "call":
		return runCall(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "switchboard %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
