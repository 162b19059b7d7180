package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
	"github.com/switchboard-voice/switchboard/internal/outbox"
	"github.com/switchboard-voice/switchboard/internal/sched"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/voice"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// shutdownGrace bounds how long in-flight HTTP requests and queued callbacks
// may take once the server has been asked to stop.
const shutdownGrace = 10 * time.Second

// Options are the parts of a Server tests may replace; the zero value is
// production.
type Options struct {
	// Webhook configures the client that calls the user's app.
	Webhook webhook.Config
	// InactivityTimeout, when set, replaces --media-timeout.
	InactivityTimeout time.Duration
	// InbandDTMF, when not InbandAuto, replaces --inband-dtmf.
	InbandDTMF voice.InbandDTMF
	// Node names this process as the owner of the callbacks it delivers
	// (default: hostname-pid-random).
	Node string
	// IgnorePacer keeps taking calls while the media pacer is behind,
	// goroutines wait for the CPU or datagrams wait in the SIP socket (the
	// pending-setups ceiling of 400 and --max-call-rate still apply). Tests
	// that share a loaded machine set it: a stall of the machine is not an
	// overload of the server.
	IgnorePacer bool
	// CheckpointHelper, if set, is the executable that runs the SQLite
	// store's checkpoints in a process of its own (store.WithCheckpointHelper):
	// switchboard serve's own.
	CheckpointHelper string
}

// Server is a running switchboard.
type Server struct {
	cfg    config.Serve
	log    *slog.Logger
	store  store.Store
	httpLn net.Listener
	http   *http.Server

	media     *media.Engine
	sip       *sip.Server
	webhooks  *webhook.Client
	heartbeat *heartbeat   // the node's heartbeat, until the store closes
	overload  *overload    // refuses new calls while the server is behind
	exchanges *exchangeLog // webhook exchanges on their way to the event log
	outbox    *outbox.Deliverer
	speech    *tts.Cache
	audio     *audiocache.Cache
	interp    *voice.Interpreter

	ready   atomic.Bool
	started chan struct{} // closed when Run first has SIP and HTTP listening
}

// New opens the store, closes call records a previous process left open,
// ensures the main account exists (writing its credentials to announce when
// it is created, the one time they are shown) and builds every part. The HTTP
// listener is bound here; SIP listens when Run starts.
func New(ctx context.Context, cfg config.Serve, log *slog.Logger, announce io.Writer, opts Options) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, started: make(chan struct{})}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	// The HTTP address is taken first: a second server started by mistake on
	// the same address (and, likely, data) stops before it touches the
	// store, where it would close the first one's live calls.
	if s.httpLn, err = net.Listen("tcp", cfg.HTTP); err != nil {
		return nil, fmt.Errorf("listen http: %w", err)
	}
	if s.store, err = store.Open(ctx, cfg.DB, cfg.Data, store.WithCheckpointHelper(opts.CheckpointHelper, log)); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	node := opts.Node
	if node == "" {
		node = defaultNode(cfg.Data)
	}
	// The calls this node left open when it stopped are over. On SQLite this
	// process is the only node; on a shared PostgreSQL the other nodes'
	// calls are theirs to close.
	finalize := ""
	if cfg.DB != "" {
		finalize = node
	}
	if n, err := s.store.FinalizeOpenCalls(ctx, finalize); err != nil {
		return nil, fmt.Errorf("finalize calls left open: %w", err)
	} else if n > 0 {
		log.Warn("closed call records left open by the previous run", "calls", n)
	}
	// Likewise its conferences: no participant outlives a restart.
	if n, err := s.store.FinalizeOpenConferences(ctx, finalize); err != nil {
		return nil, fmt.Errorf("finalize conferences left open: %w", err)
	} else if n > 0 {
		log.Warn("closed conferences left open by the previous run", "conferences", n)
	}
	// From now on the node proves it is alive: after a crash, the next
	// start ends its calls at the last proof (their durations survive).
	s.heartbeat = startHeartbeat(s.store, node, clock.Real, heartbeatInterval, log)
	if err := repairRecordings(ctx, s.store, cfg.Data, log); err != nil {
		return nil, err
	}
	acct, created, err := api.EnsureMainAccount(ctx, s.store, cfg.AccountSID, cfg.AuthToken)
	if err != nil {
		return nil, fmt.Errorf("main account: %w", err)
	}
	switch {
	case created && cfg.AuthToken != "":
		log.Info("created the main account from the environment", "account", acct.SID)
	case created:
		fmt.Fprintf(announce, "switchboard: created the main account (shown once, keep it):\n  SWITCHBOARD_ACCOUNT_SID=%s\n  SWITCHBOARD_AUTH_TOKEN=%s\n", acct.SID, acct.AuthToken)
	}

	mediaIP, err := mediaAddr(cfg.SIP)
	if err != nil {
		return nil, err
	}
	inactivity := cfg.MediaTimeout
	if inactivity == 0 {
		inactivity = -1 // never
	}
	if opts.InactivityTimeout != 0 {
		inactivity = opts.InactivityTimeout
	}
	inband := map[string]voice.InbandDTMF{"always": voice.InbandAlways, "never": voice.InbandNever}[cfg.InbandDTMF]
	if opts.InbandDTMF != voice.InbandAuto {
		inband = opts.InbandDTMF
	}
	if s.media, err = media.NewEngine(media.EngineConfig{
		IP: mediaIP, PortMin: cfg.RTPPorts.Min, PortMax: cfg.RTPPorts.Max,
		InactivityTimeout: inactivity, Logger: log.With("part", "media"),
		ReadEvery: int(cfg.RTPReadInterval / media.FrameDuration),
		NoIOUring: !cfg.RTPIOUring,
	}); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	trunk, err := parseTrunk(cfg.Trunk, cfg.TrunkUser, cfg.TrunkPassword)
	if err != nil {
		return nil, err
	}
	// Callbacks this node was delivering when it last stopped are due again
	// at once (at least once): it released nothing when it was killed.
	if err := s.store.ExtendLeases(ctx, node, time.Unix(0, 0)); err != nil {
		return nil, fmt.Errorf("release the outbox leases of the previous run: %w", err)
	}
	s.exchanges = newExchangeLog(s.store, log)
	wcfg := opts.Webhook
	wcfg.OnExchange = s.logExchange
	// --webhook-deny: no fetch of a user-supplied URL may reach these.
	wcfg.Deny = append(wcfg.Deny[:len(wcfg.Deny):len(wcfg.Deny)], cfg.WebhookDeny...)
	s.webhooks = webhook.New(wcfg)
	s.outbox = outbox.New(outbox.Config{
		Store: s.store, Client: s.webhooks, Logger: log.With("part", "outbox"), Node: node,
		OnError: func(e *webhook.Error) {
			log.Warn("callback failed", "call", e.CallSID, "url", e.URL, "code", e.Code, "err", e.Err)
		},
	})
	if s.speech, err = tts.NewCache(&tts.Espeak{}, tts.Options{Dir: cfg.Data, MaxBytes: 1 << 30}); err != nil {
		return nil, fmt.Errorf("speech cache: %w", err)
	}
	if s.audio, err = audiocache.New(audiocache.Options{Dir: filepath.Join(cfg.Data, "play"), Deny: cfg.WebhookDeny}); err != nil {
		return nil, fmt.Errorf("play cache: %w", err)
	}
	d := &dialer{trunk: trunk}
	// The built-in hold music is rendered once (~80 ms of CPU): at start,
	// rather than while the first conference caller waits for it.
	holdmusic.New()
	s.interp = voice.New(voice.Config{
		Store: s.store, Webhooks: s.webhooks, Kick: s.outbox.Kick, Dialer: d, CPS: cfg.CPS, Node: node, Ticks: s.media,
		Speech: s.speech, Audio: s.audio, Logger: log.With("part", "voice"),
		InbandDTMF: inband, DataDir: cfg.Data, PublicURL: cfg.PublicURL,
	})
	s.overload = &overload{clock: clock.Real}
	if !opts.IgnorePacer {
		s.overload.ticks = s.media.TickStats
		if p := sched.New(); p != nil {
			s.overload.sched = func() (time.Duration, uint64, float64) {
				w := p.Window()
				return w.Wait(0.9), w.Waits, w.Busy
			}
			if cd, ok := s.store.(store.CommitDelayer); ok && cfg.CommitDelay > 0 {
				s.overload.commitDelay, s.overload.maxCommitDelay = cd.SetCommitDelay, cfg.CommitDelay
			}
		}
	}
	var queueTarget time.Duration // sip's default
	if opts.IgnorePacer {
		queueTarget = -1 // off
	}
	if s.sip, err = sip.NewServer(sip.Config{
		Addr: cfg.SIP, Media: s.media, Logger: log.With("part", "sip"),
		Admit: s.overload.admit, MaxCallRate: cfg.MaxCallRate, QueueTarget: queueTarget,
	}, &router{store: s.store, interp: s.interp, log: log.With("part", "voice")}); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.overload.pending, s.overload.admitted, s.overload.rateRefused = s.sip.Pending, s.sip.Admitted, s.sip.RateRefused
	d.sip = s.sip

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/", api.New(api.Config{
		Store: s.store, PublicURL: cfg.PublicURL, Logger: log, Now: time.Now,
		DataDir: cfg.Data, PublicMedia: cfg.PublicMedia, Live: s.interp, Conferences: s.interp, Trunk: cfg.Trunk,
	}))
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// A backstop for whatever is not the REST API's (healthz): the
		// API gives request bodies their own deadline (api.Config.
		// BodyTimeout) and lifts this one for its requests, since a read
		// deadline passing while a handler runs cancels its context.
		ReadTimeout: 2 * time.Minute,
		// No WriteTimeout: a recording download over a slow link may
		// rightly take long.
		IdleTimeout: 2 * time.Minute, // keep-alive connections do not stay forever
		// Twilio's requests carry a few small headers; 64 KiB leaves room
		// for proxies' (default: 1 MiB a connection).
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// defaultNode names this process in the outbox's leases: the host and the
// data directory, so that a restart of the same server takes its callbacks
// back at once, and servers sharing a database differ.
func defaultNode(dataDir string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return host + "-" + hex.EncodeToString(sum[:4])
}

// mediaAddr is the address RTP binds to and advertises: the SIP address's IP,
// or loopback when SIP listens on a name or on every address.
func mediaAddr(sipAddr string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(sipAddr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--sip %q: %w", sipAddr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() {
		return netip.MustParseAddr("127.0.0.1"), nil
	}
	return ip, nil
}

// HTTPAddr is the address the HTTP server listens on.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// SIPAddr is the address SIP listens on, once Ready.
func (s *Server) SIPAddr() netip.AddrPort { return s.sip.Addr() }

// Store is the server's store.
func (s *Server) Store() store.Store { return s.store }

// MediaTickStats is how the media pacer has kept up since the start.
func (s *Server) MediaTickStats() media.TickStats { return s.media.TickStats() }

// Ready reports whether SIP and HTTP are both listening.
func (s *Server) Ready() bool { return s.ready.Load() }

// Started is closed once Run has SIP and HTTP both listening; it stays open
// if Run returns before that (see its error).
func (s *Server) Started() <-chan struct{} { return s.started }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"starting"}`+"\n")
		return
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// Run serves until ctx ends, then shuts down in order: SIP stops taking calls
// and hangs up the ones in progress (their records are finalised), HTTP
// requests in flight get shutdownGrace to finish, queued callbacks are
// delivered within the same grace, and the store is closed last.
func (s *Server) Run(ctx context.Context) error {
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSIP()
	sipErr := make(chan error, 1)
	go func() { sipErr <- s.sip.ListenAndServe(sipCtx) }()
	go s.overload.run(sipCtx, s.log.With("part", "overload"))
	go (&janitor{clock: clock.Real, started: s.interp.Started}).run(sipCtx, s.log.With("part", "memory"))
	outboxCtx, stopOutbox := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOutbox()
	outboxDone := make(chan error, 1)
	go func() { outboxDone <- s.outbox.Run(outboxCtx) }()
	httpErr := make(chan error, 1)
	go func() { httpErr <- s.http.Serve(s.httpLn) }()

	var runErr error
	sipDone := false // sipErr received: SIP has stopped
	select {
	case <-s.sip.Ready():
		s.ready.Store(true)
		close(s.started)
		s.log.Info("switchboard listening", "http", s.httpLn.Addr().String(), "sip", s.sip.Addr().String(), "data", s.cfg.Data)
		select {
		case <-ctx.Done():
		case err := <-sipErr:
			runErr, sipDone = fmt.Errorf("sip: %w", err), true
		case err := <-httpErr:
			runErr = fmt.Errorf("http: %w", err)
		}
	case err := <-sipErr:
		runErr, sipDone = fmt.Errorf("sip: %w", err), true
	case <-ctx.Done():
	}

	s.ready.Store(false)
	s.log.Info("switchboard shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("http shutdown: %w", err)
	}
	// Calls placed through the API and not answered yet end; then SIP hangs
	// up the calls in progress, whose records are finalised.
	s.interp.Close()
	stopSIP()
	if !sipDone {
		if err := <-sipErr; err != nil && runErr == nil && !errors.Is(err, context.Canceled) {
			runErr = fmt.Errorf("sip: %w", err)
		}
	}
	// The callbacks due now get the grace to leave; the rest stay in the
	// outbox for the next start (or another node).
	stopOutbox()
	<-outboxDone
	if err := s.outbox.Drain(sctx); err != nil {
		s.log.Warn("callbacks left in the outbox at shutdown", "err", err)
	}
	// No webhook is made from here on: the last exchanges are written.
	s.exchanges.close()
	if err := s.close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// close releases what New built, in reverse order.
func (s *Server) close() error {
	var errs []error
	if s.httpLn != nil {
		s.httpLn.Close()
	}
	if s.audio != nil {
		errs = append(errs, s.audio.Close())
	}
	if s.speech != nil {
		errs = append(errs, s.speech.Close())
	}
	if s.webhooks != nil {
		s.webhooks.Close()
	}
	if s.exchanges != nil {
		s.exchanges.close()
	}
	if s.media != nil {
		errs = append(errs, s.media.Close())
	}
	s.heartbeat.stop()
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}
