package api

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// maxFriendlyName is Twilio's limit on FriendlyName (characters).
const maxFriendlyName = 64

// maxURL bounds a webhook URL (Twilio documents 4000 characters for
// StatusCallback).
const maxURL = 4000

// maxSIPUser bounds a SIP user name used as a phone number.
const maxSIPUser = 64

// normalizePhoneNumber returns the canonical form of a PhoneNumber parameter
// (store.CanonicalPhoneNumber, the form the store keeps and routing looks up)
// and whether it is acceptable. Two forms are:
//
//   - E.164: '+', a non-zero digit, then up to 14 more digits (ITU-T E.164
//     allows 15 digits in all). Spaces, dashes, dots and parentheses between
//     the digits are dropped: "+1 (415) 555-0100" becomes "+14155550100".
//     8 to 15 digits without the '+' are taken as E.164 too, country code
//     first, as trunks send them and as the SIP layer reads a Request-URI:
//     "14155550100" is "+14155550100".
//   - A SIP user name, for numbers that exist only on this server: a letter
//     or digit, then letters, digits and "-_.!~", at most 64 characters
//     ("support", "sales-desk", "1001"). It is kept as is, since the user
//     part of a SIP URI is compared case-sensitively (RFC 3261 section
//     19.1.4).
func normalizePhoneNumber(s string) (string, bool) {
	s = store.CanonicalPhoneNumber(s)
	if s == "" {
		return "", false
	}
	if s[0] == '+' {
		d := s[1:]
		if len(d) < 2 || len(d) > 15 || d[0] == '0' {
			return "", false
		}
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				return "", false
			}
		}
		return s, true
	}
	if len(s) > maxSIPUser {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if alnum || i > 0 && strings.IndexByte("-_.!~", c) >= 0 {
			continue
		}
		return "", false
	}
	return s, true
}

// defaultFriendlyName is Twilio's default FriendlyName of a number: a North
// American number formatted as "(415) 555-0100", anything else as given.
func defaultFriendlyName(phone string) string {
	if len(phone) == 12 && strings.HasPrefix(phone, "+1") {
		d := phone[2:]
		return "(" + d[:3] + ") " + d[3:6] + "-" + d[6:]
	}
	return phone
}

// validURL reports whether s is an absolute http or https URL with a host and
// nothing a webhook client would have to guess about (spaces, control
// characters).
func validURL(s string) bool {
	if len(s) > maxURL || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Hostname() == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return true
	}
	return false
}

// normalizeMethod returns GET or POST for a webhook method given in any case.
func normalizeMethod(s string) (string, bool) {
	switch strings.ToUpper(s) {
	case "GET":
		return "GET", true
	case "POST":
		return "POST", true
	}
	return "", false
}

// validFriendlyName reports whether s is 1 to 64 characters of UTF-8 without
// control characters.
func validFriendlyName(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxFriendlyName {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// parseBool reads Twilio's boolean parameters: true or false, any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}
