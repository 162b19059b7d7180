package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// exchangeTimeout bounds storing a batch of webhook exchanges in the event
// log.
const exchangeTimeout = 5 * time.Second

// Exchange events are written in batches by one goroutine, off the call's
// path: a call does not wait for the record of its own webhooks (nothing
// depends on it; a call's status changes and their callbacks are written
// with the call, synchronously). While a batch is being written the next one
// gathers, so batches grow with the load and a lone event waits for nothing.
const (
	exchangeQueue = 8192 // events waiting; beyond it the caller writes itself
	exchangeBatch = 256  // events per transaction at most
)

// exchangeLog writes webhook exchange events in batches.
type exchangeLog struct {
	store interface {
		AppendEvents(ctx context.Context, evs []store.Event) error
	}
	log  *slog.Logger
	ch   chan store.Event
	done chan struct{}

	// mu guards closed: add sends on ch only while it is open (a webhook
	// abandoned at shutdown may still report late).
	mu     sync.RWMutex
	closed bool
}

func newExchangeLog(st store.Store, log *slog.Logger) *exchangeLog {
	l := &exchangeLog{store: st, log: log, ch: make(chan store.Event, exchangeQueue), done: make(chan struct{})}
	go l.run()
	return l
}

// add queues ev; when the queue is full it is written at once, so that none
// is dropped.
func (l *exchangeLog) add(ev store.Event) {
	l.mu.RLock()
	if !l.closed {
		select {
		case l.ch <- ev:
			l.mu.RUnlock()
			return
		default:
		}
	}
	l.mu.RUnlock()
	l.write([]store.Event{ev})
}

func (l *exchangeLog) run() {
	defer close(l.done)
	batch := make([]store.Event, 0, exchangeBatch)
	for ev := range l.ch {
		batch = append(batch[:0], ev)
	gather:
		for len(batch) < exchangeBatch {
			select {
			case ev, ok := <-l.ch:
				if !ok {
					break gather
				}
				batch = append(batch, ev)
			default:
				break gather
			}
		}
		l.write(batch)
		clear(batch)
	}
}

func (l *exchangeLog) write(evs []store.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
	defer cancel()
	if err := l.store.AppendEvents(ctx, evs); err != nil {
		l.log.Warn("cannot store webhook exchanges", "events", len(evs), "err", err)
	}
}

// close writes what is queued and stops; later events are written one by
// one.
func (l *exchangeLog) close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.ch)
	}
	l.mu.Unlock()
	<-l.done
}

// callEvent is the payload of a webhook event: Twilio's Call Event resource
// (request and response), which GET .../Calls/{Sid}/Events.json serves.
type callEvent struct {
	Request  callEventRequest  `json:"request"`
	Response callEventResponse `json:"response"`
}

type callEventRequest struct {
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Parameters map[string]string `json:"parameters"`
}

type callEventResponse struct {
	ResponseCode    int    `json:"response_code"`
	RequestDuration int64  `json:"request_duration"` // milliseconds
	ContentType     string `json:"content_type"`
	ResponseBody    string `json:"response_body"`
	DateCreated     string `json:"date_created"`
	Error           string `json:"error,omitempty"`
}

// logExchange logs one request to the user's app and stores it in the
// call's event log.
func (s *Server) logExchange(ex webhook.Exchange) {
	ms := ex.Duration.Milliseconds()
	if ex.Err != nil {
		s.log.Info("webhook", "call", ex.CallSID, "method", ex.Method, "url", ex.URL, "status", ex.Status, "ms", ms, "err", ex.Err)
	} else {
		s.log.Info("webhook", "call", ex.CallSID, "method", ex.Method, "url", ex.URL, "status", ex.Status, "ms", ms)
	}
	if ex.AccountSID == "" || ex.CallSID == "" {
		return
	}
	params := make(map[string]string, len(ex.Params))
	for k, v := range ex.Params {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	ev := callEvent{
		Request: callEventRequest{Method: ex.Method, URL: ex.URL, Parameters: params},
		Response: callEventResponse{
			ResponseCode: ex.Status, RequestDuration: ms, ContentType: ex.ContentType,
			ResponseBody: string(ex.Body), DateCreated: ex.Start.UTC().Format(time.RFC1123Z),
		},
	}
	if ex.Err != nil {
		ev.Response.Error = ex.Err.Error()
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return
	}
	s.exchanges.add(store.Event{
		AccountSID: ex.AccountSID, CallSID: ex.CallSID, ResourceSID: ex.CallSID,
		Type: store.EventWebhook, Name: "request", Time: ex.Start.UTC(), Payload: payload,
	})
}
