package sid

import (
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		prefix string
	}{
		{Account}, {IncomingPhoneNumber}, {Call}, {""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			s := New(tt.prefix)
			if len(s) != len(tt.prefix)+32 {
				t.Fatalf("New(%q) = %q: length %d, want %d", tt.prefix, s, len(s), len(tt.prefix)+32)
			}
			if !strings.HasPrefix(s, tt.prefix) {
				t.Fatalf("New(%q) = %q: wrong prefix", tt.prefix, s)
			}
			if tail := s[len(tt.prefix):]; strings.ToLower(tail) != tail {
				t.Fatalf("New(%q) = %q: digits not lower case", tt.prefix, s)
			}
			if !Valid(tt.prefix, s) {
				t.Fatalf("Valid(%q, New(%q)) = false", tt.prefix, tt.prefix)
			}
		})
	}
}

func TestNewIsRandom(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		s := New(Account)
		if seen[s] {
			t.Fatalf("New returned %q twice", s)
		}
		seen[s] = true
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		s      string
		want   bool
	}{
		{"lower hex", "AC", "AC0123456789abcdef0123456789abcdef", true},
		{"upper hex", "AC", "AC0123456789ABCDEF0123456789ABCDEF", true},
		{"wrong prefix", "PN", "AC0123456789abcdef0123456789abcdef", false},
		{"lower-case prefix", "AC", "ac0123456789abcdef0123456789abcdef", false},
		{"short", "AC", "AC0123456789abcdef0123456789abcde", false},
		{"long", "AC", "AC0123456789abcdef0123456789abcdef0", false},
		{"non-hex", "AC", "AC0123456789abcdef0123456789abcdeg", false},
		{"empty", "AC", "", false},
		{"prefix only", "AC", "AC", false},
		{"token", "", "0123456789abcdef0123456789abcdef", true},
		{"token with space", "", "0123456789abcdef0123456789abcde ", false},
		{"unicode", "AC", "AC0123456789abcdef0123456789abcdé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.prefix, tt.s); got != tt.want {
				t.Errorf("Valid(%q, %q) = %v, want %v", tt.prefix, tt.s, got, tt.want)
			}
		})
	}
}

func TestValidToken(t *testing.T) {
	if !ValidToken(NewToken()) {
		t.Fatal("ValidToken(NewToken()) = false")
	}
	if ValidToken("AC0123456789abcdef0123456789abcdef") {
		t.Fatal("ValidToken accepted a SID")
	}
}

func TestPrefix(t *testing.T) {
	tests := []struct {
		s, want string
	}{
		{"AC0123456789abcdef0123456789abcdef", "AC"},
		{"PN0123456789ABCDEF0123456789abcdef", "PN"},
		{"pn0123456789abcdef0123456789abcdef", ""},
		{"P10123456789abcdef0123456789abcdef", ""},
		{"PN0123456789abcdef0123456789abcdeX", ""},
		{"PN", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Prefix(tt.s); got != tt.want {
			t.Errorf("Prefix(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func FuzzValid(f *testing.F) {
	f.Add("AC", "AC0123456789abcdef0123456789abcdef")
	f.Add("", "0123456789abcdef0123456789abcdef")
	f.Add("PN", "PN")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		ok := Valid(prefix, s)
		if ok && (len(s) != len(prefix)+32 || !strings.HasPrefix(s, prefix)) {
			t.Fatalf("Valid(%q, %q) = true for a malformed SID", prefix, s)
		}
		if p := Prefix(s); p != "" && !Valid(p, s) {
			t.Fatalf("Prefix(%q) = %q but Valid disagrees", s, p)
		}
	})
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = New(Call)
	}
}

func BenchmarkValid(b *testing.B) {
	s := New(Account)
	b.ReportAllocs()
	for b.Loop() {
		if !Valid(Account, s) {
			b.Fatal("invalid")
		}
	}
}

func TestNewSortsByTime(t *testing.T) {
	t0 := time.UnixMilli(1796391763415)
	a, b := newAt(Call, t0), newAt(Call, t0.Add(time.Millisecond))
	if a[:2+timeDigits] != "CA01a2414afdd7" {
		t.Fatalf("newAt(%v) = %q: want the milliseconds 01a2414afdd7 first", t0, a)
	}
	if !(a < b) {
		t.Fatalf("a SID made a millisecond later sorts first: %q, then %q", a, b)
	}
	c := newAt(Call, t0)
	if a == c {
		t.Fatalf("two SIDs of the same millisecond are equal: %q", a)
	}
	if a[:2+timeDigits] != c[:2+timeDigits] {
		t.Fatalf("same millisecond, different time digits: %q, %q", a, c)
	}
}

func TestNewTokenIsAllRandom(t *testing.T) {
	// A token holding the time would share its first 12 digits with one
	// made in the same millisecond; random ones share them with odds 2^-48.
	a, b := NewToken(), NewToken()
	if a[:timeDigits] == b[:timeDigits] {
		t.Fatalf("two tokens begin alike, as if they held the time: %q, %q", a, b)
	}
}
