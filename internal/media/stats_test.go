package media

import "testing"

func TestSeqStats(t *testing.T) {
	tests := []struct {
		name  string
		seqs  []uint16
		lost  int64
		dups  int
		recvd uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, 0, 0, 4},
		{"gap", []uint16{10, 11, 14, 15}, 2, 0, 4},
		{"wrap", []uint16{65534, 65535, 0, 1}, 0, 0, 4},
		{"wrap with loss", []uint16{65534, 1, 2}, 2, 0, 3},
		{"reordered", []uint16{10, 12, 11, 13}, 0, 0, 4},
		{"duplicates", []uint16{10, 11, 11, 12, 10, 12}, 0, 3, 3},
		{"late beyond the duplicate window is counted", []uint16{100, 200, 120}, 98, 0, 3},
		// A.1: one very large jump is a stray; two in a row restart.
		{"one stray", []uint16{10, 11, 40000, 12}, 0, 0, 3},
		{"restart", []uint16{10, 11, 40000, 40001, 40002}, 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqStats
			s.init(tt.seqs[0])
			dups := 0
			for _, q := range tt.seqs {
				if s.update(q) {
					dups++
				}
			}
			if got := s.lost(); got != tt.lost || dups != tt.dups || s.received != tt.recvd {
				t.Fatalf("lost %d dups %d received %d; want %d %d %d", got, dups, s.received, tt.lost, tt.dups, tt.recvd)
			}
		})
	}
}

func TestSeqStatsJitter(t *testing.T) {
	var s seqStats
	// Packets every 160 samples arriving alternately 0 and 80 samples late:
	// D = 80 every time; J converges to 80 (RFC 3550 A.8).
	for i := range 2000 {
		ts := uint32(i * 160)
		s.arrival(ts+uint32(i%2)*80, ts)
	}
	if got := s.jitter >> 4; got < 75 || got > 80 {
		t.Fatalf("jitter %d samples, want about 80", got)
	}
	if d := s.jitterDuration(); d < 9_000_000 || d > 10_000_000 {
		t.Fatalf("jitter %v, want about 10 ms", d)
	}
}
