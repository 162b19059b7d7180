package webhook_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func TestCallParamsValues(t *testing.T) {
	tests := []struct {
		name string
		in   webhook.CallParams
		want url.Values
	}{
		{
			name: "inbound, optional parameters omitted",
			in: webhook.CallParams{
				CallSID: "CA1", AccountSID: "AC1", From: "+15005550006", To: "+15005550001",
				CallStatus: "ringing", Direction: webhook.DirectionInbound,
			},
			want: url.Values{
				"CallSid": {"CA1"}, "AccountSid": {"AC1"},
				"From": {"+15005550006"}, "Caller": {"+15005550006"},
				"To": {"+15005550001"}, "Called": {"+15005550001"},
				"CallStatus": {"ringing"}, "ApiVersion": {"2010-04-01"}, "Direction": {"inbound"},
			},
		},
		{
			name: "dialed leg with every optional parameter",
			in: webhook.CallParams{
				CallSID: "CA2", AccountSID: "AC1", From: "client:tommy", To: "client:joey",
				CallStatus: "in-progress", APIVersion: "2008-08-01", Direction: webhook.DirectionOutboundDial,
				ForwardedFrom: "+15005550002", CallerName: "Tommy", ParentCallSID: "CA1",
				FromCity: "BOSTON", FromState: "MA", FromZip: "02101", FromCountry: "US",
				ToCity: "TOKYO", ToCountry: "JP",
				Extra: url.Values{"Digits": {"12#"}},
			},
			want: url.Values{
				"CallSid": {"CA2"}, "AccountSid": {"AC1"},
				"From": {"client:tommy"}, "Caller": {"client:tommy"},
				"To": {"client:joey"}, "Called": {"client:joey"},
				"CallStatus": {"in-progress"}, "ApiVersion": {"2008-08-01"}, "Direction": {"outbound-dial"},
				"ForwardedFrom": {"+15005550002"}, "CallerName": {"Tommy"}, "ParentCallSid": {"CA1"},
				"FromCity": {"BOSTON"}, "CallerCity": {"BOSTON"}, "FromState": {"MA"}, "CallerState": {"MA"},
				"FromZip": {"02101"}, "CallerZip": {"02101"}, "FromCountry": {"US"}, "CallerCountry": {"US"},
				"ToCity": {"TOKYO"}, "CalledCity": {"TOKYO"}, "ToCountry": {"JP"}, "CalledCountry": {"JP"},
				"Digits": {"12#"},
			},
		},
		{
			name: "sip: only X- and User-to-User headers pass",
			in: webhook.CallParams{
				CallSID: "CA3", AccountSID: "AC1", From: "sip:alice@127.0.0.1", To: "sip:support@127.0.0.1",
				CallStatus: "ringing", Direction: webhook.DirectionInbound,
				SIPDomain: "127.0.0.1", SIPCallID: "abc@127.0.0.1", SIPSourceIP: "127.0.0.1", SIPUsername: "alice",
				SIPHeaders: map[string][]string{
					"X-Customer":   {"42"},
					"x-multi":      {"a", "b"},
					"User-to-User": {"56a390f3d2b7310023a2;encoding=hex"},
					"Via":          {"SIP/2.0/UDP 127.0.0.1"},
					"X-Bad Name":   {"dropped"},
					"X-":           {"dropped"},
				},
			},
			want: url.Values{
				"CallSid": {"CA3"}, "AccountSid": {"AC1"},
				"From": {"sip:alice@127.0.0.1"}, "Caller": {"sip:alice@127.0.0.1"},
				"To": {"sip:support@127.0.0.1"}, "Called": {"sip:support@127.0.0.1"},
				"CallStatus": {"ringing"}, "ApiVersion": {"2010-04-01"}, "Direction": {"inbound"},
				"SipDomain": {"127.0.0.1"}, "SipCallId": {"abc@127.0.0.1"}, "SipSourceIp": {"127.0.0.1"},
				"SipUsername":            {"alice"},
				"SipHeader_X-Customer":   {"42"},
				"SipHeader_x-multi":      {"a,b"},
				"SipHeader_User-to-User": {"56a390f3d2b7310023a2;encoding=hex"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.Values()); diff != "" {
				t.Errorf("Values() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusEventValues(t *testing.T) {
	call := webhook.CallParams{CallSID: "CA1", AccountSID: "AC1", From: "+1", To: "+2", CallStatus: "completed", Direction: "inbound"}
	tests := []struct {
		name string
		ev   webhook.StatusEvent
		want map[string]string // parameters beyond the call's; "" means absent
	}{
		{"ringing", webhook.StatusEvent{Call: call}, map[string]string{"CallDuration": "", "Duration": "", "RecordingUrl": ""}},
		{"completed", webhook.StatusEvent{Call: call, Final: true, CallDuration: 61*time.Second + 900*time.Millisecond},
			map[string]string{"CallDuration": "61", "Duration": "2", "RecordingUrl": "", "RecordingDuration": ""}},
		{"completed zero", webhook.StatusEvent{Call: call, Final: true}, map[string]string{"CallDuration": "0", "Duration": "0"}},
		{"completed with recording and sip code", webhook.StatusEvent{
			Call: call, Final: true, CallDuration: 5 * time.Second,
			RecordingURL: "http://127.0.0.1/r/RE1", RecordingSID: "RE1", RecordingDuration: 4 * time.Second, SIPResponseCode: 200,
		}, map[string]string{"CallDuration": "5", "Duration": "1", "RecordingUrl": "http://127.0.0.1/r/RE1", "RecordingSid": "RE1", "RecordingDuration": "4", "SipResponseCode": "200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.ev.Values()
			if v.Get("CallSid") != "CA1" || v.Get("CallStatus") != "completed" {
				t.Errorf("call parameters missing: %v", v)
			}
			for name, want := range tt.want {
				if want == "" {
					if _, ok := v[name]; ok {
						t.Errorf("%s = %q, want absent", name, v.Get(name))
					}
					continue
				}
				if got := v.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestFormatTimestamp(t *testing.T) {
	// The seed's example: 2010-08-20 10:13:42 in Japan is "Fri, 20 Aug 2010 01:13:42 +0000".
	jst := time.FixedZone("JST", 9*3600)
	got := webhook.FormatTimestamp(time.Date(2010, 8, 20, 10, 13, 42, 0, jst))
	if want := "Fri, 20 Aug 2010 01:13:42 +0000"; got != want {
		t.Fatalf("FormatTimestamp = %q, want %q", got, want)
	}
}

func BenchmarkCallParamsValues(b *testing.B) {
	p := webhook.CallParams{
		CallSID: "CA0123456789abcdef0123456789abcdef", AccountSID: "AC0123456789abcdef0123456789abcdef",
		From: "+15005550006", To: "+15005550001", CallStatus: "ringing", Direction: "inbound",
		SIPCallID: "abc@127.0.0.1", SIPSourceIP: "127.0.0.1", SIPHeaders: map[string][]string{"X-Customer": {"42"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Values()
	}
}
