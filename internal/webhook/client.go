package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Defaults, as Twilio's (webhooks connection overrides page and error 11205):
// two 5-second attempts to connect (10 s), 15 s to read, 15 s in all.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultReadTimeout    = 15 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultRetries        = 1
	DefaultMaxRedirects   = 10
	// DefaultMaxTwiMLBody is Twilio's 64 kB limit on a document (error 11750).
	DefaultMaxTwiMLBody = 64 << 10
	// DefaultMaxTextBody caps a text/plain answer (spoken to the caller).
	DefaultMaxTextBody = 64 << 10
	// DefaultMaxAudioBody caps an audio answer (played to the caller).
	DefaultMaxAudioBody = 16 << 20
	// DefaultMaxCallbackBody is how much of a status callback's answer is
	// read (and discarded) before the connection is dropped.
	DefaultMaxCallbackBody = 64 << 10
	// DefaultUserAgent is the User-Agent Twilio's webhook requests carry.
	DefaultUserAgent = "TwilioProxy/1.1"
)

// IdempotencyHeader carries a token that is the same on every retry of one
// webhook request, so the app can drop duplicates.
const IdempotencyHeader = "I-Twilio-Idempotency-Token"

// errorBodyLen is how much of an unusable answer is kept in Error.ResponseBody.
const errorBodyLen = 4 << 10

// Kind classifies an answer by its Content-Type, as the seed's MIME type table
// says.
type Kind uint8

// The kinds of answer.
const (
	// KindTwiML: text/xml, application/xml or text/html: a TwiML document.
	KindTwiML Kind = iota + 1
	// KindAudio: one of <Play>'s audio types: played, then the call ends.
	KindAudio
	// KindText: text/plain: spoken, then the call ends.
	KindText
)

func (k Kind) String() string {
	switch k {
	case KindTwiML:
		return "twiml"
	case KindAudio:
		return "audio"
	case KindText:
		return "text"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// audioTypes are the MIME types <Play> accepts
// (https://www.twilio.com/docs/voice/twiml/play#supported-audio-file-types).
var audioTypes = map[string]bool{
	"audio/mpeg":   true,
	"audio/wav":    true,
	"audio/wave":   true,
	"audio/x-wav":  true,
	"audio/aiff":   true,
	"audio/x-aifc": true,
	"audio/x-aiff": true,
	"audio/x-gsm":  true,
	"audio/gsm":    true,
	"audio/ulaw":   true,
}

// ClassifyContentType returns the kind of answer a Content-Type header value
// announces and its media type (lower case, without parameters); ok is false
// for a type Twilio does not accept.
func ClassifyContentType(contentType string) (kind Kind, mediaType string, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Tolerate bad parameters ("text/xml; charset"), as browsers do.
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	switch mt {
	case "text/xml", "application/xml", "text/html":
		return KindTwiML, mt, true
	case "text/plain":
		return KindText, mt, true
	}
	if audioTypes[mt] {
		return KindAudio, mt, true
	}
	return 0, mt, false
}

// Config configures a Client. The zero value gives Twilio's behaviour.
type Config struct {
	// Transport replaces the built-in transport. The built-in one applies
	// ConnectTimeout to each dial, resolves .invalid names to "no such host"
	// without asking DNS (RFC 6761 section 6.4), and keeps connections alive.
	Transport http.RoundTripper
	// TLSConfig is used by the built-in transport (nil: system roots).
	TLSConfig *tls.Config
	// Resolver is used by the built-in transport (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// Deny lists the addresses the built-in transport refuses to connect
	// to (DenyControl): checked on the resolved IP of every connection,
	// redirects included. A denied request fails with error 11205 wrapping
	// ErrDenied, and is not retried. Nil: every address is allowed. A
	// Config.Transport replaces the built-in one, and this check with it.
	Deny []netip.Prefix

	// ConnectTimeout bounds each attempt to connect (DNS, TCP and TLS).
	// Default 5 s; with the default single retry, 10 s in all.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for the first response byte after
	// connecting, and each wait for more of the body. Default 15 s.
	ReadTimeout time.Duration
	// Timeout bounds the whole fetch: attempts, retries, redirects and reading
	// the body. Default 15 s.
	Timeout time.Duration
	// Retries is the number of attempts after the first; 0 means the default
	// (1), a negative value means none.
	Retries int
	// RetryOn is the set of failures retried; 0 means the default,
	// RetryConnect.
	RetryOn RetryOn
	// MaxRedirects bounds the redirects followed (default 10); one more is
	// error 11215.
	MaxRedirects int

	// Body caps per kind of answer; 0 means the default.
	MaxTwiMLBody    int64
	MaxTextBody     int64
	MaxAudioBody    int64
	MaxCallbackBody int64

	// UserAgent is sent on every request (default "TwilioProxy/1.1").
	UserAgent string
	// OnExchange, when set, is told of every request once it is over
	// (answered, failed or abandoned), on the goroutine that made it. It
	// must not block for long.
	OnExchange func(Exchange)
	// Clock drives every timer (default clock.Real).
	Clock clock.Clock
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.Retries == 0:
		c.Retries = DefaultRetries
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.RetryOn == 0 {
		c.RetryOn = RetryConnect
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.MaxTwiMLBody <= 0 {
		c.MaxTwiMLBody = DefaultMaxTwiMLBody
	}
	if c.MaxTextBody <= 0 {
		c.MaxTextBody = DefaultMaxTextBody
	}
	if c.MaxAudioBody <= 0 {
		c.MaxAudioBody = DefaultMaxAudioBody
	}
	if c.MaxCallbackBody <= 0 {
		c.MaxCallbackBody = DefaultMaxCallbackBody
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Clock == nil {
		c.Clock = clock.Real
	}
	return c
}

// A Client makes the requests Twilio makes to the user's app. It is safe for
// concurrent use by many calls; per-call state (the cookie jar) travels in each
// Request.
type Client struct {
	cfg  Config
	hc   *http.Client
	own  *http.Transport // the built-in transport, nil when Config.Transport is set
	dial net.Dialer
}

// New returns a Client.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg.withDefaults()}
	c.dial = net.Dialer{Timeout: c.cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Resolver: c.cfg.Resolver,
		Control: DenyControl(c.cfg.Deny)}
	rt := c.cfg.Transport
	if rt == nil {
		c.own = &http.Transport{
			DialContext:            c.dialContext,
			TLSClientConfig:        c.cfg.TLSConfig,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           1024,
			MaxIdleConnsPerHost:    256,
			IdleConnTimeout:        90 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}
		rt = c.own
	}
	c.hc = &http.Client{
		Transport: rt,
		// Redirects are followed by hand: each hop is re-signed, gets the
		// call's cookies and counts toward the limit.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Close releases idle connections of the built-in transport.
func (c *Client) Close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

type connectTimeoutKey struct{}

func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// RFC 6761 section 6.4: .invalid names never resolve.
	if h := strings.TrimSuffix(strings.ToLower(host), "."); h == "invalid" || strings.HasSuffix(h, ".invalid") {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	d := c.dial
	if ct, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok && ct > 0 {
		d.Timeout = ct
	}
	return d.DialContext(ctx, network, addr)
}

// A Request is one webhook request.
type Request struct {
	// URL is the absolute http or https URL. User info in it becomes HTTP
	// basic authentication; a fragment holds connection overrides. Neither is
	// sent nor signed.
	URL string
	// Method is GET or POST (case-insensitive); empty means POST.
	Method string
	// Params are sent as a form body (POST) or appended to the URL's own query
	// string (GET).
	Params url.Values
	// AuthToken signs the request (X-Twilio-Signature); empty: unsigned.
	AuthToken string
	// Jar holds the call's cookies: those the app sets are sent back on the
	// next requests of the same call. Nil: no cookies. See NewJar.
	Jar http.CookieJar
	// IdempotencyToken is sent as I-Twilio-Idempotency-Token, the same on
	// every retry; empty: a random one per Fetch.
	IdempotencyToken string
	// CallSID is copied into errors, for the notification they become.
	CallSID string
	// AccountSID is the account the request is made for (reported to
	// OnExchange).
	AccountSID string
}

// A Response is a usable answer of the app.
type Response struct {
	// Kind says what to do with Body.
	Kind Kind
	// MediaType is the Content-Type's media type, lower case.
	MediaType string
	// Body is the whole body, within the cap for its kind.
	Body []byte
	// URL is the URL that answered, after redirects, without the parameters a
	// GET appended: the base for relative URLs in the document.
	URL string
	// Method is the method of the request that answered.
	Method string
	// Status is the HTTP status (2xx).
	Status int
	// Header is the answer's header.
	Header http.Header
}

// Fetch requests a document (TwiML, audio or text) from the app, following
// redirects and retrying as configured. A failure is an *Error carrying
// Twilio's error code.
func (c *Client) Fetch(ctx context.Context, req Request) (*Response, error) {
	return c.observe(ctx, req, true)
}

// Deliver sends a callback whose answer is ignored (a status callback): any
// 2xx status is success, the body is read up to MaxCallbackBody and dropped.
// A failure is an *Error.
func (c *Client) Deliver(ctx context.Context, req Request) error {
	_, err := c.observe(ctx, req, false)
	return err
}

// An Exchange is one request to the app and how it went, as a call's event
// log keeps it (Twilio's Call Events: request and response).
type Exchange struct {
	AccountSID string
	CallSID    string
	Method     string
	URL        string // as requested (before redirects), without its fragment
	Params     url.Values
	Start      time.Time
	// Duration is how long the request took, redirects and retries included.
	Duration time.Duration
	// Status is the HTTP status of the answer; 0 when none came.
	Status      int
	ContentType string
	// Body is the start of the answer's body (at most 4 KiB), when read.
	Body []byte
	// Err is why the request failed; nil when it succeeded.
	Err error
}

// maxExchangeBody bounds the body an Exchange keeps.
const maxExchangeBody = 4 << 10

// observe runs do and reports the exchange to OnExchange.
func (c *Client) observe(ctx context.Context, req Request, document bool) (*Response, error) {
	if c.cfg.OnExchange == nil {
		return c.do(ctx, req, document)
	}
	start := c.cfg.Clock.Now()
	resp, err := c.do(ctx, req, document)
	ex := Exchange{
		AccountSID: req.AccountSID, CallSID: req.CallSID, Method: strings.ToUpper(req.Method), URL: req.URL, Params: req.Params,
		Start: start, Duration: c.cfg.Clock.Now().Sub(start), Err: err,
	}
	if ex.Method == "" {
		ex.Method = http.MethodPost
	}
	if i := strings.IndexByte(ex.URL, '#'); i >= 0 {
		ex.URL = ex.URL[:i]
	}
	switch {
	case resp != nil:
		ex.Status, ex.ContentType = resp.Status, resp.MediaType
		ex.Body = resp.Body[:min(len(resp.Body), maxExchangeBody)]
	case err != nil:
		var e *Error
		if errors.As(err, &e) {
			ex.Status, ex.Body = e.Status, e.ResponseBody
			if e.ResponseHeader != nil {
				ex.ContentType = e.ResponseHeader.Get("Content-Type")
			}
		}
	default:
		ex.Status = http.StatusOK // a callback's answer is not kept
	}
	c.cfg.OnExchange(ex)
	return resp, err
}

// settings are the timeouts and retries of one fetch.
type settings struct {
	connect, read, total time.Duration
	retries              int
	retryOn              RetryOn
}

func (c *Client) settingsFor(o Overrides) settings {
	s := settings{
		connect: c.cfg.ConnectTimeout,
		read:    c.cfg.ReadTimeout,
		total:   c.cfg.Timeout,
		retries: c.cfg.Retries,
		retryOn: c.cfg.RetryOn,
	}
	if o.ConnectTimeout > 0 {
		s.connect = o.ConnectTimeout
	}
	if o.ReadTimeout > 0 {
		s.read = o.ReadTimeout
	}
	if o.TotalTimeout > 0 {
		s.total = o.TotalTimeout
	}
	if o.RetryCount >= 0 {
		s.retries = o.RetryCount
	}
	if o.RetryPolicy != 0 {
		s.retryOn = o.RetryPolicy
	}
	return s
}

// Timeout causes, found in an *Error's chain with errors.Is(err, ErrTimeout).
var (
	errConnectTimeout = fmt.Errorf("%w: connect", ErrTimeout)
	errReadTimeout    = fmt.Errorf("%w: read", ErrTimeout)
	errTotalTimeout   = fmt.Errorf("%w: total", ErrTimeout)
)

func (c *Client) do(ctx context.Context, req Request, document bool) (*Response, error) {
	method := strings.ToUpper(strings.TrimSpace(req.Method))
	if method == "" {
		method = http.MethodPost
	}
	fail := func(code int, u string, err error) (*Response, error) {
		return nil, &Error{Code: code, CallSID: req.CallSID, URL: u, Method: method, Params: req.Params, Err: err}
	}
	if method != http.MethodGet && method != http.MethodPost {
		return fail(CodeRetrievalFailure, req.URL, fmt.Errorf("%w: %q", ErrBadMethod, req.Method))
	}
	t, err := parseTarget(req.URL)
	if err != nil {
		return fail(CodeInvalidURL, req.URL, err)
	}
	s := c.settingsFor(t.overrides)
	token := req.IdempotencyToken
	if token == "" {
		token = newToken()
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	total := startWatchdog(c.cfg.Clock, cancel, s.total, errTotalTimeout)
	defer total.stop()

	params := req.Params
	for hops := 0; ; hops++ {
		ex := &exchange{c: c, t: t, method: method, params: params, req: &req, token: token, s: s}
		resp, err := ex.run(ctx)
		if err != nil {
			return nil, err
		}
		if isRedirect(resp.StatusCode) {
			loc := resp.Header.Get("Location")
			if loc == "" {
				return nil, ex.statusError(resp)
			}
			ex.discard(resp)
			if hops >= c.cfg.MaxRedirects {
				return nil, ex.errorf(CodeTooManyRedirects, resp, fmt.Errorf("%w: more than %d", ErrTooManyRedirects, c.cfg.MaxRedirects))
			}
			next, err := Resolve(ex.wire.String(), loc)
			if err != nil {
				return nil, ex.errorf(CodeRetrievalFailure, resp, fmt.Errorf("redirect to %q: %w", loc, err))
			}
			nt, err := parseTarget(next)
			if err != nil {
				return nil, ex.errorf(CodeRetrievalFailure, resp, fmt.Errorf("redirect to %q: %w", loc, err))
			}
			if nt.user == nil && nt.u.Host == t.u.Host {
				nt.user = t.user // keep credentials on the same host only
			}
			// RFC 9110 section 15.4: 301, 302 and 303 turn a POST into a GET
			// (as browsers do); 307 and 308 repeat the request as it was.
			if method == http.MethodPost && resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
				method, params = http.MethodGet, nil
			}
			t = nt
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, ex.statusError(resp)
		}
		if !document {
			ex.discard(resp)
			return nil, nil
		}
		return ex.document(resp)
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// exchange is one hop of a fetch: its attempts, and the body of the answer.
type exchange struct {
	c      *Client
	t      target
	method string
	params url.Values
	req    *Request
	token  string
	s      settings

	wire *url.URL        // the URL requested
	actx context.Context // the current attempt's context
	wd   *watchdog       // the current attempt's watchdog, until the body is read
	stop func()          // releases the current attempt
}

// errorf builds an *Error about this hop.
func (ex *exchange) errorf(code int, resp *http.Response, err error) *Error {
	e := &Error{Code: code, CallSID: ex.req.CallSID, URL: ex.t.u.String(), Method: ex.method, Params: ex.params, Err: err}
	if resp != nil {
		e.Status = resp.StatusCode
		e.ResponseHeader = resp.Header
	}
	return e
}

// statusError reports an unusable status, keeping the start of the body.
func (ex *exchange) statusError(resp *http.Response) *Error {
	e := ex.errorf(CodeRetrievalFailure, resp, fmt.Errorf("%w %d", ErrStatus, resp.StatusCode))
	e.ResponseBody = ex.readSome(resp, errorBodyLen)
	return e
}

// readSome reads at most n bytes of the body, then releases the attempt.
func (ex *exchange) readSome(resp *http.Response, n int64) []byte {
	defer ex.release(resp)
	b, _ := io.ReadAll(io.LimitReader(ex.bodyReader(resp), n))
	return b
}

// discard reads and drops a small body so the connection can be reused.
func (ex *exchange) discard(resp *http.Response) {
	defer ex.release(resp)
	_, _ = io.Copy(io.Discard, io.LimitReader(ex.bodyReader(resp), ex.c.cfg.MaxCallbackBody))
}

func (ex *exchange) release(resp *http.Response) {
	resp.Body.Close()
	if ex.stop != nil {
		ex.stop()
		ex.stop = nil
	}
}

// bodyReader re-arms the read timeout before each read of the body.
func (ex *exchange) bodyReader(resp *http.Response) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if ex.wd != nil {
			ex.wd.arm(ex.s.read, errReadTimeout)
		}
		return resp.Body.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// document reads and classifies a 2xx answer.
func (ex *exchange) document(resp *http.Response) (*Response, error) {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		e := ex.errorf(CodeInvalidContentType, resp, fmt.Errorf("%w: no content-type", ErrContentType))
		e.ResponseBody = ex.readSome(resp, errorBodyLen)
		return nil, e
	}
	kind, mt, ok := ClassifyContentType(ct)
	if !ok {
		e := ex.errorf(CodeInvalidContentType, resp, fmt.Errorf("%w: %q", ErrContentType, ct))
		e.ResponseBody = ex.readSome(resp, errorBodyLen)
		return nil, e
	}
	limit := ex.c.cfg.MaxTwiMLBody
	switch kind {
	case KindAudio:
		limit = ex.c.cfg.MaxAudioBody
	case KindText:
		limit = ex.c.cfg.MaxTextBody
	}
	tooLarge := func() (*Response, error) {
		return nil, ex.errorf(CodeResponseTooLarge, resp, fmt.Errorf("%w: %s body over %d bytes", ErrTooLarge, kind, limit))
	}
	if resp.ContentLength > limit {
		ex.release(resp) // not read: closing drops the connection
		return tooLarge()
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(ex.bodyReader(resp), limit+1))
	ex.release(resp)
	if err != nil {
		err = ex.cause(err)
		code, _ := classify(err)
		return nil, ex.errorf(code, resp, fmt.Errorf("reading body: %w", err))
	}
	if int64(buf.Len()) > limit {
		return tooLarge()
	}
	return &Response{
		Kind:      kind,
		MediaType: mt,
		Body:      buf.Bytes(),
		URL:       ex.t.u.String(),
		Method:    ex.method,
		Status:    resp.StatusCode,
		Header:    resp.Header,
	}, nil
}

// run makes the attempts of this hop and returns the first answer that is not
// retried. The caller reads the body and releases it.
func (ex *exchange) run(ctx context.Context) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := ex.once(ctx)
		if err == nil {
			class := RetryOn(0)
			switch {
			case resp.StatusCode >= 500:
				class = Retry5xx
			case resp.StatusCode >= 400:
				class = Retry4xx
			}
			if class == 0 || ex.s.retryOn&class == 0 || attempt >= ex.s.retries || ctx.Err() != nil {
				return resp, nil
			}
			ex.discard(resp)
			continue
		}
		code, class := classify(err)
		if class == 0 || ex.s.retryOn&class == 0 || attempt >= ex.s.retries || ctx.Err() != nil {
			return nil, ex.errorf(code, nil, err)
		}
	}
}

// once makes one attempt. On success the attempt's watchdog keeps running
// until the body is released.
func (ex *exchange) once(parent context.Context) (*http.Response, error) {
	u := ex.t.u
	var body io.Reader
	var signed url.Values
	if ex.method == http.MethodGet {
		u = ex.t.withQuery(ex.params)
	} else {
		enc := ex.params.Encode()
		body = strings.NewReader(enc)
		signed = ex.params
	}
	ex.wire = u

	ctx, cancel := context.WithCancelCause(parent)
	ctx = context.WithValue(ctx, connectTimeoutKey{}, ex.s.connect)
	wd := startWatchdog(ex.c.cfg.Clock, cancel, ex.s.connect, errConnectTimeout)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { wd.arm(ex.s.read, errReadTimeout) },
	})
	done := func() {
		wd.stop()
		cancel(nil)
	}

	hreq, err := http.NewRequestWithContext(ctx, ex.method, u.String(), body)
	if err != nil {
		done()
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	h := hreq.Header
	h.Set("User-Agent", ex.c.cfg.UserAgent)
	h.Set("Accept", "*/*")
	h.Set(IdempotencyHeader, ex.token)
	if body != nil {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if ex.req.AuthToken != "" {
		h.Set(SignatureHeader, Sign(ex.req.AuthToken, u.String(), signed))
	}
	if ex.t.user != nil {
		pw, _ := ex.t.user.Password()
		hreq.SetBasicAuth(ex.t.user.Username(), pw)
	}
	if ex.req.Jar != nil {
		for _, ck := range ex.req.Jar.Cookies(u) {
			hreq.AddCookie(ck)
		}
	}

	resp, err := ex.c.hc.Do(hreq)
	if err != nil {
		err = causeOf(ctx, err)
		done()
		return nil, err
	}
	if ex.req.Jar != nil {
		if cks := resp.Cookies(); len(cks) > 0 {
			ex.req.Jar.SetCookies(u, cks)
		}
	}
	ex.actx = ctx
	ex.wd = wd
	ex.stop = done
	return resp, nil
}

// causeOf prefers the cancellation cause (which timer fired) to the transport's
// generic "context canceled".
func causeOf(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
			return fmt.Errorf("%w (%w)", cause, err)
		}
	}
	return err
}

// cause is causeOf for errors while reading the body.
func (ex *exchange) cause(err error) error {
	if ex.actx == nil {
		return err
	}
	return causeOf(ex.actx, err)
}
