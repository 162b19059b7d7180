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

// Standing in for a phone that switchboard dials: ring two seconds, answer,
// play a greeting and record the call, for two calls.
func ExamplePhone_Listen() {
	phone, err := softphone.Start(softphone.Config{SIPAddr: "127.0.0.1:5070"})
	if err != nil {
		log.Fatal(err)
	}
	defer phone.Close()
	_, err = phone.Listen(context.Background(), softphone.ListenOptions{
		Calls: 2,
		AnswerOptions: softphone.AnswerOptions{
			Ring:   2 * time.Second,
			Script: softphone.Script{PlayFile: "hello.wav", Record: "heard.wav"}, // heard-1.wav, heard-2.wav
		},
		OnCall: func(n int, res softphone.Result, err error) {
			fmt.Printf("call %d from %s: %s after %s\n", n, res.From.ID(), res.End, res.Talk)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}
