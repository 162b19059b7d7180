package webhook_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// TestSignTwilioVector checks the signature twilio-go's own tests use.
func TestSignTwilioVector(t *testing.T) {
	params := url.Values{
		"Digits":                {"1234"},
		"CallSid":               {"CA1234567890ABCDE"},
		"To":                    {"+18005551212"},
		"Caller":                {"+14158675309"},
		"From":                  {"+14158675309"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
	got := webhook.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

// TestSignAcceptedByTwilioGo signs requests of every shape and has twilio-go's
// RequestValidator check them, as an app would.
func TestSignAcceptedByTwilioGo(t *testing.T) {
	callParams := url.Values{
		"CallSid":    {"CA0123456789abcdef0123456789abcdef"},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"},
		"From":       {"+15005550006"},
		"To":         {"sip:support@example.com"},
		"CallStatus": {"ringing"},
		"ApiVersion": {"2010-04-01"},
		"Direction":  {"inbound"},
	}
	unicode := url.Values{
		"CallerName":       {"山田 太郎"},
		"SipHeader_X-Note": {"café ☕, 100% & more=yes"},
		"Digits":           {""},
		"Ünïcode":          {"ü"},
	}
	tests := []struct {
		name   string
		url    string
		params url.Values // POST parameters; nil for a GET
	}{
		{"post https", "https://example.com/voice", callParams},
		{"post https default port", "https://example.com:443/voice", callParams},
		{"post https other port", "https://example.com:8443/voice", callParams},
		{"post http port", "http://127.0.0.1:8080/voice", callParams},
		{"post with query", "https://example.com/voice?tenant=a&x=1%202", callParams},
		{"post unicode", "https://example.com/voice", unicode},
		{"post no params", "https://example.com/voice", url.Values{}},
		{"get", "https://example.com/voice?" + callParams.Encode(), nil},
		{"get port", "http://127.0.0.1:8080/voice?a=1&" + unicode.Encode(), nil},
	}
	v := client.NewRequestValidator(testToken)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := webhook.Sign(testToken, tt.url, tt.params)
			if !v.Validate(tt.url, first(tt.params), sig) {
				t.Errorf("twilio-go rejects the signature of %s %v", tt.url, tt.params)
			}
			if v.Validate(tt.url, first(tt.params), webhook.Sign("another-token", tt.url, tt.params)) {
				t.Errorf("twilio-go accepts a signature made with another token")
			}
			if tt.params != nil && len(tt.params) > 0 {
				tampered := url.Values{}
				for k, vs := range tt.params {
					tampered[k] = append([]string(nil), vs...)
				}
				tampered.Set("CallSid", "CAforged")
				if v.Validate(tt.url, first(tampered), sig) {
					t.Errorf("twilio-go accepts the signature for tampered parameters")
				}
			}
		})
	}
}

// TestSignRepeatedParams checks a name with several values against the
// algorithm of Twilio's node and python validators (each distinct value,
// sorted, each preceded by the name), written out independently here.
func TestSignRepeatedParams(t *testing.T) {
	params := url.Values{
		"SipHeader_X-B": {"2", "1", "2"},
		"A":             {"z"},
	}
	const u = "https://example.com/cb"
	mac := hmac.New(sha1.New, []byte(testToken))
	mac.Write([]byte(u + "Az" + "SipHeader_X-B1" + "SipHeader_X-B2"))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign(testToken, u, params); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	// Order of values as given must not matter.
	params["SipHeader_X-B"] = []string{"1", "2"}
	if got := webhook.Sign(testToken, u, params); got != want {
		t.Fatalf("Sign with reordered values = %q, want %q", got, want)
	}
}

func TestSignIsOrderIndependent(t *testing.T) {
	a := url.Values{}
	b := url.Values{}
	names := []string{"To", "From", "CallSid", "a", "B", "_", "Z1", "Z10", "Z2"}
	for i, n := range names {
		a.Set(n, n+"v")
		b.Set(names[len(names)-1-i], names[len(names)-1-i]+"v")
	}
	if webhook.Sign(testToken, "https://x.example/", a) != webhook.Sign(testToken, "https://x.example/", b) {
		t.Fatal("signature depends on insertion order")
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	data := "https://x.example/"
	for _, n := range sorted {
		data += n + n + "v"
	}
	mac := hmac.New(sha1.New, []byte(testToken))
	mac.Write([]byte(data))
	if got, want := webhook.Sign(testToken, "https://x.example/", a), base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("Sign = %q, want %q (byte-order sort)", got, want)
	}
}

func BenchmarkSign(b *testing.B) {
	p := webhook.CallParams{
		CallSID: "CA0123456789abcdef0123456789abcdef", AccountSID: "AC0123456789abcdef0123456789abcdef",
		From: "+15005550006", To: "+15005550001", CallStatus: "ringing", Direction: "inbound",
	}.Values()
	b.ReportAllocs()
	for b.Loop() {
		webhook.Sign(testToken, "https://example.com/voice", p)
	}
}
