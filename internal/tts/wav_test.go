package tts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFixWAV(t *testing.T) {
	tone := []int16{1000, -1000, 2000, -2000}
	tests := []struct {
		name     string
		in       []byte
		wantErr  bool
		wantData int
	}{
		{"placeholder sizes", makeWAV(tone, 22050, true), false, 8},
		{"exact sizes", makeWAV(tone, 8000, false), false, 8},
		{"no samples", makeWAV(nil, 22050, true), false, 0},
		{"torn last sample", append(makeWAV(tone, 22050, true), 0x7f), false, 8},
		{"empty", nil, true, 0},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVEfmt "), true, 0},
		{"header only", makeWAV(tone, 22050, true)[:20], true, 0},
		{"no data chunk", makeWAV(tone, 22050, true)[:36], true, 0},
		{"not pcm", func() []byte {
			b := makeWAV(tone, 22050, true)
			binary.LittleEndian.PutUint16(b[20:], 3)
			return b
		}(), true, 0},
		{"8-bit", func() []byte {
			b := makeWAV(tone, 22050, true)
			binary.LittleEndian.PutUint16(b[34:], 8)
			return b
		}(), true, 0},
		{"huge fmt chunk", func() []byte {
			b := makeWAV(tone, 22050, true)
			binary.LittleEndian.PutUint32(b[16:], 0xffffffff)
			return b
		}(), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(tt.in)
			info, err := fixWAV(b)
			if tt.wantErr {
				if !errors.Is(err, ErrBadWAV) {
					t.Fatalf("err = %v, want ErrBadWAV", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.dataSize != tt.wantData {
				t.Fatalf("data size %d, want %d", info.dataSize, tt.wantData)
			}
			a := decodeWAV(t, b[:info.dataOffset+info.dataSize])
			if len(a.samples) != tt.wantData/2 {
				t.Fatalf("%d samples, want %d", len(a.samples), tt.wantData/2)
			}
			for i := range a.samples {
				if a.samples[i] != tone[i] {
					t.Fatalf("sample %d = %d, want %d", i, a.samples[i], tone[i])
				}
			}
		})
	}
}

func TestCheckWAVFile(t *testing.T) {
	dir := t.TempDir()
	good := makeWAV([]int16{1, 2, 3}, 22050, false)
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"good", good, true},
		{"empty file", nil, false},
		{"truncated", good[:len(good)-2], false},
		{"placeholder sizes", makeWAV([]int16{1, 2, 3}, 22050, true), false},
		{"no samples", makeWAV(nil, 22050, false), false},
		{"garbage", bytes.Repeat([]byte("x"), 100), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".wav")
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := checkWAVFile(p)
			if tt.ok && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadWAV) {
				t.Fatalf("err = %v, want ErrBadWAV", err)
			}
		})
	}
	if _, err := checkWAVFile(filepath.Join(dir, "missing.wav")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func FuzzFixWAV(f *testing.F) {
	f.Add(makeWAV([]int16{1, -1, 300}, 22050, true))
	f.Add(makeWAV(nil, 8000, false))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := fixWAV(b)
		if err != nil {
			return
		}
		// A file fixWAV accepts is exact afterwards.
		out := b[:info.dataOffset+info.dataSize]
		if _, err := parseWAVHeader(out, int64(len(out)), true); err != nil {
			t.Fatalf("fixed file does not parse exactly: %v", err)
		}
	})
}
