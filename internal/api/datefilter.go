package api

import (
	"time"
)

// Twilio's date filters on lists: a parameter NAME and its two inequality
// forms, sent as "NAME<=VALUE" and "NAME>=VALUE" (in a query string the '='
// is the separator, so the parameter names are "NAME<" and "NAME>", which is
// also what twilio-go sends for StartTimeBefore/StartTimeAfter). The OpenAPI
// spec describes them for the Calls list (StartTime, EndTime) and the
// Notifications list (MessageDate):
//
//	NAME=YYYY-MM-DD    on this date (UTC)
//	NAME<=YYYY-MM-DD   "on or before midnight of this date"
//	NAME>=YYYY-MM-DD   "on or after midnight of this date"
//
// Midnight is the start of the date: as Twilio answers them (see
// https://github.com/saintpete/twilio-go/issues/8), StartTime<=2016-10-27
// selects calls up to 2016-10-27 00:00:00 inclusive, not the whole day, so
// StartTime>=D&StartTime<=D selects only calls at exactly midnight. The
// helper libraries send date-times (RFC 3339, "2024-05-01T12:30:00Z"): an
// inequality then bounds at that instant, and NAME=date-time selects the UTC
// day the instant falls in.

// dateOp is which form of a date filter a parameter is.
type dateOp byte

const (
	dateOn     dateOp = '=' // NAME: on this date
	dateBefore dateOp = '<' // NAME<: at or before
	dateAfter  dateOp = '>' // NAME>: at or after
)

// dateRange is the inclusive range of instants a family of date filters
// selects; zero lo or hi means unbounded on that side. Several filters
// intersect.
type dateRange struct {
	lo, hi time.Time
}

// parseFilterDate reads a date filter's value: a date (YYYY-MM-DD, read as
// midnight UTC, the start of that date) or an RFC 3339 date-time, in UTC.
func parseFilterDate(v string) (time.Time, bool) {
	layout := time.RFC3339
	if len(v) == len(time.DateOnly) {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// apply narrows d by one filter; false if the value is not a date.
func (d *dateRange) apply(op dateOp, v string) bool {
	t, ok := parseFilterDate(v)
	if !ok {
		return false
	}
	lo, hi := t, t
	if op == dateOn {
		// The UTC day of the date or instant, inclusive to the microsecond
		// (the store's precision).
		lo = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		hi = lo.AddDate(0, 0, 1).Add(-time.Microsecond)
	}
	if op != dateBefore && (d.lo.IsZero() || lo.After(d.lo)) {
		d.lo = lo
	}
	if op != dateAfter && (d.hi.IsZero() || hi.Before(d.hi)) {
		d.hi = hi
	}
	return true
}

// minStored is the earliest instant a stored time can have: the store keeps
// microseconds since the Unix epoch with 0 meaning "not set" (a call that has
// not started or ended).
var minStored = time.UnixMicro(1).UTC()

// bounds returns the range for the store: a lower bound is raised to
// minStored so that unset times never match, and empty reports a range that
// can select nothing (hi before lo, or before anything storable; the store
// would read a zero hi as "unbounded").
func (d dateRange) bounds() (lo, hi time.Time, empty bool) {
	lo, hi = d.lo, d.hi
	if !lo.IsZero() && lo.Before(minStored) {
		lo = minStored
	}
	if !hi.IsZero() && (hi.Before(minStored) || (!lo.IsZero() && hi.Before(lo))) {
		return lo, hi, true
	}
	return lo, hi, false
}
