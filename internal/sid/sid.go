package sid

import (
	"crypto/rand"
	"encoding/hex"
)

// Prefixes of the resources switchboard names, as Twilio spells them.
const (
	Account             = "AC"
	IncomingPhoneNumber = "PN"
	Call                = "CA"
	Conference          = "CF"
	Recording           = "RE"
	Notification        = "NO"
	Application         = "AP"
	Queue               = "QU"
)

// hexDigits is the number of hexadecimal digits after the prefix.
const hexDigits = 32

// Len is the length of a SID with a two-letter prefix.
const Len = 2 + hexDigits

// New returns prefix followed by 32 lower-case hexadecimal digits drawn from
// crypto/rand.
func New(prefix string) string {
	var raw [hexDigits / 2]byte
	// crypto/rand.Read never returns an error on supported platforms; it
	// crashes the program irrecoverably instead (Go 1.24+).
	_, _ = rand.Read(raw[:])
	// A stack buffer keeps New to one allocation (the string) for the
	// two-letter prefixes switchboard uses.
	var buf [2*hexDigits + 2]byte
	b := buf[:0]
	if len(prefix)+hexDigits > len(buf) {
		b = make([]byte, 0, len(prefix)+hexDigits)
	}
	b = append(b, prefix...)
	b = b[:len(prefix)+hexDigits]
	hex.Encode(b[len(prefix):], raw[:])
	return string(b)
}

// NewToken returns a new auth token: 32 lower-case hexadecimal digits.
func NewToken() string { return New("") }

// Valid reports whether s is prefix followed by exactly 32 hexadecimal digits
// of either case. An empty prefix checks a bare 32-digit value such as an auth
// token.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+hexDigits || s[:len(prefix)] != prefix {
		return false
	}
	return isHex(s[len(prefix):])
}

// ValidToken reports whether s has the form of an auth token (32 hex digits).
func ValidToken(s string) bool { return Valid("", s) }

// Prefix returns the two-letter prefix of s when s is a well-formed SID (two
// upper-case letters and 32 hex digits), or "" when it is not.
func Prefix(s string) string {
	if len(s) != Len || !isUpper(s[0]) || !isUpper(s[1]) || !isHex(s[2:]) {
		return ""
	}
	return s[:2]
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
