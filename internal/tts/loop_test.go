package tts

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseLoop(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"", 1, false},
		{"1", 1, false},
		{" 3 ", 3, false},
		{"+2", 2, false},
		{"0", MaxLoop, false},
		{"1000", 1000, false},
		{"1001", MaxLoop, false},
		{"99999999999999999999999", MaxLoop, false},
		{"-1", 1, true},
		{"two", 1, true},
		{"1.5", 1, true},
		{"0x10", 1, true},
	}
	for _, tt := range tests {
		n, err := ParseLoop(tt.in)
		if n != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseLoop(%q) = %d, %v; want %d, error %v", tt.in, n, err, tt.want, tt.err)
		}
		if err != nil && (!errors.Is(err, ErrInvalidLoop) || TwilioCode(err) != CodeInvalidLoop) {
			t.Errorf("ParseLoop(%q) error %v is not 13510", tt.in, err)
		}
	}
}

func TestTwilioCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{ErrEmptyText, 13520},
		{fmt.Errorf("wrapped: %w", ErrNothingToSay), 13520},
		{ErrInvalidSSML, 13520},
		{ErrTextTooLong, 13521},
		{ErrInvalidLoop, 13510},
		{ErrEngineNotFound, 0},
		{errors.New("other"), 0},
	}
	for _, tt := range tests {
		if got := TwilioCode(tt.err); got != tt.want {
			t.Errorf("TwilioCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if s := (Warning{13511, "unknown voice"}).String(); s != "13511 unknown voice" {
		t.Errorf("Warning.String() = %q", s)
	}
}

func FuzzParseLoop(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-1", "x", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseLoop(s)
		if n < 1 || n > MaxLoop {
			t.Fatalf("ParseLoop(%q) = %d, outside 1..%d", s, n, MaxLoop)
		}
		if err != nil && !errors.Is(err, ErrInvalidLoop) {
			t.Fatalf("error %v does not wrap ErrInvalidLoop", err)
		}
	})
}
