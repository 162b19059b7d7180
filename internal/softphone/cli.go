package softphone

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// CLIUsage is the synopsis of `switchboard call`.
const CLIUsage = "usage: switchboard call SIP-URI [--play FILE.wav] [--digits 123#] [--record HEARD.wav] [--duration 10s] [flags]"

// headerFlags collects repeated --header NAME=VALUE flags.
type headerFlags map[string]string

func (h headerFlags) String() string {
	parts := make([]string, 0, len(h))
	for k, v := range h {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (h headerFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	h[strings.TrimSpace(k)] = v
	return nil
}

// CLIArgs is what the command line of `switchboard call` asks for.
type CLIArgs struct {
	Phone   Config
	Call    Options
	Verbose bool
}

// ParseCLI parses the arguments of `switchboard call`. The SIP URI may come
// before, between or after the flags. Errors wrap ErrUsage; flag.ErrHelp is
// returned as is for -h.
func ParseCLI(args []string, stderr io.Writer) (CLIArgs, error) {
	var a CLIArgs
	fs := flag.NewFlagSet("switchboard call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, CLIUsage)
		fs.PrintDefaults()
	}
	headers := headerFlags{}
	fs.StringVar(&a.Call.PlayFile, "play", "", "WAV `FILE` to play once the call is answered")
	fs.StringVar(&a.Call.Digits, "digits", "", "`DIGITS` to send as RFC 4733 events after the audio (w: 0.5 s pause)")
	fs.StringVar(&a.Call.Record, "record", "", "WAV `FILE` to write what the phone hears into")
	fs.DurationVar(&a.Call.Duration, "duration", 0, "hang up after this long once answered (0: when the far end hangs up)")
	fs.DurationVar(&a.Call.Timeout, "timeout", 60*time.Second, "give up if not answered within this long")
	fs.StringVar(&a.Call.From, "from", "softphone", "caller `ID`: a user part (+14155550100) or a SIP URI")
	fs.Var(headers, "header", "extra INVITE header `NAME=VALUE` (X-..., User-to-User); repeatable")
	fs.StringVar(&a.Call.Username, "user", "", "digest `USERNAME` if the far end challenges")
	fs.StringVar(&a.Call.Password, "password", "", "digest `PASSWORD`")
	fs.StringVar(&a.Phone.SIPAddr, "sip-bind", "127.0.0.1:0", "`ADDR` the phone's SIP listens on (UDP and TCP; port 0: any)")
	rtp := fs.String("rtp-ports", "22000-22999", "UDP ports `LO-HI` for the phone's media")
	fs.BoolVar(&a.Verbose, "v", false, "log SIP and media details to stderr")

	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return a, err
			}
			return a, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return a, fmt.Errorf("%w: want exactly one SIP-URI, got %d arguments", ErrUsage, len(positional))
	}
	a.Call.URI = positional[0]
	if !strings.HasPrefix(strings.ToLower(a.Call.URI), "sip:") {
		return a, fmt.Errorf("%w: %q is not a sip: URI", ErrUsage, a.Call.URI)
	}
	if len(headers) > 0 {
		a.Call.Headers = headers
	}
	lo, hi, ok := strings.Cut(*rtp, "-")
	min, err1 := strconv.Atoi(strings.TrimSpace(lo))
	max, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || min < 1024 || max > 65535 || max-min < 3 {
		return a, fmt.Errorf("%w: --rtp-ports %q: want LO-HI within 1024-65535, at least 4 ports", ErrUsage, *rtp)
	}
	a.Phone.RTPPortMin, a.Phone.RTPPortMax = min, max
	host, _, err := net.SplitHostPort(a.Phone.SIPAddr)
	if err != nil {
		return a, fmt.Errorf("%w: --sip-bind %q: %w", ErrUsage, a.Phone.SIPAddr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() {
		return a, fmt.Errorf("%w: --sip-bind %q: give the IP address to listen on and advertise", ErrUsage, a.Phone.SIPAddr)
	}
	a.Phone.IP = ip
	if a.Call.Duration < 0 || a.Call.Timeout < 0 {
		return a, fmt.Errorf("%w: --duration and --timeout must not be negative", ErrUsage)
	}
	return a, nil
}

// RunCLI runs `switchboard call`: it places one call, reports its progress on
// stdout and returns the exit code: 0 when the call was answered, 1 when it
// was not (or failed), 2 for a usage error.
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, err := ParseCLI(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard call: %v\n%s\n", err, CLIUsage)
		return 2
	}
	level := slog.LevelError
	if a.Verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// sipgo logs some events through its package logger; keep them with ours.
	gosip.SetDefaultLogger(logger)
	a.Phone.Logger = logger
	phone, err := Start(a.Phone)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard call: %v\n", err)
		return 1
	}
	defer phone.Close()

	fmt.Fprintf(stdout, "calling %s from %s\n", a.Call.URI, phone.Addr())
	a.Call.OnProgress = func(code int, reason string) {
		fmt.Fprintf(stdout, "%d %s\n", code, reason)
	}
	a.Call.OnAnswer = func() { fmt.Fprintln(stdout, "answered") }
	res, err := phone.Call(ctx, a.Call)
	if !res.Answered {
		switch {
		case res.StatusCode != 0:
			fmt.Fprintf(stdout, "not answered: %d %s\n", res.StatusCode, res.Reason)
		case err != nil:
			fmt.Fprintf(stdout, "not answered: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "ended: %s after %s\n", res.End, res.Talk.Round(10*time.Millisecond))
	fmt.Fprintf(stdout, "heard %s of audio\n", (time.Duration(res.HeardSamples) * time.Second / 8000).Round(10*time.Millisecond))
	if res.Digits != "" {
		fmt.Fprintf(stdout, "digits received: %s\n", res.Digits)
	}
	if a.Call.Record != "" {
		fmt.Fprintf(stdout, "recorded to %s\n", a.Call.Record)
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard call: %v\n", err)
	}
	return 0
}
