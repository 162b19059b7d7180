package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	os.Exit(run())
}

// config is what the flags and the environment say.
type config struct {
	api, account, token string
	to, from            string
	url, twiml          string
	events              []string
	rate, seconds       int
	maxInflight         int
	listen              string
	wait, timeout       time.Duration
	callsFile           string
	label               string
}

func parseConfig() (config, error) {
	var c config
	var events string
	flag.StringVar(&c.api, "api", "", "switchboard's REST API base URL, e.g. http://127.0.0.1:8080")
	flag.StringVar(&c.to, "to", "", "To of every call: the SIPp UAS, e.g. sip:uas@127.0.0.1:5080")
	flag.StringVar(&c.from, "from", "bench", "From (caller ID) of every call")
	flag.StringVar(&c.url, "url", "", "Url: the TwiML webhook run when a call is answered")
	flag.StringVar(&c.twiml, "twiml", "", "Twiml: the document itself (when no -url)")
	flag.StringVar(&events, "events", "initiated,ringing,answered,completed", "StatusCallbackEvent values, comma-separated (answered and completed are needed)")
	flag.IntVar(&c.rate, "rate", 10, "calls created per second (1..5000)")
	flag.IntVar(&c.seconds, "seconds", 10, "seconds of creates (1..600)")
	flag.IntVar(&c.maxInflight, "max-inflight", 256, "create requests outstanding at most (1..10000)")
	flag.StringVar(&c.listen, "listen", "127.0.0.1:0", "ADDR the status callback listener binds")
	flag.DurationVar(&c.wait, "wait", 30*time.Second, "after the last create, wait this long at most for the completed callbacks")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "timeout of one create request")
	flag.StringVar(&c.callsFile, "calls-file", "", "write one line per call (TSV, ms since the first create) to FILE")
	flag.StringVar(&c.label, "label", "", "a name printed with the report")
	flag.Parse()
	c.account = os.Getenv("SWITCHBOARD_ACCOUNT_SID")
	c.token = os.Getenv("SWITCHBOARD_AUTH_TOKEN")
	for _, e := range strings.Split(events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.events = append(c.events, e)
		}
	}
	switch {
	case flag.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", flag.Args())
	case c.account == "" || c.token == "":
		return c, errors.New("set SWITCHBOARD_ACCOUNT_SID and SWITCHBOARD_AUTH_TOKEN")
	case c.api == "" || c.to == "":
		return c, errors.New("-api and -to are required")
	case c.url == "" && c.twiml == "":
		return c, errors.New("give -url or -twiml")
	case c.rate < 1 || c.rate > 5000:
		return c, fmt.Errorf("-rate %d: want 1..5000", c.rate)
	case c.seconds < 1 || c.seconds > 600:
		return c, fmt.Errorf("-seconds %d: want 1..600", c.seconds)
	case c.maxInflight < 1 || c.maxInflight > 10000:
		return c, fmt.Errorf("-max-inflight %d: want 1..10000", c.maxInflight)
	case !slices.Contains(c.events, "answered") || !slices.Contains(c.events, "completed"):
		return c, errors.New("-events must hold answered and completed")
	case c.wait < 0 || c.wait > 10*time.Minute || c.timeout <= 0 || c.timeout > time.Minute:
		return c, errors.New("-wait must be 0..10m and -timeout 0..1m")
	}
	c.api = strings.TrimRight(c.api, "/")
	return c, nil
}

// attempt is one create, written only by the goroutine that made it.
type attempt struct {
	due, sent, done time.Time
	sid             string
	result          string // "" for 201, else the failure's kind
}

// progress is what the status callbacks of one call said, and when.
type progress struct {
	initiated, ringing, answered, completed time.Time
	final                                   string // CallStatus of the completed callback
	dup                                     int
}

// collector records status callbacks by CallSid.
type collector struct {
	mu      sync.Mutex
	calls   map[string]*progress
	total   int
	badForm int
}

func (col *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if err := r.ParseForm(); err != nil {
		col.mu.Lock()
		col.badForm++
		col.mu.Unlock()
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	sid, status := r.PostForm.Get("CallSid"), r.PostForm.Get("CallStatus")
	col.mu.Lock()
	col.total++
	p := col.calls[sid]
	if p == nil {
		p = &progress{}
		col.calls[sid] = p
	}
	var at *time.Time
	switch status {
	case "initiated":
		at = &p.initiated
	case "ringing":
		at = &p.ringing
	case "in-progress":
		at = &p.answered
	default: // completed, busy, failed, no-answer, canceled
		at = &p.completed
		if p.final == "" {
			p.final = status
		}
	}
	if at.IsZero() {
		*at = now
	} else {
		p.dup++
	}
	col.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// completedAll reports whether every sid has its completed callback.
func (col *collector) completedAll(sids []string) bool {
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, s := range sids {
		if p := col.calls[s]; p == nil || p.completed.IsZero() {
			return false
		}
	}
	return true
}

func run() int {
	c, err := parseConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "restload:", err)
		return 2
	}

	col := &collector{calls: make(map[string]*progress)}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "restload: listen:", err)
		return 2
	}
	srv := &http.Server{Handler: col, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	callbackURL := "http://" + ln.Addr().String() + "/status"

	form := url.Values{"To": {c.to}, "From": {c.from}, "StatusCallback": {callbackURL}}
	if c.url != "" {
		form.Set("Url", c.url)
	} else {
		form.Set("Twiml", c.twiml)
	}
	for _, e := range c.events {
		form.Add("StatusCallbackEvent", e)
	}
	body := form.Encode()
	endpoint := c.api + "/2010-04-01/Accounts/" + url.PathEscape(c.account) + "/Calls.json"
	client := &http.Client{
		Timeout: c.timeout,
		Transport: &http.Transport{
			MaxIdleConns: c.maxInflight, MaxIdleConnsPerHost: c.maxInflight,
			IdleConnTimeout: 90 * time.Second, DisableCompression: true,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}

	total := c.rate * c.seconds
	fmt.Printf("restload%s: %d calls at %d/s for %d s -> %s (%s), callbacks %s, events %s, max %d creates in flight\n",
		labelSuffix(c.label), total, c.rate, c.seconds, c.to, what(c), callbackURL, strings.Join(c.events, ","), c.maxInflight)

	att := make([]attempt, total)
	sem := make(chan struct{}, c.maxInflight)
	var wg sync.WaitGroup
	var notSentLimit, notSentDeadline atomic.Int64
	interval := time.Second / time.Duration(c.rate)
	start := time.Now()
	// Creates stop being issued this long after they were all due (a
	// starved pacer); the rest count as not sent.
	hardStop := start.Add(time.Duration(c.seconds)*time.Second + 10*time.Second)
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		att[i].due = due
		if time.Now().After(hardStop) {
			notSentDeadline.Add(int64(total - i))
			for j := i; j < total; j++ {
				att[j].due, att[j].result = start.Add(time.Duration(j)*interval), "not sent: deadline"
			}
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			notSentLimit.Add(1)
			att[i].result = "not sent: max in flight"
			continue
		}
		wg.Add(1)
		go func(a *attempt) {
			defer func() { <-sem; wg.Done() }()
			create(client, endpoint, c, body, a)
		}(&att[i])
	}
	issued := time.Now()
	wg.Wait() // each create is bounded by the client's timeout
	createsDone := time.Now()

	var sids []string
	for i := range att {
		if att[i].result == "" {
			sids = append(sids, att[i].sid)
		}
	}
	deadline := createsDone.Add(c.wait)
	for !col.completedAll(sids) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	waited := time.Since(createsDone)

	col.mu.Lock()
	defer col.mu.Unlock()
	return report(c, att, col, start, issued, waited, notSentLimit.Load(), notSentDeadline.Load())
}

func labelSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " [" + l + "]"
}

func what(c config) string {
	if c.url != "" {
		return "Url " + c.url
	}
	return fmt.Sprintf("Twiml of %d bytes", len(c.twiml))
}

// create POSTs one Create Call and records when and what came back.
func create(client *http.Client, endpoint string, c config, body string, a *attempt) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		a.result = "request: " + err.Error()
		return
	}
	req.SetBasicAuth(c.account, c.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a.sent = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		a.done = time.Now()
		a.result = "transport: " + transportKind(err)
		return
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	a.done = time.Now()
	var v struct {
		SID  string `json:"sid"`
		Code int    `json:"code"`
	}
	jerr := json.Unmarshal(b, &v)
	switch {
	case err != nil:
		a.result = "transport: reading the response: " + transportKind(err)
	case resp.StatusCode != http.StatusCreated:
		a.result = "HTTP " + strconv.Itoa(resp.StatusCode)
		if jerr == nil && v.Code != 0 {
			a.result += " code " + strconv.Itoa(v.Code)
		}
	case jerr != nil || !strings.HasPrefix(v.SID, "CA"):
		a.result = "HTTP 201 without a call sid"
	default:
		a.sid = v.SID
	}
}

// transportKind names a transport error without its addresses, so equal
// failures group.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

func report(c config, att []attempt, col *collector, start, issued time.Time, waited time.Duration, notSentLimit, notSentDeadline int64) int {
	var created int
	var createLat, lag, toRinging, toAnswered, answeredToDone []float64
	errs := map[string]int{}
	finals := map[string]int{}
	var noCompleted, noCompletedAnswered, noAnswered, dups int
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	var cw *bufio.Writer
	if c.callsFile != "" {
		f, err := os.Create(c.callsFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "restload:", err)
		} else {
			defer f.Close()
			cw = bufio.NewWriter(f)
			defer cw.Flush()
			fmt.Fprintln(cw, "i\tsid\tdue_ms\tsent_ms\tcreated_ms\tringing_ms\tanswered_ms\tcompleted_ms\tstatus")
		}
	}
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return strconv.FormatFloat(ms(t.Sub(start)), 'f', 2, 64)
	}
	for i := range att {
		a := &att[i]
		if !a.sent.IsZero() {
			lag = append(lag, ms(a.sent.Sub(a.due)))
		}
		if a.result != "" {
			errs[a.result]++
			if cw != nil {
				fmt.Fprintf(cw, "%d\t-\t%s\t%s\t%s\t-\t-\t-\t%s\n", i, rel(a.due), rel(a.sent), rel(a.done), a.result)
			}
			continue
		}
		created++
		createLat = append(createLat, ms(a.done.Sub(a.sent)))
		p := col.calls[a.sid]
		if p == nil {
			p = &progress{}
		}
		dups += p.dup
		if !p.ringing.IsZero() {
			toRinging = append(toRinging, ms(p.ringing.Sub(a.sent)))
		}
		if !p.answered.IsZero() {
			toAnswered = append(toAnswered, ms(p.answered.Sub(a.sent)))
		} else {
			noAnswered++
		}
		if p.completed.IsZero() {
			noCompleted++
			if !p.answered.IsZero() {
				noCompletedAnswered++
			}
		} else {
			finals[p.final]++
			if !p.answered.IsZero() {
				answeredToDone = append(answeredToDone, ms(p.completed.Sub(p.answered)))
			}
		}
		if cw != nil {
			st := p.final
			if st == "" {
				st = "(no completed callback)"
			}
			fmt.Fprintf(cw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i, a.sid, rel(a.due), rel(a.sent), rel(a.done),
				rel(p.ringing), rel(p.answered), rel(p.completed), st)
		}
	}
	known := map[string]bool{}
	for i := range att {
		if att[i].sid != "" {
			known[att[i].sid] = true
		}
	}
	unknown := 0
	for sid := range col.calls {
		if !known[sid] {
			unknown++
		}
	}

	total := len(att)
	sent := total - int(notSentLimit) - int(notSentDeadline)
	span := issued.Sub(start).Seconds()
	createErrs := total - created
	fmt.Printf("\n== restload%s: %d calls at %d/s for %d s\n", labelSuffix(c.label), total, c.rate, c.seconds)
	fmt.Printf("creates: sent %d over %.2f s (%.1f/s, first to last), 201 Created %d, failed %d, not sent %d (max in flight %d, deadline %d)\n",
		sent, span, float64(max(sent-1, 0))/max(span, 0.001), created, createErrs-int(notSentLimit)-int(notSentDeadline),
		notSentLimit+notSentDeadline, notSentLimit, notSentDeadline)
	if len(errs) > 0 {
		fmt.Printf("  create failures by kind:%s\n", kinds(errs))
	}
	fmt.Printf("create latency (ms, POST sent -> 201 read): %s\n", stats(createLat, false))
	fmt.Printf("pacer lateness (ms, create sent after it was due): %s\n", stats(lag, false))
	fmt.Printf("create->ringing (ms, POST sent -> ringing callback): %s\n", stats(toRinging, true))
	fmt.Printf("create->answered (ms, POST sent -> in-progress callback): %s\n", stats(toAnswered, true))
	fmt.Printf("answered->completed (ms, callbacks): %s\n", stats(answeredToDone, false))
	fmt.Printf("completed callbacks: %d of %d created:%s\n", created-noCompleted, created, kinds(finals))
	fmt.Printf("no answered callback: %d; no completed callback: %d (%d of them answered; waited %.1f s of at most %s after the creates)\n",
		noAnswered, noCompleted, noCompletedAnswered, waited.Seconds(), c.wait)
	fmt.Printf("status callbacks received: %d (duplicates %d, for unknown calls %d, unreadable %d)\n", col.total, dups, unknown, col.badForm)

	failedCalls := created - finals["completed"]
	p := func(v []float64, q float64) string {
		if len(v) == 0 {
			return "-"
		}
		return strconv.FormatFloat(pct(v, q), 'f', 2, 64)
	}
	fmt.Printf("RESULT calls=%d created=%d create_errors=%d answered=%d completed=%d not_completed=%d no_completed_callback=%d create_p50_ms=%s create_p99_ms=%s answered_p50_ms=%s answered_p99_ms=%s answered_max_ms=%s lag_max_ms=%s\n",
		total, created, createErrs, len(toAnswered), finals["completed"], failedCalls, noCompleted,
		p(createLat, 50), p(createLat, 99), p(toAnswered, 50), p(toAnswered, 99), p(toAnswered, 100), p(lag, 100))
	if createErrs == 0 && failedCalls == 0 && noAnswered == 0 {
		return 0
	}
	return 1
}

// kinds prints counts by name, largest first.
func kinds(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || (l[i].n == l[j].n && l[i].k < l[j].k) })
	var b strings.Builder
	for _, e := range l {
		fmt.Fprintf(&b, " %s=%d", e.k, e.n)
	}
	return b.String()
}

// stats is "p50 A  p90 B  p99 C  max D (n N)" of v (sorted in place).
func stats(v []float64, p90 bool) string {
	if len(v) == 0 {
		return "none"
	}
	sort.Float64s(v)
	s := fmt.Sprintf("p50 %.2f", pct(v, 50))
	if p90 {
		s += fmt.Sprintf("  p90 %.2f", pct(v, 90))
	}
	return s + fmt.Sprintf("  p99 %.2f  max %.2f (n %d)", pct(v, 99), v[len(v)-1], len(v))
}

// pct is the q-th percentile of sorted v, nearest rank (as run.sh's pct).
func pct(v []float64, q float64) float64 {
	if !sort.Float64sAreSorted(v) {
		sort.Float64s(v)
	}
	r := int(float64(len(v))*q/100 + 0.999999)
	if r < 1 {
		r = 1
	}
	if r > len(v) {
		r = len(v)
	}
	return v[r-1]
}
