package sip

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func crlfBytes(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

const shedInvite = `INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-b
f: <sip:alice@example.com>;tag=x1
t: <sip:bob@example.com>
i: call-1@10.0.0.1
CSeq: 7 INVITE
Contact: <sip:alice@10.0.0.1>
Content-Length: 0

`

// shed503 answers only a new INVITE it can read for certain, copying the
// headers a response carries; the ACK of its 503 is recognised by the tag.
func TestShed503(t *testing.T) {
	answer := func(msg string, retry time.Duration) []byte {
		var inv rawInvite
		if ok, _ := readInvite(crlfBytes(msg), &inv, nil); !ok {
			return nil
		}
		return shed503(&inv, "switchboard", retry)
	}
	res := answer(shedInvite, 1500*time.Millisecond)
	if res == nil {
		t.Fatal("a plain new INVITE was not answered")
	}
	want := []string{"SIP/2.0 503 Service Unavailable\r\n", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-b\r\n",
		"f: <sip:alice@example.com>;tag=x1\r\n", "t: <sip:bob@example.com>;tag=sb503", "i: call-1@10.0.0.1\r\n", "CSeq: 7 INVITE\r\n",
		"Retry-After: 2\r\n", "Server: switchboard\r\n", "Content-Length: 0\r\n\r\n"}
	for _, w := range want {
		if !bytes.Contains(res, []byte(w)) {
			t.Errorf("503 lacks %q:\n%s", w, res)
		}
	}
	again := answer(shedInvite, time.Second)
	tagOf := func(b []byte) string {
		_, after, _ := strings.Cut(string(b), ";tag=sb503")
		tag, _, _ := strings.Cut(after, "\r\n")
		return tag
	}
	if tagOf(again) != tagOf(res) {
		t.Errorf("a retransmission's tag %q, want %q", tagOf(again), tagOf(res))
	}
	other := answer(strings.Replace(shedInvite, "call-1", "call-2", 1), time.Second)
	if tagOf(other) == tagOf(res) {
		t.Errorf("another call got the same tag %q", tagOf(other))
	}

	for _, tc := range []struct{ name, msg string }{
		{"re-INVITE", strings.Replace(shedInvite, "t: <sip:bob@example.com>", "t: <sip:bob@example.com>;tag=9", 1)},
		{"quoted To", strings.Replace(shedInvite, "t: <sip:bob@example.com>", `t: "a;tag=1" <sip:bob@example.com>`, 1)},
		{"no CSeq", strings.Replace(shedInvite, "CSeq: 7 INVITE\n", "", 1)},
		{"no Via", strings.NewReplacer("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a\n", "", "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-b\n", "").Replace(shedInvite)},
		{"folded", strings.Replace(shedInvite, "CSeq: 7 INVITE\n", "CSeq: 7\n INVITE\n", 1)},
		{"no end of head", strings.TrimSuffix(shedInvite, "\n")},
		{"OPTIONS", strings.Replace(shedInvite, "INVITE sip:", "OPTIONS sip:", 1)},
		{"SIP/3.0", strings.Replace(shedInvite, " SIP/2.0\n", " SIP/3.0\n", 1)},
		{"line without colon", strings.Replace(shedInvite, "Contact: <sip:alice@10.0.0.1>", "Garbage", 1)},
	} {
		if res := answer(tc.msg, time.Second); res != nil {
			t.Errorf("%s: answered from the bytes:\n%s", tc.name, res)
		}
	}

	ack := "ACK sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a\nf: <sip:alice@example.com>;tag=x1\n" +
		"To: <sip:bob@example.com>;tag=sb503" + tagOf(res) + "\ni: call-1@10.0.0.1\nCSeq: 7 ACK\nContent-Length: 0\n\n"
	if ok, _ := isShedAck(crlfBytes(ack), nil); !ok {
		t.Error("the ACK of a shed 503 not recognised")
	}
	if ok, _ := isShedAck(crlfBytes(strings.Replace(ack, ";tag=sb503", ";tag=abc", 1)), nil); ok {
		t.Error("the ACK of another response taken for a shed one")
	}
}

// queueDelay: a wait over the target starts the clock; the queue stands once
// waits have stayed over it for the interval; one short wait ends it.
func TestQueueDelay(t *testing.T) {
	q := queueDelay{target: 5 * time.Millisecond, interval: 100 * time.Millisecond}
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for i, step := range []struct {
		at, wait         time.Duration
		standing, change bool
	}{
		{0, 1 * ms, false, false},
		{10 * ms, 20 * ms, false, false},  // over: the clock starts
		{60 * ms, 30 * ms, false, false},  // 50 ms over
		{110 * ms, 6 * ms, true, true},    // 100 ms over: stands
		{150 * ms, 40 * ms, true, false},  // still
		{160 * ms, 4 * ms, false, true},   // one short wait: gone
		{170 * ms, 50 * ms, false, false}, // over again: the clock starts again
		{269 * ms, 50 * ms, false, false},
		{270 * ms, 50 * ms, true, true},
	} {
		standing, changed := q.observe(t0.Add(step.at), step.wait)
		if standing != step.standing || changed != step.change || q.standing.Load() != standing {
			t.Errorf("step %d (wait %v at %v): standing %v changed %v, want %v %v", i, step.wait, step.at, standing, changed, step.standing, step.change)
		}
	}
}

// A recentSet remembers a key for 64*T1, and forgets it then.
func TestRecentSet(t *testing.T) {
	var p recentSet
	t0 := time.Unix(1000, 0)
	p.add([]byte("a@x"), t0)
	p.add([]byte("b@x"), t0.Add(time.Second))
	if !p.has([]byte("a@x"), t0.Add(retransmitWindow-time.Millisecond)) || p.has([]byte("c@x"), t0) {
		t.Fatal("a Call-ID passed on is not remembered, or one never seen is")
	}
	if p.has([]byte("a@x"), t0.Add(retransmitWindow)) {
		t.Error("a Call-ID remembered past 64*T1")
	}
	if !p.has([]byte("b@x"), t0.Add(retransmitWindow)) || len(p.fifo)-p.head != 1 || len(p.until) != 1 {
		t.Errorf("after the first expired: %d queued, %d known, want 1 and 1", len(p.fifo)-p.head, len(p.until))
	}
	// Many, added and expired over time: what is kept stays what is live.
	for i := range 10000 {
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		p.add([]byte(strconv.Itoa(i)), now)
		p.has(nil, now)
	}
	if live := int(retransmitWindow / (10 * time.Millisecond)); len(p.until) > live+1 || len(p.fifo) > 2*live+2 {
		t.Errorf("%d known, %d queued; want about %d live", len(p.until), len(p.fifo), live)
	}
}

// BenchmarkShed503 is the reader's work for one refused INVITE: reading its
// head and writing the 503 (the send aside).
func BenchmarkShed503(b *testing.B) {
	data := crlfBytes(shedInvite)
	var inv rawInvite
	var hs []sipHeader
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if ok, hs = readInvite(data, &inv, hs); !ok {
			b.Fatal("not read")
		}
		_ = shed503(&inv, "switchboard", time.Second)
	}
}
