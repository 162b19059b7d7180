package sid

import (
	"crypto/rand"
	"encoding/hex"
	"time"
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

// timeDigits is the number of leading hexadecimal digits of a SID made by
// New that hold its creation time: Unix milliseconds, 48 bits, enough until
// the year 10889.
const timeDigits = 12

// New returns prefix followed by 32 lower-case hexadecimal digits: the first
// 12 are the time in Unix milliseconds, the other 20 (80 bits) are drawn from
// crypto/rand. SIDs made later sort later, like a UUIDv7, so that the
// indexes keyed by SID take new rows at their end instead of at a random
// page each: a call's three writes dirty a few shared pages of the SQLite
// file instead of several scattered ones.
func New(prefix string) string { return newAt(prefix, time.Now()) }

// newAt is New at time t.
func newAt(prefix string, t time.Time) string {
	var raw [hexDigits / 2]byte
	// crypto/rand.Read never returns an error on supported platforms; it
	// crashes the program irrecoverably instead (Go 1.24+).
	_, _ = rand.Read(raw[timeDigits/2:])
	ms := uint64(t.UnixMilli())
	for i := range timeDigits / 2 { // big-endian, so that the text sorts as the time
		raw[i] = byte(ms >> (8 * (timeDigits/2 - 1 - i)))
	}
	return format(prefix, &raw)
}

// NewToken returns a new auth token: 32 lower-case hexadecimal digits, all
// 128 bits drawn from crypto/rand (a token is a password, so none of it is
// the time).
func NewToken() string {
	var raw [hexDigits / 2]byte
	_, _ = rand.Read(raw[:])
	return format("", &raw)
}

// format returns prefix followed by raw in lower-case hexadecimal.
func format(prefix string, raw *[hexDigits / 2]byte) string {
	// A stack buffer keeps this to one allocation (the string) for the
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
