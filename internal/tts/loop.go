package tts

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxLoop is how many times a <Say loop="0"> is spoken. Twilio repeats such a
// <Say> until the call ends; switchboard bounds every loop, at 1,000
// repetitions, which is also the bound commonly reported for Twilio.
const MaxLoop = 1000

// ParseLoop reads a <Say> loop attribute
// (https://www.twilio.com/docs/voice/twiml/say#attributes-loop) into the number
// of times to play the speech: "" means 1 (the default), "0" means MaxLoop,
// larger values are capped at MaxLoop. Anything else (negative, not an
// integer) returns 1 and an error wrapping ErrInvalidLoop, Twilio's warning
// 13510: the <Say> is still spoken once.
func ParseLoop(attr string) (int, error) {
	s := strings.TrimSpace(attr)
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil && isDigits(s):
		return MaxLoop, nil // an integer too large for int
	case err != nil || n < 0:
		return 1, fmt.Errorf("%w: %q", ErrInvalidLoop, attr)
	case n == 0 || n > MaxLoop:
		return MaxLoop, nil
	}
	return n, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
