package sip_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// A server that answers calls to one number with a tone and turns the rest
// away with 404.
func ExampleServer() {
	engine, err := media.NewEngine(media.EngineConfig{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:5060", Media: engine},
		sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
			if call.RequestUser != "+14155550100" {
				_ = call.Reject(404, "")
				return
			}
			log.Printf("webhook parameters: %v", call.WebhookParams())
			_ = call.Ringing()
			leg, err := call.Answer(ctx)
			if err != nil {
				return
			}
			_ = leg.Media().Play(ctx, sine(440, 2*time.Second))
			_ = leg.Hangup(ctx)
		}))
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	if err := srv.ListenAndServe(ctx); err != nil {
		log.Fatal(err)
	}
}

// Dialing out: the Leg once answered, or the SIP status that ended the
// attempt.
func ExampleServer_Dial() {
	var srv *sip.Server // a started server
	ctx := context.Background()
	leg, err := srv.Dial(ctx, sip.DialRequest{
		URI:     "sip:+14155550100@trunk.example.com;transport=tcp?X-Campaign=spring",
		From:    "+14155550199",
		Timeout: 30 * time.Second,
	})
	var de *sip.DialError
	switch {
	case errors.As(err, &de) && de.Code == 486:
		fmt.Println("busy")
	case errors.Is(err, sip.ErrNoAnswer):
		fmt.Println("no answer")
	case err != nil:
		fmt.Println("failed:", err)
	default:
		defer leg.Hangup(ctx)
		_ = leg.Media().SendDTMF(ctx, "1234#")
	}
}
