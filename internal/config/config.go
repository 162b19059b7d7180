package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrUsage marks errors in the command line or environment.
var ErrUsage = errors.New("usage")

// PortRange is an inclusive range of UDP ports.
type PortRange struct{ Min, Max int }

// String formats the range as LO-HI.
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Set parses LO-HI; it implements flag.Value.
func (r *PortRange) Set(s string) error {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return fmt.Errorf("port range %q: want LO-HI", s)
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 1024 || b > 65535 || a > b {
		return fmt.Errorf("port range %q: want LO-HI with 1024 <= LO <= HI <= 65535", s)
	}
	if b-a < 3 {
		return fmt.Errorf("port range %q: needs at least 4 ports (an RTP/RTCP pair each call)", s)
	}
	r.Min, r.Max = a, b
	return nil
}

// PrefixList is a comma-separated list of IP prefixes in CIDR notation
// ("127.0.0.0/8,::1/128"); a bare address stands for itself alone (/32 or
// /128). It implements flag.Value: a later Set replaces the list, so a flag
// wins over the environment.
type PrefixList []netip.Prefix

// String formats the list as Set reads it.
func (l PrefixList) String() string {
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// Set parses a comma-separated list; empty items are ignored.
func (l *PrefixList) Set(s string) error {
	var out PrefixList
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return fmt.Errorf("%q: want an address or a CIDR prefix (10.0.0.0/8, fd00::/8): %w", item, err)
			}
			if a.Zone() != "" {
				return fmt.Errorf("%q: an address with a zone cannot be listed", item)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return fmt.Errorf("%q: want a CIDR prefix (10.0.0.0/8, fd00::/8): %w", item, err)
		}
		out = append(out, p.Masked())
	}
	*l = out
	return nil
}

// Serve is the configuration of `switchboard serve`.
type Serve struct {
	HTTP      string    // --http: REST API, recordings, health, console
	SIP       string    // --sip: SIP over UDP and TCP
	RTPPorts  PortRange // --rtp-ports: UDP ports for media
	Data      string    // --data: database file, recordings, TTS cache
	DB        string    // --db: "" for SQLite in Data, postgres://... for PostgreSQL
	PublicURL string    // --public-url: base of absolute URLs handed out
	Trunk     string    // --trunk: where <Number> and REST calls to E.164 numbers go
	// TrunkUser and TrunkPassword (--trunk-user, --trunk-password) answer
	// the trunk's digest challenges; they win over credentials in the
	// --trunk URI (sip:user:password@host).
	TrunkUser, TrunkPassword string
	// CPS (--cps) is how many calls per second each account may place
	// through the REST API; calls beyond it wait, queued.
	CPS      float64
	LogLevel string // --log-level: debug, info, warn, error
	// PublicMedia (--public-media) serves recording media files without
	// authentication. Off by default: recordings are people's voices, so
	// their URLs need the account's credentials unless the operator decides
	// otherwise (Twilio's "HTTP Basic Authentication for media" setting).
	PublicMedia bool
	// MediaTimeout (--media-timeout) ends a call whose RTP stops arriving
	// for this long; 0 never does.
	MediaTimeout time.Duration
	// InbandDTMF (--inband-dtmf) says when DTMF tones in the caller's audio
	// count as key presses: auto (when the caller offers no RFC 4733
	// telephone-event), always, or never.
	InbandDTMF string
	// WebhookDeny (--webhook-deny) lists the addresses switchboard must not
	// connect to when it fetches a user-supplied URL (webhooks, callbacks,
	// redirects), checked on the resolved address of every connection.
	// Empty: every address is allowed, localhost included (the app usually
	// runs beside switchboard).
	WebhookDeny PrefixList
	// MaxCallRate (--max-call-rate) is how many new inbound calls per
	// second the SIP server takes; INVITEs beyond it get 503 with
	// Retry-After at once. 0: no ceiling (overload is still refused when
	// the media pacer, the store or the call setups fall behind).
	MaxCallRate float64
	// CommitDelay (--commit-delay) is the longest a SQLite write may wait,
	// while the processors are busy, to be committed together with others:
	// fewer commits, about half the bytes written per call, for that much
	// more call setup time. 0 (the default): every write commits at once.
	CommitDelay time.Duration
	// RTPReadInterval (--rtp-read-interval) is how often each call's RTP
	// socket is read: 20ms, every tick of the media pacer; 40ms halves
	// the system calls of receiving (a large conference's CPU) and plays
	// received audio up to 20 ms later.
	RTPReadInterval time.Duration
	// RTPIOUring (--rtp-io-uring) sends each media shard's RTP packets of a
	// tick through an io_uring, one system call for up to 256 packets;
	// false sends each with its own sendto(2). Where io_uring is missing
	// (old kernels, seccomp) switchboard falls back to sendto by itself.
	RTPIOUring bool

	// From the environment only (SWITCHBOARD_ACCOUNT_SID, SWITCHBOARD_AUTH_TOKEN):
	// the main account created on first start.
	AccountSID string
	AuthToken  string
}

// ParseServe parses the arguments after `serve`, with getenv supplying the
// SWITCHBOARD_* variables. Errors wrap ErrUsage; flag.ErrHelp is returned as is.
func ParseServe(args []string, getenv func(string) string, out io.Writer) (Serve, error) {
	c := Serve{RTPPorts: PortRange{10000, 20000}, MediaTimeout: 60 * time.Second, CPS: 10, RTPReadInterval: 20 * time.Millisecond}
	fs := flag.NewFlagSet("switchboard serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8080", "`ADDR` for the REST API, recordings, health and console")
	fs.StringVar(&c.SIP, "sip", "127.0.0.1:5060", "`ADDR` for SIP over UDP and TCP")
	fs.Var(&c.RTPPorts, "rtp-ports", "UDP ports `LO-HI` for media")
	fs.StringVar(&c.Data, "data", "./switchboard-data", "`DIR` for the database file, recordings and TTS cache")
	fs.StringVar(&c.DB, "db", "", "database `DSN`: empty for SQLite in --data, postgres://... for PostgreSQL")
	fs.StringVar(&c.PublicURL, "public-url", "", "base `URL` of absolute URLs handed out (default http:// + --http)")
	fs.StringVar(&c.Trunk, "trunk", "", "`SIP-URI` where calls to E.164 numbers go")
	fs.StringVar(&c.TrunkUser, "trunk-user", "", "digest `USER` for the trunk's challenges")
	fs.StringVar(&c.TrunkPassword, "trunk-password", "", "digest `PASSWORD` for the trunk's challenges")
	fs.Float64Var(&c.CPS, "cps", 10, "calls per second each account may place through the REST API (more wait, queued)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.DurationVar(&c.MediaTimeout, "media-timeout", 60*time.Second, "end a call when no RTP arrives for `DURATION` (0: never)")
	fs.StringVar(&c.InbandDTMF, "inband-dtmf", "auto", "detect DTMF tones in the caller's audio: `auto` (when no telephone-event is offered), always or never")
	fs.BoolVar(&c.PublicMedia, "public-media", false, "serve recording media without credentials (default: the account's credentials are required)")
	fs.Float64Var(&c.MaxCallRate, "max-call-rate", 0, "new inbound calls per `second` taken; more get 503 with Retry-After (0: no ceiling)")
	fs.DurationVar(&c.CommitDelay, "commit-delay", 0, "with the CPU over 55 % busy, let SQLite writes wait up to `DURATION` (reached at 80 %) to commit together: fewer disk writes, slower call setup (0: commit at once)")
	fs.BoolVar(&c.RTPIOUring, "rtp-io-uring", true, "send RTP through io_uring, one system call per 256 packets (false: one sendto per packet; without io_uring the fallback is automatic)")
	fs.DurationVar(&c.RTPReadInterval, "rtp-read-interval", 20*time.Millisecond, "read each call's RTP socket every `DURATION`: 20ms, or 40ms for fewer system calls (large conferences) at up to 20 ms more delay")
	fs.Var(&c.WebhookDeny, "webhook-deny", "comma-separated `CIDRs` no fetch of a user-supplied URL (webhook, callback, <Play> audio) may connect to, checked after DNS (e.g. 10.0.0.0/8,169.254.0.0/16)")

	// The environment supplies defaults; the command line overrides them.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%w: %s: %w", ErrUsage, name, err)
			}
		}
	})
	if envErr != nil {
		return Serve{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Serve{}, err
		}
		return Serve{}, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return Serve{}, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	c.AccountSID = getenv("SWITCHBOARD_ACCOUNT_SID")
	c.AuthToken = getenv("SWITCHBOARD_AUTH_TOKEN")
	if err := c.validate(); err != nil {
		return Serve{}, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return c, nil
}

func (c *Serve) validate() error {
	for _, a := range []struct{ name, addr string }{{"--http", c.HTTP}, {"--sip", c.SIP}} {
		host, port, err := net.SplitHostPort(a.addr)
		if err != nil {
			return fmt.Errorf("%s %q: %w", a.name, a.addr, err)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("%s %q: invalid port", a.name, a.addr)
		}
		if host == "" {
			return fmt.Errorf("%s %q: give the host to listen on", a.name, a.addr)
		}
	}
	if c.Data == "" {
		return errors.New("--data must not be empty")
	}
	if c.CPS <= 0 || c.CPS > 10000 {
		return fmt.Errorf("--cps %v: want a rate above 0 and at most 10000", c.CPS)
	}
	if c.MaxCallRate < 0 || c.MaxCallRate > 100000 {
		return fmt.Errorf("--max-call-rate %v: want a rate from 0 (no ceiling) to 100000", c.MaxCallRate)
	}
	if c.CommitDelay < 0 || c.CommitDelay > 50*time.Millisecond {
		return fmt.Errorf("--commit-delay %v: want 0 (commit at once) to 50ms", c.CommitDelay)
	}
	if c.RTPReadInterval != 20*time.Millisecond && c.RTPReadInterval != 40*time.Millisecond {
		return fmt.Errorf("--rtp-read-interval %v: want 20ms or 40ms", c.RTPReadInterval)
	}
	c.Data = filepath.Clean(c.Data)
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("--db %q: want postgres://... (or nothing for SQLite)", c.DB)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTP
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q: want an absolute http(s) URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Trunk != "" {
		if !strings.HasPrefix(c.Trunk, "sip:") && !strings.HasPrefix(c.Trunk, "sips:") {
			return fmt.Errorf("--trunk %q: want a sip: URI", c.Trunk)
		}
	}
	if c.MediaTimeout < 0 {
		return fmt.Errorf("--media-timeout %v: must not be negative", c.MediaTimeout)
	}
	switch c.InbandDTMF {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--inband-dtmf %q: want auto, always or never", c.InbandDTMF)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}
