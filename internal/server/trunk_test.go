package server_test

import (
	"fmt"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// A call to a phone number goes to --trunk, whose digest challenge is
// answered with the credentials of the trunk URI; the trunk (SIPp) checks
// the number in the Request-URI and the credentials, and answers.
func TestCreateCallThroughTrunkWithDigest(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	uas := startUAS(t, "sipp_uas_trunk_auth.xml", 1, 0)
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) {
		c.Trunk = fmt.Sprintf("sip:acme:s3cret@127.0.0.1:%d", uas.port)
	})
	e.number("+15557654321", nil) // From must be one of the account's numbers
	call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
		To: ptr("+1 415 555 0100"), From: ptr("+15557654321"), Twiml: ptr(`<Response><Pause length="1"/></Response>`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if *call.To != "+14155550100" {
		t.Errorf("To = %s, want the number in E.164", *call.To)
	}
	got := e.waitStatus(*call.Sid, string(store.CallCompleted))
	if got.Duration == nil || *got.Duration != "1" {
		t.Errorf("duration %v, want 1 s of <Pause>", got.Duration)
	}
	uas.wait(t, 10*time.Second)
}
