package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// exchangeTimeout bounds storing a webhook exchange in the event log.
const exchangeTimeout = 5 * time.Second

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
	ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
	defer cancel()
	if _, err := s.store.AppendEvent(ctx, store.Event{
		AccountSID: ex.AccountSID, CallSID: ex.CallSID, ResourceSID: ex.CallSID,
		Type: store.EventWebhook, Name: "request", Time: ex.Start.UTC(), Payload: payload,
	}, nil); err != nil {
		s.log.Warn("cannot store a webhook exchange", "call", ex.CallSID, "err", err)
	}
}
