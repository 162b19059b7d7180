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

	"github.com/switchboard-voice/switchboard/internal/sip"
)

// CLIUsage is the synopsis of `switchboard call`: it places a call to a
// SIP-URI, or with --listen waits for calls.
const CLIUsage = `usage: switchboard call SIP-URI [--play FILE.wav] [--digits 123#] [--record HEARD.wav] [--duration 10s] [flags]
       switchboard call --listen ADDR [--ring 1s | --reject CODE | --no-answer] [--calls N] [--play FILE.wav] [--digits 123#] [--record HEARD.wav] [--duration 10s] [flags]`

// callOnly and listenOnly are the flags that belong to one mode of `switchboard
// call`: placing a call, or listening (--listen).
var (
	callOnly   = []string{"timeout", "from", "header", "user", "password", "sip-bind"}
	listenOnly = []string{"ring", "reject", "no-answer", "calls"}
)

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
	Phone Config
	// Call is the call to place, unless Listening.
	Call Options
	// Listening is set by --listen (Phone.SIPAddr is then its address): the
	// phone takes calls as Listen says instead of placing one.
	Listening bool
	Listen    ListenOptions
	Verbose   bool
}

// ParseCLI parses the arguments of `switchboard call`. The SIP URI may come
// before, between or after the flags; with --listen there is none. Errors
// wrap ErrUsage; flag.ErrHelp is returned as is for -h.
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
	listen := fs.String("listen", "", "wait for calls on `ADDR` (UDP and TCP) instead of placing one")
	fs.DurationVar(&a.Listen.Ring, "ring", time.Second, "with --listen: ring this long (180) before answering (0: answer at once)")
	fs.IntVar(&a.Listen.Reject, "reject", 0, "with --listen: turn calls down with this SIP status `CODE` (486 busy, 603 decline...), at once or after --ring")
	fs.BoolVar(&a.Listen.NoAnswer, "no-answer", false, "with --listen: ring until the caller gives up")
	fs.IntVar(&a.Listen.Calls, "calls", 1, "with --listen: take `N` calls, one after another, then exit")

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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	bind := "--sip-bind"
	if set["listen"] {
		if err := a.parseListen(*listen, positional, set); err != nil {
			return a, err
		}
		bind = "--listen"
	} else {
		for _, name := range listenOnly {
			if set[name] {
				return a, fmt.Errorf("%w: --%s needs --listen", ErrUsage, name)
			}
		}
		if len(positional) != 1 {
			return a, fmt.Errorf("%w: want exactly one SIP-URI (or --listen ADDR), got %d arguments", ErrUsage, len(positional))
		}
		a.Call.URI = positional[0]
		if !strings.HasPrefix(strings.ToLower(a.Call.URI), "sip:") {
			return a, fmt.Errorf("%w: %q is not a sip: URI", ErrUsage, a.Call.URI)
		}
		if len(headers) > 0 {
			a.Call.Headers = headers
		}
	}
	lo, hi, ok := strings.Cut(*rtp, "-")
	min, err1 := strconv.Atoi(strings.TrimSpace(lo))
	max, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || min < 1024 || max > 65535 || max-min < 3 {
		return a, fmt.Errorf("%w: --rtp-ports %q: want LO-HI within 1024-65535, at least 4 ports", ErrUsage, *rtp)
	}
	a.Phone.RTPPortMin, a.Phone.RTPPortMax = min, max
	host, port, err := net.SplitHostPort(a.Phone.SIPAddr)
	if err != nil {
		return a, fmt.Errorf("%w: %s %q: %w", ErrUsage, bind, a.Phone.SIPAddr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return a, fmt.Errorf("%w: %s %q: bad port", ErrUsage, bind, a.Phone.SIPAddr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() {
		return a, fmt.Errorf("%w: %s %q: give the IP address to listen on and advertise", ErrUsage, bind, a.Phone.SIPAddr)
	}
	a.Phone.IP = ip
	if a.Call.Duration < 0 || a.Call.Timeout < 0 {
		return a, fmt.Errorf("%w: --duration and --timeout must not be negative", ErrUsage)
	}
	a.Listen.Script = a.Call.Script
	return a, nil
}

// parseListen checks the command line of listen mode (--listen ADDR): no
// SIP-URI, none of the flags of placing a call, one way to take the calls.
func (a *CLIArgs) parseListen(addr string, positional []string, set map[string]bool) error {
	if len(positional) != 0 {
		return fmt.Errorf("%w: --listen takes no SIP-URI, got %q", ErrUsage, positional)
	}
	for _, name := range callOnly {
		if set[name] {
			return fmt.Errorf("%w: --%s applies to placing a call, not to --listen", ErrUsage, name)
		}
	}
	switch {
	case a.Listen.Calls < 1:
		return fmt.Errorf("%w: --calls %d: want at least 1", ErrUsage, a.Listen.Calls)
	case a.Listen.Ring < 0:
		return fmt.Errorf("%w: --ring must not be negative", ErrUsage)
	case set["reject"] && (a.Listen.Reject < 300 || a.Listen.Reject > 699):
		return fmt.Errorf("%w: --reject %d: want a SIP error status, 300-699", ErrUsage, a.Listen.Reject)
	case set["reject"] && a.Listen.NoAnswer:
		return fmt.Errorf("%w: --reject and --no-answer exclude each other", ErrUsage)
	}
	if set["reject"] && !set["ring"] {
		a.Listen.Ring = 0 // busy at once, unless asked to ring first
	}
	a.Listening = true
	a.Phone.SIPAddr = addr
	return nil
}

// RunCLI runs `switchboard call`: it places one call, reports its progress on
// stdout and returns the exit code: 0 when the call was answered, 1 when it
// was not (or failed), 2 for a usage error. With --listen it takes calls
// instead (see runListen).
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
	if a.Listening {
		return runListen(ctx, phone, a, stdout, stderr)
	}

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

// runListen is `switchboard call --listen`: it prints where the phone
// listens, then one line per call as it ends, and returns once --calls calls
// have ended (or ctx, on SIGINT). The exit code is 0 when every call went as
// asked (answered, rejected, or given up by the caller), 1 when one failed.
func runListen(ctx context.Context, phone *Phone, a CLIArgs, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "listening on %s (udp, tcp)\n", phone.Addr())
	code := 0
	o := a.Listen
	o.OnCall = func(n int, res Result, err error) {
		fmt.Fprintln(stdout, callLine(res, recordPath(o.Record, n, o.Calls), err))
		if err != nil && ctx.Err() == nil {
			code = 1
		}
	}
	_, err := phone.Listen(ctx, o)
	switch {
	case err != nil && ctx.Err() != nil:
		// Interrupted: a clean exit.
	case err != nil:
		fmt.Fprintf(stderr, "switchboard call: %v\n", err)
		return 1
	}
	return code
}

// callLine reports a call the phone received on one line of key=value pairs:
// who called whom, the Call-ID, and how it ended.
func callLine(res Result, recorded string, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "from=%s to=%s call-id=%s", orDash(res.From.ID()), orDash(res.To.ID()), orDash(res.CallID))
	switch {
	case res.Answered:
		fmt.Fprintf(&b, " answered end=%s talk=%s heard=%s", res.End, res.Talk.Round(10*time.Millisecond),
			(time.Duration(res.HeardSamples) * time.Second / 8000).Round(10*time.Millisecond))
		if res.Digits != "" {
			fmt.Fprintf(&b, " digits=%s", res.Digits)
		}
		if recorded != "" {
			fmt.Fprintf(&b, " recorded=%s", recorded)
		}
	case res.End == sip.EndCanceled:
		fmt.Fprintf(&b, " not-answered end=%s", res.End)
	case res.StatusCode >= 300:
		fmt.Fprintf(&b, " rejected status=%d", res.StatusCode)
	default:
		b.WriteString(" not-answered")
	}
	if err != nil {
		fmt.Fprintf(&b, " error=%q", err.Error())
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
