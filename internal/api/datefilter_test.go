package api

import (
	"testing"
	"time"
)

func TestParseFilterDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2024-05-01T12:30:00Z", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC), true},
		{"2024-05-01T21:30:00+09:00", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC), true},
		{"2024-05-01T12:30:00.5Z", time.Date(2024, 5, 1, 12, 30, 0, 5e8, time.UTC), true},
		{"2023-02-29", time.Time{}, false},
		{"2024-5-01", time.Time{}, false},
		{"2024-05-01T12:30:00", time.Time{}, false},
		{"2024-05-01 12:30:00Z", time.Time{}, false},
		{"Wed, 01 May 2024 12:00:00 +0000", time.Time{}, false},
		{"", time.Time{}, false},
		{"yesterday!", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseFilterDate(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseFilterDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.Location() != time.UTC {
			t.Errorf("parseFilterDate(%q) is in %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestDateRange(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC) }
	endOf := func(d int) time.Time { return day(d + 1).Add(-time.Microsecond) }
	type f struct {
		op dateOp
		v  string
	}
	tests := []struct {
		name    string
		filters []f
		lo, hi  time.Time
		empty   bool
	}{
		{"none", nil, time.Time{}, time.Time{}, false},
		{"on a date: the whole UTC day", []f{{dateOn, "2024-05-02"}}, day(2), endOf(2), false},
		{"on an instant: its UTC day", []f{{dateOn, "2024-05-02T23:59:59-01:00"}}, day(3), endOf(3), false},
		{"at or after midnight", []f{{dateAfter, "2024-05-02"}}, day(2), time.Time{}, false},
		{"at or before midnight (the day's start)", []f{{dateBefore, "2024-05-02"}}, time.Time{}, day(2), false},
		{"both on one date: midnight only", []f{{dateAfter, "2024-05-02"}, {dateBefore, "2024-05-02"}}, day(2), day(2), false},
		{"a month", []f{{dateAfter, "2024-05-01"}, {dateBefore, "2024-06-01"}}, day(1), day(32), false},
		{"narrowest bounds win", []f{{dateAfter, "2024-05-01"}, {dateAfter, "2024-05-03"}, {dateBefore, "2024-05-09"}, {dateBefore, "2024-05-07"}}, day(3), day(7), false},
		{"a date inside a range", []f{{dateAfter, "2024-05-01"}, {dateOn, "2024-05-04"}, {dateBefore, "2024-05-09"}}, day(4), endOf(4), false},
		{"crossed range", []f{{dateAfter, "2024-05-03"}, {dateBefore, "2024-05-02"}}, day(3), day(2), true},
		{"before anything stored", []f{{dateBefore, "1969-12-31"}}, time.Time{}, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), true},
		{"the zero date", []f{{dateOn, "0001-01-01"}}, time.Time{}, time.Time{}, true},
		{"after long ago: unset times excluded", []f{{dateAfter, "1900-01-01"}}, minStored, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dateRange
			for _, fl := range tt.filters {
				if !d.apply(fl.op, fl.v) {
					t.Fatalf("apply(%c, %q) refused", fl.op, fl.v)
				}
			}
			lo, hi, empty := d.bounds()
			if empty != tt.empty {
				t.Fatalf("empty = %v, want %v (lo %v, hi %v)", empty, tt.empty, lo, hi)
			}
			if empty {
				return
			}
			if !lo.Equal(tt.lo) || !hi.Equal(tt.hi) {
				t.Errorf("bounds = [%v, %v], want [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
		})
	}
	var d dateRange
	if d.apply(dateOn, "soon") || !d.lo.IsZero() || !d.hi.IsZero() {
		t.Errorf("a refused value changed the range: %+v", d)
	}
}

// FuzzDateFilter checks that any value is either refused or gives a range
// whose bounds are ordered UTC instants, and never panics.
func FuzzDateFilter(f *testing.F) {
	for _, s := range []string{"2024-05-01", "2024-05-01T12:00:00Z", "0001-01-01", "9999-12-31", "2024-05-01T00:00:00-23:59", "x"} {
		f.Add(s, byte('='))
	}
	f.Fuzz(func(t *testing.T, v string, op byte) {
		switch dateOp(op) {
		case dateOn, dateBefore, dateAfter:
		default:
			op = byte(dateOn)
		}
		var d dateRange
		if !d.apply(dateOp(op), v) {
			return
		}
		if dateOp(op) == dateOn && d.hi.Before(d.lo) {
			t.Fatalf("%q: day range [%v, %v] reversed", v, d.lo, d.hi)
		}
		lo, hi, empty := d.bounds()
		if !empty && !lo.IsZero() && !hi.IsZero() && hi.Before(lo) {
			t.Fatalf("%q: non-empty range [%v, %v] reversed", v, lo, hi)
		}
		if !lo.IsZero() && lo.Before(minStored) {
			t.Fatalf("%q: lower bound %v before anything stored", v, lo)
		}
	})
}
