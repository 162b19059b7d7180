package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const sampleRate = 8000

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchapp:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen on ADDR (loopback; port 0 picks a free one)")
	addrFile := flag.String("addr-file", "", "write the address listened on to this FILE")
	mode := flag.String("mode", "say", "TwiML to answer: say, hangup, play or dial")
	dial := flag.String("dial", "", "the SIP URI <Dial><Sip> calls in -mode dial, e.g. sip:uas@127.0.0.1:5080")
	text := flag.String("text", "Thanks for calling the benchmark line. Goodbye.", "what <Say> speaks in -mode say (about 3 s)")
	wavSeconds := flag.Int("wav-seconds", 5, "length of /loop.wav in seconds")
	flag.Parse()

	twiml, err := document(*mode, *text, *dial)
	if err != nil {
		return err
	}
	if *wavSeconds < 1 || *wavSeconds > 600 {
		return fmt.Errorf("-wav-seconds %d: want 1..600", *wavSeconds)
	}
	wav := toneWAV(440, time.Duration(*wavSeconds)*time.Second)

	a := newApp(twiml, wav)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			ln.Close()
			return fmt.Errorf("address file: %w", err)
		}
	}
	fmt.Printf("benchapp: mode %s, listening on %s\n", *mode, ln.Addr())

	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	fmt.Printf("benchapp: served /voice %d times, /loop.wav %d times\n", a.voiceHits.Load(), a.wavHits.Load())
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// app serves the webhook and the audio file, counting requests.
type app struct {
	twiml []byte
	wav   []byte
	etag  string

	voiceHits atomic.Int64
	wavHits   atomic.Int64
}

func newApp(twiml, wav []byte) *app {
	return &app{twiml: twiml, wav: wav, etag: `"loop-` + strconv.Itoa(len(wav)) + `"`}
}

// handler routes /voice (any method: Twilio POSTs by default), /loop.wav and
// /stats.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/voice", func(w http.ResponseWriter, r *http.Request) {
		a.voiceHits.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(a.twiml)))
		w.Write(a.twiml)
	})
	mux.HandleFunc("/loop.wav", func(w http.ResponseWriter, r *http.Request) {
		a.wavHits.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "loop.wav", time.Time{}, bytes.NewReader(a.wav))
	})
	// Any mode: /conference/NAME, /enqueue/NAME and /agent/NAME answer the
	// TwiML that puts the caller in room NAME, in queue NAME, or bridges it
	// to the front of queue NAME.
	for _, kind := range []string{"conference", "enqueue", "agent"} {
		mux.HandleFunc("/"+kind+"/{name}", func(w http.ResponseWriter, r *http.Request) {
			doc, err := namedDocument(kind, r.PathValue("name"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			a.voiceHits.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
			w.Write(doc)
		})
	}
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"voice\":%d,\"wav\":%d}\n", a.voiceHits.Load(), a.wavHits.Load())
	})
	return mux
}

// document returns the TwiML answered in mode (text: what say speaks; dial:
// the SIP URI dial calls).
func document(mode, text, dial string) ([]byte, error) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>"
	switch mode {
	case "say":
		var b bytes.Buffer
		b.WriteString(head + "<Say>")
		if err := xmlEscape(&b, text); err != nil {
			return nil, err
		}
		b.WriteString("</Say><Hangup/></Response>\n")
		return b.Bytes(), nil
	case "hangup":
		return []byte(head + "<Hangup/></Response>\n"), nil
	case "play":
		return []byte(head + `<Play loop="0">/loop.wav</Play></Response>` + "\n"), nil
	case "dial":
		if !strings.HasPrefix(dial, "sip:") {
			return nil, fmt.Errorf("-dial %q: %w", dial, errDial)
		}
		var b bytes.Buffer
		b.WriteString(head + "<Dial><Sip>")
		if err := xmlEscape(&b, dial); err != nil {
			return nil, err
		}
		b.WriteString("</Sip></Dial></Response>\n")
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("-mode %q: %w (want say, hangup, play or dial)", mode, errMode)
}

// namedDocument is the TwiML of kind for name (letters, digits, '-' and
// '_', at most 64): conference puts the caller in room name, no beep on
// entry or exit; enqueue puts it in queue name with the built-in music, and
// keeps it on the line once an agent is done with it (it hangs up itself);
// agent bridges the caller to the front of queue name.
func namedDocument(kind, name string) ([]byte, error) {
	if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return nil, fmt.Errorf("name %q: %w", name, errName)
	}
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>"
	switch kind {
	case "enqueue":
		return []byte(head + "<Enqueue>" + name + `</Enqueue><Pause length="600"/></Response>` + "\n"), nil
	case "agent":
		return []byte(head + "<Dial><Queue>" + name + "</Queue></Dial></Response>\n"), nil
	}
	return []byte(head + `<Dial><Conference beep="false">` + name + "</Conference></Dial></Response>\n"), nil
}

func xmlEscape(b *bytes.Buffer, s string) error {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				return fmt.Errorf("-text: %w %U", errControl, r)
			}
			b.WriteRune(r)
		}
	}
	return nil
}

// toneWAV returns a RIFF/WAVE file (PCM, 16-bit, mono, 8 kHz) holding d of a
// sine at freq Hz, at half scale. freq*d is whole so the file loops cleanly.
func toneWAV(freq float64, d time.Duration) []byte {
	n := int(d.Seconds() * sampleRate)
	data := make([]byte, 2*n)
	for i := range n {
		v := 0.5 * math.Sin(2*math.Pi*freq*float64(i)/sampleRate)
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(v*math.MaxInt16)))
	}
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + len(data)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))             // fmt chunk size
	le(uint16(1))              // PCM
	le(uint16(1))              // mono
	le(uint32(sampleRate))     // sample rate
	le(uint32(2 * sampleRate)) // byte rate
	le(uint16(2))              // block align
	le(uint16(16))             // bits per sample
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}
