package main

import (
	"context"
	"io"

	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// runCall is `switchboard call SIP-URI [--play F.wav] [--digits 12#]
// [--record HEARD.wav] [--duration 10s]`: the in-repo softphone places one
// call and exits when it ends (0 answered, 1 not answered, 2 usage). Its own
// flags --sip-bind (default 127.0.0.1:0) and --rtp-ports (default
// 22000-22999) say where the phone listens; `switchboard call -h` lists all.
//
// `switchboard call --listen ADDR [--ring 1s | --reject CODE | --no-answer]
// [--calls N]` turns it around: the phone waits for calls on ADDR, rings,
// answers and runs the same script, prints one line per call and exits once
// N calls have ended (0, or 1 if one failed); SIGINT ends it cleanly.
func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return softphone.RunCLI(ctx, args, stdout, stderr)
}
