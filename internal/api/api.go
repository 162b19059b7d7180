package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// APIVersion is the version segment of every path this package serves.
const APIVersion = "2010-04-01"

// prefix is the path prefix of every resource.
const prefix = "/" + APIVersion

// maxBodyBytes bounds a request body; Twilio's parameters are small. A larger
// one gets 413 (20413).
const maxBodyBytes = 1 << 20

// DefaultBodyTimeout is Config.BodyTimeout's default: time enough for
// maxBodyBytes at 35 KB/s, and for any form a helper library sends.
const DefaultBodyTimeout = 30 * time.Second

// Config configures the REST API handler.
type Config struct {
	// Store holds accounts and resources. Required.
	Store store.Store
	// PublicURL is the base of absolute URLs handed out (recording URLs,
	// later); resource "uri" fields are relative, as Twilio's are.
	PublicURL string
	// Logger receives request failures; nil discards.
	Logger *slog.Logger
	// Now is the clock for date_created/date_updated; nil means time.Now.
	Now func() time.Time
	// DataDir is the data directory (--data): recording files are stored
	// under it, at the path each recording's row names.
	DataDir string
	// PublicMedia serves recording media (GET .../Recordings/{Sid},
	// {Sid}.wav) without authentication (--public-media). Off, media needs
	// the credentials of the recording's account or of its parent, like
	// every other resource; metadata and DELETE always do.
	PublicMedia bool
	// Live reaches the calls in progress, to start, pause, resume and stop
	// their recordings (the Call Recording resource). nil: no call is ever
	// in progress, and those requests get 21220.
	Live LiveCalls
	// Conferences reaches the live conferences (the Conference and
	// Participant resources): end one, announce into it, add, change and
	// remove its participants. nil: Live, when it implements
	// LiveConferences too (*voice.Interpreter does); otherwise no conference
	// is live here (updates get 16022, participants 20404).
	Conferences LiveConferences
	// Trunk is where calls to phone numbers go (--trunk); without one, a
	// call to a phone number is refused (21214).
	Trunk string
	// BodyTimeout bounds the reading of a request body, from the moment the
	// handler starts (the headers are the http.Server's ReadHeaderTimeout's
	// business). A client that stalls mid-body gets 408 and its connection
	// is closed, rather than holding it and a goroutine forever. 0 means
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
}

// server is the handler New returns.
type server struct {
	st            store.Store
	publicURL     string
	dataDir       string
	publicMediaOn bool
	live          LiveCalls
	rooms         LiveConferences
	queues        LiveQueues
	trunk         string
	bodyTimeout   time.Duration
	log           *slog.Logger
	now           func() time.Time
	newSID        func(prefix string) string
	newToken      func() string
	mux           *http.ServeMux
}

// New returns the handler of the Twilio-compatible REST API: every path under
// /2010-04-01/, and the Conference Insights paths under /v1/Conferences.
// Mount it on the main mux at "/" (or at both prefixes) without
// http.StripPrefix: it matches, and writes into "uri" fields, full paths.
// Any other path it receives gets a JSON 404 (after authentication).
func New(cfg Config) http.Handler {
	return newServer(cfg, sid.New, sid.NewToken)
}

func newServer(cfg Config, newSID func(string) string, newToken func() string) *server {
	s := &server{
		st:            cfg.Store,
		publicURL:     strings.TrimRight(cfg.PublicURL, "/"),
		dataDir:       cfg.DataDir,
		publicMediaOn: cfg.PublicMedia,
		live:          cfg.Live,
		rooms:         cfg.Conferences,
		trunk:         cfg.Trunk,
		bodyTimeout:   cfg.BodyTimeout,
		log:           cfg.Logger,
		now:           cfg.Now,
		newSID:        newSID,
		newToken:      newToken,
		mux:           http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = DefaultBodyTimeout
	}
	if s.rooms == nil {
		s.rooms, _ = cfg.Live.(LiveConferences)
	}
	s.queues, _ = cfg.Live.(LiveQueues)
	s.routes()
	return s
}

func (s *server) routes() {
	// Go 1.22 patterns: a wildcard must be a whole segment ("{sid}.json"
	// panics), so instance routes take {file} and trim ".json".
	s.mux.Handle(prefix+"/Accounts.json", s.endpoint(false, methods{
		http.MethodGet:  s.listAccounts,
		http.MethodPost: s.createAccount,
	}))
	s.mux.Handle(prefix+"/Accounts/{file}", s.endpoint(false, methods{
		http.MethodGet:  s.fetchAccount,
		http.MethodPost: s.updateAccount,
	}))
	numbers := methods{
		http.MethodGet:  s.listNumbers,
		http.MethodPost: s.createNumber,
	}
	s.mux.Handle(prefix+"/Accounts/{AccountSid}/IncomingPhoneNumbers.json", s.endpoint(true, numbers))
	s.mux.Handle(prefix+"/Accounts/{AccountSid}/IncomingPhoneNumbers/{file}", s.endpoint(true, methods{
		http.MethodGet:    s.fetchNumber,
		http.MethodPost:   s.updateNumber,
		http.MethodDelete: s.deleteNumber,
	}))
	calls := prefix + "/Accounts/{AccountSid}/Calls"
	s.mux.Handle(calls+".json", s.endpoint(true, methods{
		http.MethodGet:  s.listCalls,
		http.MethodPost: s.createCall,
	}))
	s.mux.Handle(calls+"/{file}", s.endpoint(true, methods{
		http.MethodGet:    s.fetchCall,
		http.MethodPost:   s.updateCall,
		http.MethodDelete: s.deleteCall,
	}))
	s.mux.Handle(calls+"/{CallSid}/Notifications.json", s.endpoint(true, methods{http.MethodGet: s.listNotifications}))
	s.mux.Handle(calls+"/{CallSid}/Notifications/{file}", s.endpoint(true, methods{http.MethodGet: s.fetchNotification}))
	s.mux.Handle(calls+"/{CallSid}/Events.json", s.endpoint(true, methods{http.MethodGet: s.listCallEvents}))
	s.mux.Handle(calls+"/{CallSid}/Recordings.json", s.endpoint(true, methods{
		http.MethodGet:  s.listRecordings,
		http.MethodPost: s.createCallRecording,
	}))
	s.mux.Handle(calls+"/{CallSid}/Recordings/{file}", s.endpoint(true, methods{
		http.MethodGet:    s.fetchCallRecording,
		http.MethodPost:   s.updateCallRecording,
		http.MethodDelete: s.deleteRecording,
	}))
	recordings := prefix + "/Accounts/{AccountSid}/Recordings"
	s.mux.Handle(recordings+".json", s.endpoint(true, methods{http.MethodGet: s.listRecordings}))
	s.mux.Handle(recordings+"/{file}", s.recordingRoute(methods{
		http.MethodGet:    s.getRecording,
		http.MethodHead:   s.getRecording,
		http.MethodPost:   s.recordingNotUpdatable,
		http.MethodDelete: s.deleteRecording,
	}))
	conferences := prefix + "/Accounts/{AccountSid}/Conferences"
	s.mux.Handle(conferences+".json", s.endpoint(true, methods{http.MethodGet: s.listConferences}))
	s.mux.Handle(conferences+"/{file}", s.endpoint(true, methods{
		http.MethodGet:  s.fetchConference,
		http.MethodPost: s.updateConference,
	}))
	// {ConferenceSid} is a SID, or for POST .../Participants.json the
	// conference's friendly name as well.
	s.mux.Handle(conferences+"/{ConferenceSid}/Participants.json", s.endpoint(true, methods{
		http.MethodGet:  s.listParticipants,
		http.MethodPost: s.createParticipant,
	}))
	s.mux.Handle(conferences+"/{ConferenceSid}/Participants/{file}", s.endpoint(true, methods{
		http.MethodGet:    s.fetchParticipant,
		http.MethodPost:   s.updateParticipant,
		http.MethodDelete: s.deleteParticipant,
	}))
	s.mux.Handle(conferences+"/{ConferenceSid}/Recordings.json", s.endpoint(true, methods{
		http.MethodGet:  s.listConferenceRecordings,
		http.MethodPost: s.startConferenceRecording,
	}))
	s.mux.Handle(conferences+"/{ConferenceSid}/Recordings/{file}", s.endpoint(true, methods{
		http.MethodGet:    s.fetchConferenceRecording,
		http.MethodPost:   s.updateConferenceRecording,
		http.MethodDelete: s.deleteConferenceRecording,
	}))
	queues := prefix + "/Accounts/{AccountSid}/Queues"
	s.mux.Handle(queues+".json", s.endpoint(true, methods{http.MethodGet: s.listQueues, http.MethodPost: s.createQueue}))
	s.mux.Handle(queues+"/{file}", s.endpoint(true, methods{
		http.MethodGet: s.fetchQueue, http.MethodPost: s.updateQueue, http.MethodDelete: s.deleteQueue,
	}))
	s.mux.Handle(queues+"/{QueueSid}/Members.json", s.endpoint(true, methods{http.MethodGet: s.listMembers}))
	s.mux.Handle(queues+"/{QueueSid}/Members/{file}", s.endpoint(true, methods{http.MethodGet: s.fetchMember, http.MethodPost: s.updateMember}))
	s.mux.Handle(prefix+"/Accounts/{AccountSid}/Notifications.json", s.endpoint(true, methods{http.MethodGet: s.listNotifications}))
	s.mux.Handle(prefix+"/Accounts/{AccountSid}/Notifications/{file}", s.endpoint(true, methods{http.MethodGet: s.fetchNotification}))
	// Conference Insights (insights.go): not account-scoped, the account is
	// the credentials'.
	s.mux.Handle(insightsConferencesPath, s.endpoint(false, methods{http.MethodGet: s.listInsightsConferences}))
	s.mux.Handle(insightsConferencesPath+"/{ConferenceSid}", s.endpoint(false, methods{http.MethodGet: s.fetchInsightsConference}))
	s.mux.Handle(insightsConferencesPath+"/{ConferenceSid}/Participants", s.endpoint(false, methods{http.MethodGet: s.listInsightsParticipants}))
	s.mux.Handle(insightsConferencesPath+"/{ConferenceSid}/Participants/{ParticipantSid}", s.endpoint(false, methods{http.MethodGet: s.fetchInsightsParticipant}))
	s.mux.Handle("/", s.endpoint(false, nil))
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.bodyDeadline(w, r)
	s.mux.ServeHTTP(w, r)
}

// bodyDeadline bounds the time r's body may take to arrive. A request with a
// body gets BodyTimeout: parseForm lifts the deadline once the body is read
// whole, and otherwise it stays, so that net/http's reading of what the
// handler left unread (before the response goes out) ends at it too and the
// connection is closed. A request without a body gets no deadline at all:
// net/http watches the connection while the handler runs, and a deadline
// passing then (the http.Server's ReadTimeout) would cancel the request's
// context. Connections without deadlines (httptest.ResponseRecorder) are left
// alone.
func (s *server) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	var until time.Time // none
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		until = time.Now().Add(s.bodyTimeout) // network time, not s.now
	}
	_ = http.NewResponseController(w).SetReadDeadline(until)
}

// methods maps an HTTP method to the function serving it.
type methods map[string]func(*request) error

// request is one API call on its way through: the authenticated account and,
// for account-scoped routes, the account named in the path.
type request struct {
	*http.Request
	w    http.ResponseWriter
	auth store.Account // whose credentials were given
	acct store.Account // the {AccountSid} of the path (scoped routes)
}

func (r *request) ctx() context.Context { return r.Context() }

// endpoint wraps a route: authentication, the path account check for
// account-scoped routes, method dispatch, and errors, in one place. A nil ms
// answers 404 to every authenticated request.
func (s *server) endpoint(scoped bool, ms methods) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		r := &request{Request: hr, w: w}
		s.guard(r, func() error { return s.serve(r, scoped, ms) })
	})
}

// guard runs fn for r and writes the error it returns; a panic is logged and
// answered with 500.
func (s *server) guard(r *request, fn func() error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("api: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			s.writeError(r, errInternal())
		}
	}()
	if err := fn(); err != nil {
		s.writeError(r, err)
	}
}

func (s *server) serve(r *request, scoped bool, ms methods) error {
	auth, err := s.authenticate(r)
	if err != nil {
		return err
	}
	r.auth = auth
	if ms == nil {
		return errNotFound(r.URL.Path)
	}
	if scoped {
		acct, err := s.reach(r, r.PathValue("AccountSid"))
		if err != nil {
			return err
		}
		// The parent may still read a suspended or closed subaccount's
		// history (GET, and HEAD, which answers what GET does without the
		// body), but nothing may change in it.
		if acct.Status != store.StatusActive && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return errAccountNotActive(acct.SID)
		}
		r.acct = acct
	}
	fn, ok := ms[r.Method]
	if !ok && r.Method == http.MethodHead {
		// HEAD is GET without the body (RFC 9110 section 9.3.2); net/http
		// drops what the handler writes and keeps Content-Length.
		fn, ok = ms[http.MethodGet]
	}
	if !ok {
		allow := make([]string, 0, len(ms))
		for m := range ms {
			allow = append(allow, m)
		}
		r.w.Header().Set("Allow", strings.Join(sortedMethods(allow), ", "))
		return errMethodNotAllowed(r.Method)
	}
	if r.Method == http.MethodPost {
		if err := parseForm(r); err != nil {
			return err
		}
	}
	return fn(r)
}

// dummyToken is compared against when the account does not exist, so that an
// unknown SID costs as much time as a wrong token.
const dummyToken = "00000000000000000000000000000000"

// authenticate checks HTTP basic authentication: the username is an account
// SID, the password its auth token. An account that is not active cannot
// authenticate (Twilio: "Account is suspended or closed").
func (s *server) authenticate(r *request) (store.Account, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return store.Account{}, errAuthenticate()
	}
	var acct store.Account
	want := dummyToken
	if sid.Valid(sid.Account, user) {
		a, err := s.st.Account(r.ctx(), user)
		switch {
		case err == nil:
			acct, want = a, a.AuthToken
		case !errors.Is(err, store.ErrNotFound):
			return store.Account{}, s.internal(r, err)
		}
	}
	if subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 || acct.SID == "" {
		return store.Account{}, errAuthenticate()
	}
	if acct.Status != store.StatusActive {
		return store.Account{}, errAccountNotActive(acct.SID)
	}
	return acct, nil
}

// reach returns the account sid names if the authenticated account may act on
// it: itself, or a subaccount it owns. Any other SID, existing or not, is
// refused as Twilio refuses a subaccount's credentials on its parent: 401
// with 20003.
func (s *server) reach(r *request, target string) (store.Account, error) {
	if target == r.auth.SID {
		return r.auth, nil
	}
	if !sid.Valid(sid.Account, target) {
		return store.Account{}, errAuthenticate()
	}
	a, err := s.st.Account(r.ctx(), target)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, errAuthenticate()
	}
	if err != nil {
		return store.Account{}, s.internal(r, err)
	}
	if a.OwnerAccountSID != r.auth.SID {
		return store.Account{}, errAuthenticate()
	}
	return a, nil
}

// parseForm reads a form-encoded POST body into r.PostForm: 413 (20413) when
// it is over maxBodyBytes, 408 when it does not arrive within the body
// deadline (bodyDeadline), 400 when it is not a form.
func parseForm(r *request) error {
	const form = "application/x-www-form-urlencoded"
	switch ct := r.Header.Get("Content-Type"); {
	case ct == "":
		// A body without a Content-Type is read as a form, as clients
		// that build requests by hand expect.
		r.Header.Set("Content-Type", form)
	case r.ContentLength != 0:
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != form {
			return badRequest(CodeBadRequest, "Content-Type must be %s", form)
		}
	}
	if r.ContentLength > maxBodyBytes {
		// Refused before a byte is read; net/http closes the connection
		// rather than read what the client still sends.
		return errTooLarge()
	}
	r.Body = http.MaxBytesReader(r.w, r.Body, maxBodyBytes)
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case err == nil:
		// The body is in: the handler may take its time.
		_ = http.NewResponseController(r.w).SetReadDeadline(time.Time{})
		return nil
	case errors.As(err, &tooLarge):
		return errTooLarge()
	case errors.As(err, &netErr) && netErr.Timeout():
		// The deadline stays: the connection is closed after the answer.
		return errBodyTimeout()
	}
	return badRequest(CodeBadRequest, "The request body is not a valid form: %v", err)
}

// instanceSID returns the SID of an instance path's {file} segment
// ("PN...json" gives "PN..."), or "" when the segment does not end in .json.
func instanceSID(r *request) string {
	f := r.PathValue("file")
	s, ok := strings.CutSuffix(f, ".json")
	if !ok {
		return ""
	}
	return s
}

// internal logs err and returns the 500 error to send.
func (s *server) internal(r *request, err error) *Error {
	s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return errInternal()
}

// writeJSON writes v as the JSON response body with the given status.
func (s *server) writeJSON(r *request, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		s.writeError(r, s.internal(r, err))
		return
	}
	writeBody(r, status, b)
}

// writeBody writes a JSON response body with its length, which a HEAD
// answer carries too (net/http drops the body and keeps the header).
func writeBody(r *request, status int, b []byte) {
	h := r.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	r.w.WriteHeader(status)
	_, _ = r.w.Write(b)
}

// marshal encodes v as compact JSON without escaping '&', '<' and '>' (URIs
// keep their '&', as in Twilio's bodies).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeError writes err as Twilio's error body. Errors other than *Error are
// internal failures.
func (s *server) writeError(r *request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = s.internal(r, err)
	}
	if e.Status >= 500 {
		s.log.Error("api: error response", "method", r.Method, "path", r.URL.Path, "code", e.Code)
	} else {
		s.log.Debug("api: error response", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "message", e.Message)
	}
	if e.Status == http.StatusUnauthorized {
		r.w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	b, _ := marshal(e.body())
	writeBody(r, e.Status, b)
}

// sortedMethods orders an Allow header: GET, POST, DELETE, then the rest.
func sortedMethods(ms []string) []string {
	rank := map[string]int{http.MethodGet: 0, http.MethodPost: 1, http.MethodDelete: 2}
	out := make([]string, 0, len(ms))
	for _, want := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		for _, m := range ms {
			if m == want {
				out = append(out, m)
			}
		}
	}
	for _, m := range ms {
		if _, ok := rank[m]; !ok {
			out = append(out, m)
		}
	}
	return out
}

// formatTime formats t as Twilio's dates: RFC 2822 in UTC,
// "Mon, 02 Jan 2006 15:04:05 +0000".
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }
