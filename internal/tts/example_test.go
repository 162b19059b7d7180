package tts_test

import (
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/tts"
)

func ExampleToKana() {
	fmt.Println(tts.ToKana("東京は晴れです"))
	// Output: トーキョーワハレデス
}

func ExampleSelectVoice() {
	sel := tts.SelectVoice("Polly.Mizuki", "")
	fmt.Println(sel.Language, sel.Gender)
	sel = tts.SelectVoice("robot", "de-DE")
	fmt.Println(sel.Language, sel.Gender, sel.Warnings[0].Code)
	// Output:
	// ja-JP female
	// de-DE male 13511
}

func ExampleBuildSSML() {
	doc, err := tts.BuildSSML(`Hello <break time="500ms"/> world`)
	fmt.Println(doc, err)
	_, err = tts.BuildSSML(`Hello <prosody>world`)
	fmt.Println(tts.TwilioCode(err))
	// Output:
	// <speak>Hello <break time="500ms"/> world</speak> <nil>
	// 13520
}

func ExampleParseLoop() {
	for _, attr := range []string{"", "3", "0", "-1"} {
		n, err := tts.ParseLoop(attr)
		fmt.Println(n, tts.TwilioCode(err))
	}
	// Output:
	// 1 0
	// 3 0
	// 1000 0
	// 1 13510
}
