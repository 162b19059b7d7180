package server_test

import (
	"strconv"
	"testing"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// rest returns the official client pointed at the server.
func (e *env) rest() *twilio.RestClient {
	rc, _ := e.restClient()
	return rc
}

// The call a real caller placed, and the problems its app caused, are seen
// through the REST API with the official client.
func TestCallsAndNotificationsThroughTwilioGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Play>/missing.wav</Play><Pause length="1"/></Response>`)
	res, _, err := e.call("support", softphone.Script{})
	if err != nil || !res.Answered {
		t.Fatalf("%+v %v", res, err)
	}
	rec := e.finalCall()
	c := e.rest()

	calls, err := c.Api.ListCall(&openapi.ListCallParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("ListCall: %d calls", len(calls))
	}
	call := calls[0]
	check := func(name string, got *string, want string) {
		t.Helper()
		if got == nil || *got != want {
			g := "<nil>"
			if got != nil {
				g = *got
			}
			t.Errorf("%s = %q, want %q", name, g, want)
		}
	}
	check("sid", call.Sid, rec.SID)
	check("status", call.Status, "completed")
	check("direction", call.Direction, "inbound")
	check("from", call.From, "+15550001234")
	check("to", call.To, "support")
	check("duration", call.Duration, strconv.Itoa(rec.Duration))
	check("api_version", call.ApiVersion, "2010-04-01")
	if call.StartTime == nil || call.EndTime == nil {
		t.Errorf("start_time/end_time missing: %+v", call)
	}

	fetched, err := c.Api.FetchCall(rec.SID, &openapi.FetchCallParams{})
	if err != nil {
		t.Fatal(err)
	}
	check("fetched sid", fetched.Sid, rec.SID)

	completed := "completed"
	if got, err := c.Api.ListCall(&openapi.ListCallParams{Status: &completed, To: ptr("support")}); err != nil || len(got) != 1 {
		t.Errorf("ListCall(Status=completed, To=support) = %d, %v", len(got), err)
	}
	busy := "busy"
	if got, err := c.Api.ListCall(&openapi.ListCallParams{Status: &busy}); err != nil || len(got) != 0 {
		t.Errorf("ListCall(Status=busy) = %d, %v", len(got), err)
	}

	ns, err := c.Api.ListCallNotification(rec.SID, &openapi.ListCallNotificationParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].ErrorCode == nil || *ns[0].ErrorCode != "11200" {
		t.Fatalf("call notifications %+v, want one 11200", ns)
	}
	n, err := c.Api.FetchNotification(*ns[0].Sid, &openapi.FetchNotificationParams{})
	if err != nil {
		t.Fatal(err)
	}
	if n.RequestUrl == nil || *n.RequestUrl != e.app.url("/missing.wav") {
		t.Errorf("notification request_url %v", n.RequestUrl)
	}

	_, err = c.Api.FetchCall("CA00000000000000000000000000000000", &openapi.FetchCallParams{})
	if rerr, ok := err.(*client.TwilioRestError); !ok || rerr.Code != 20404 {
		t.Errorf("unknown call: %v, want a 20404 TwilioRestError", err)
	}
}

func ptr(s string) *string { return &s }
