package holdmusic

import "testing"

// BenchmarkRender measures the one-time rendering of the loop.
func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = render()
	}
}
