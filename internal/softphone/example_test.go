package softphone_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// Calling a TwiML application served by switchboard on 127.0.0.1:5060: play
// a greeting, press 1 and #, record what the application says.
func ExamplePhone_Call() {
	phone, err := softphone.Start(softphone.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer phone.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := phone.Call(ctx, softphone.Options{
		URI: "sip:+14155550100@127.0.0.1:5060",
		Script: softphone.Script{
			PlayFile: "hello.wav",
			Digits:   "w1#",
			Record:   "heard.wav",
			Duration: 20 * time.Second,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d after %s, ended by %s, digits back: %q\n", res.StatusCode, res.Talk, res.End, res.Digits)
}
