package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// TestNumberVariantCannotTakeCalls: a subaccount trying to register
// "15551234567" beside its parent's "+15551234567" is refused (400, 21422),
// and an INVITE to any spelling of the number (without the '+', with dashes,
// percent-encoded) reaches the parent's number.
func TestNumberVariantCannotTakeCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	c := e.rest()
	busy := `<Response><Reject reason="busy"/></Response>`
	e.app.twiml("/owner", busy)
	e.app.twiml("/thief", busy)
	if _, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PhoneNumber: ptr("+15551234567"), VoiceUrl: ptr(e.app.url("/owner")),
	}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Api.CreateAccount(&openapi.CreateAccountParams{FriendlyName: ptr("tenant")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PathAccountSid: sub.Sid, PhoneNumber: ptr("15551234567"), VoiceUrl: ptr(e.app.url("/thief")),
	})
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 || te.Code != 21422 {
		t.Fatalf("subaccount registering 15551234567 beside +15551234567: %v, want 400 with 21422", err)
	}

	for i, user := range []string{"15551234567", "+15551234567", "+1-555-123-4567", "%2B15551234567"} {
		res, _, err := e.call(user, softphone.Script{})
		if err == nil || res.StatusCode != 486 {
			t.Errorf("call to %s: %+v %v, want the owner's 486", user, res, err)
		}
		got := e.app.waitFor("/owner", i+1, 10*time.Second)
		if p := got[i].Params; p.Get("AccountSid") != testSID || p.Get("To") != "+15551234567" {
			t.Errorf("call to %s: webhook AccountSid %s To %s, want %s +15551234567", user, p.Get("AccountSid"), p.Get("To"), testSID)
		}
	}
	if n := len(e.app.got("/thief")); n != 0 {
		t.Errorf("the subaccount's URL got %d requests", n)
	}
}
