package sip

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/media"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testLocal is switchboard's side in the golden answers.
var testLocal = localSDP{addr: netip.MustParseAddrPort("198.51.100.1:30000"), id: 42, version: 1}

// describeOffer renders what parseSDP, negotiate and answer make of an offer:
// the golden text for testdata/sdp/NAME.sdp is testdata/sdp/NAME.golden.
func describeOffer(body []byte) string {
	var b strings.Builder
	d, err := parseSDP(body)
	if err != nil {
		code, reason := sdpErrorStatus(err)
		fmt.Fprintf(&b, "error: %d %s\n", code, reason)
		switch {
		case errors.Is(err, ErrNoSharedCodec):
			b.WriteString("kind: no shared codec\n")
		case errors.Is(err, ErrMalformedSDP):
			b.WriteString("kind: malformed\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "remote: %s hold=%v\n", d.addr, d.hold())
	for _, c := range d.codecs {
		fmt.Fprintf(&b, "codec: %s/%d pt %d\n", c.Name, c.ClockRate, c.PayloadType)
	}
	fmt.Fprintf(&b, "telephone-event: pt %d fmtp %q\n", d.eventPT, d.eventFmtp)
	fmt.Fprintf(&b, "direction: %s ptime: %d audio line: %d of %d\n", d.dir, d.ptime, d.audio, len(d.lines))
	n := d.negotiate("")
	fmt.Fprintf(&b, "negotiated: %s pt %d, event pt %d, send to %s, we %s\n", n.codec.Name, n.codec.PayloadType, n.eventPT, n.remote, n.local)
	b.WriteString("--- answer\n")
	b.Write(bytes.ReplaceAll(testLocal.answer(d, n), []byte("\r\n"), []byte("\n")))
	return b.String()
}

func TestSDPGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/sdp/*.sdp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sdp")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := describeOffer(body)
			golden := strings.TrimSuffix(f, ".sdp") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("mismatch for %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
			}
		})
	}
}

// The answer must itself parse as an acceptable description carrying exactly
// one audio codec and telephone-event, with the mirrored direction.
func TestAnswerRoundTrip(t *testing.T) {
	tests := []struct {
		offerDir media.Direction
		hold     bool
		want     media.Direction
	}{
		{media.SendRecv, false, media.SendRecv},
		{media.SendOnly, false, media.RecvOnly},
		{media.RecvOnly, false, media.SendOnly},
		{media.Inactive, false, media.Inactive},
		{media.SendRecv, true, media.RecvOnly},
		{media.RecvOnly, true, media.Inactive},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/hold=%v", tt.offerDir, tt.hold), func(t *testing.T) {
			ip := "192.0.2.10"
			if tt.hold {
				ip = "0.0.0.0"
			}
			offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", ip, ip, tt.offerDir)
			d, err := parseSDP([]byte(offer))
			if err != nil {
				t.Fatal(err)
			}
			n := d.negotiate("")
			if n.local != tt.want {
				t.Fatalf("we %s, want %s", n.local, tt.want)
			}
			ans, err := parseSDP(testLocal.answer(d, n))
			if err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
			if len(ans.codecs) != 1 || ans.codecs[0] != media.PCMA || ans.eventPT != 101 {
				t.Fatalf("answer codecs %v event %d, want PCMA alone and 101", ans.codecs, ans.eventPT)
			}
			if ans.dir != tt.want {
				t.Fatalf("answer says %s, want %s", ans.dir, tt.want)
			}
			if ans.addr != testLocal.addr {
				t.Fatalf("answer address %s, want %s", ans.addr, testLocal.addr)
			}
		})
	}
}

// A re-INVITE keeps the running codec when the new offer still has it.
func TestNegotiateKeepsCodec(t *testing.T) {
	d, err := parseSDP([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.negotiate("PCMA").codec; got != media.PCMA {
		t.Fatalf("kept %v, want PCMA", got)
	}
	if got := d.negotiate("G722").codec; got != media.PCMU {
		t.Fatalf("fallback %v, want PCMU (the offer's first)", got)
	}
}

func TestOfferParsesAsBothCodecs(t *testing.T) {
	d, err := parseSDP(testLocal.offer(media.SendRecv))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.codecs) != 2 || d.codecs[0] != media.PCMU || d.codecs[1] != media.PCMA || d.eventPT != eventPTDefault || d.dir != media.SendRecv {
		t.Fatalf("offer reads back as %+v", d)
	}
}

func TestParseSDPTooLarge(t *testing.T) {
	big := append([]byte("v=0\r\n"), bytes.Repeat([]byte("a=x\r\n"), maxSDPSize)...)
	if _, err := parseSDP(big); !errors.Is(err, ErrMalformedSDP) {
		t.Fatalf("err = %v, want ErrMalformedSDP", err)
	}
	if _, err := parseSDP(nil); !errors.Is(err, ErrMalformedSDP) {
		t.Fatalf("empty: err = %v, want ErrMalformedSDP", err)
	}
}

// FuzzParseSDP: whatever the bytes, parsing never panics; what parses yields
// an answer that parses back to one codec.
func FuzzParseSDP(f *testing.F) {
	files, _ := filepath.Glob("testdata/sdp/*.sdp")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := parseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedSDP) && !errors.Is(err, ErrNoSharedCodec) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(d.codecs) == 0 || d.audio < 0 || d.audio >= len(d.lines) {
			t.Fatalf("accepted description without a usable audio line: %+v", d)
		}
		n := d.negotiate("")
		ans, err := parseSDP(testLocal.answer(d, n))
		if err != nil {
			t.Fatalf("answer to an accepted offer does not parse: %v", err)
		}
		if len(ans.codecs) != 1 {
			t.Fatalf("answer carries %d codecs", len(ans.codecs))
		}
	})
}

func BenchmarkParseSDP(b *testing.B) {
	body, err := os.ReadFile("testdata/sdp/basic.sdp")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseSDP(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnswerSDP(b *testing.B) {
	body, err := os.ReadFile("testdata/sdp/basic.sdp")
	if err != nil {
		b.Fatal(err)
	}
	d, err := parseSDP(body)
	if err != nil {
		b.Fatal(err)
	}
	n := d.negotiate("")
	b.ReportAllocs()
	for b.Loop() {
		_ = testLocal.answer(d, n)
	}
}
