package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// An app checks the signature with an official helper library.
func ExampleSign() {
	params := url.Values{"CallSid": {"CA123"}, "From": {"+15005550006"}}
	sig := webhook.Sign("token", "https://app.example.com/voice", params)
	v := client.NewRequestValidator("token")
	fmt.Println(v.Validate("https://app.example.com/voice", map[string]string{"CallSid": "CA123", "From": "+15005550006"}, sig))
	// Output: true
}

// Fetch a call's TwiML, then resolve a relative URL found in it.
func ExampleClient_Fetch() {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Redirect>next</Redirect></Response>`)
	}))
	defer app.Close()
	c := webhook.New(webhook.Config{})
	defer c.Close()

	call := webhook.CallParams{CallSID: "CA123", AccountSID: "AC123", From: "+15005550006", To: "+15005550001",
		CallStatus: "ringing", Direction: webhook.DirectionInbound}
	resp, err := c.Fetch(context.Background(), webhook.Request{
		URL: app.URL + "/voice", Method: "POST", Params: call.Values(), AuthToken: "token", Jar: webhook.NewJar(),
	})
	if err != nil {
		fmt.Println("error", err.(*webhook.Error).Code)
		return
	}
	next, _ := webhook.Resolve(resp.URL, "next")
	fmt.Println(resp.Kind, string(resp.Body))
	fmt.Println(next == app.URL+"/next")
	// Output:
	// twiml <Response><Redirect>next</Redirect></Response>
	// true
}
