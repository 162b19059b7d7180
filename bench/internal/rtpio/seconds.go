package rtpio

import "time"

// Seconds holds a T for each second since a start: the peers' -timeline.
type Seconds[T any] []T

// At returns the T of the second now falls in, counted from start (second 0
// when now is before start or more than a day after it).
func (s *Seconds[T]) At(start, now time.Time) *T {
	i := int(now.Sub(start) / time.Second)
	if i < 0 || i > 86400 {
		i = 0
	}
	for len(*s) <= i {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[i]
}

// Timeline is the text line appends for each second in turn, from second 0.
func (s Seconds[T]) Timeline(line func(b []byte, i int, c T) []byte) []byte {
	var b []byte
	for i, c := range s {
		b = line(b, i, c)
	}
	return b
}
