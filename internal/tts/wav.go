package tts

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// WAV (RIFF) layout, as written by espeak-ng and read by the audio layer:
//
//	"RIFF" size(4) "WAVE"  then chunks: id(4) size(4) payload (padded to even)
//
// espeak-ng writing to a pipe cannot seek back, so it leaves placeholder sizes
// (0x7ffffff0) in the RIFF and data headers. fixWAV patches them once the whole
// file is in memory, so that every file this package hands out is exact.
// Reference: Microsoft/IBM "Multimedia Programming Interface and Data
// Specifications 1.0" (1991), the RIFF WAVE form.

const (
	riffHeaderSize = 12
	chunkHeader    = 8
	maxHeaderScan  = 4096 // the data chunk must start within this many bytes
)

// wavInfo describes a parsed WAV file.
type wavInfo struct {
	sampleRate    int
	channels      int
	bitsPerSample int
	dataOffset    int // of the data payload
	dataSize      int // bytes of sample data
}

// duration returns the length of the audio in seconds.
func (w wavInfo) duration() float64 {
	bps := w.channels * w.bitsPerSample / 8
	if bps == 0 || w.sampleRate == 0 {
		return 0
	}
	return float64(w.dataSize/bps) / float64(w.sampleRate)
}

// parseWAVHeader reads the RIFF header and chunks up to the start of the data
// chunk. fileSize is the total size of the file; the declared data size is
// trusted only when exact is true (otherwise it may be a placeholder and the
// data is taken to run to the end of the file).
func parseWAVHeader(b []byte, fileSize int64, exact bool) (wavInfo, error) {
	var info wavInfo
	if len(b) < riffHeaderSize || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return info, fmt.Errorf("%w: no RIFF/WAVE header", ErrBadWAV)
	}
	haveFmt := false
	off := riffHeaderSize
	for {
		if off+chunkHeader > len(b) {
			return info, fmt.Errorf("%w: no data chunk", ErrBadWAV)
		}
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		payload := off + chunkHeader
		switch id {
		case "fmt ":
			if size < 16 || int64(payload)+16 > int64(len(b)) {
				return info, fmt.Errorf("%w: short fmt chunk", ErrBadWAV)
			}
			if format := binary.LittleEndian.Uint16(b[payload:]); format != 1 {
				return info, fmt.Errorf("%w: format %d is not PCM", ErrBadWAV, format)
			}
			info.channels = int(binary.LittleEndian.Uint16(b[payload+2:]))
			info.sampleRate = int(binary.LittleEndian.Uint32(b[payload+4:]))
			info.bitsPerSample = int(binary.LittleEndian.Uint16(b[payload+14:]))
			if info.channels < 1 || info.sampleRate < 1 || info.bitsPerSample != 16 {
				return info, fmt.Errorf("%w: unsupported fmt %d ch %d Hz %d bit",
					ErrBadWAV, info.channels, info.sampleRate, info.bitsPerSample)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, fmt.Errorf("%w: data chunk before fmt chunk", ErrBadWAV)
			}
			info.dataOffset = payload
			rest := fileSize - int64(payload)
			if rest < 0 {
				return info, fmt.Errorf("%w: truncated data chunk", ErrBadWAV)
			}
			if exact && size != rest {
				return info, fmt.Errorf("%w: data size %d, file holds %d", ErrBadWAV, size, rest)
			}
			info.dataSize = int(rest)
			return info, nil
		}
		next := int64(payload) + size + size&1
		if next > maxHeaderScan || next > fileSize {
			return info, fmt.Errorf("%w: no data chunk", ErrBadWAV)
		}
		off = int(next)
	}
}

// fixWAV validates a complete WAV file held in b (the data chunk last, as
// espeak-ng writes it) and patches its RIFF and data sizes in place.
func fixWAV(b []byte) (wavInfo, error) {
	info, err := parseWAVHeader(b, int64(len(b)), false)
	if err != nil {
		return info, err
	}
	frame := info.channels * info.bitsPerSample / 8
	if odd := info.dataSize % frame; odd != 0 { // a torn last sample
		info.dataSize -= odd
	}
	binary.LittleEndian.PutUint32(b[4:8], uint32(info.dataOffset+info.dataSize-8))
	binary.LittleEndian.PutUint32(b[info.dataOffset-4:info.dataOffset], uint32(info.dataSize))
	return info, nil
}

// checkWAVFile reports whether path holds a complete, exact WAV file with
// audio, as the cache writes them; anything else (empty, truncated,
// placeholder sizes, garbage) is an error wrapping ErrBadWAV.
func checkWAVFile(path string) (wavInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return wavInfo{}, fmt.Errorf("tts: open cached audio: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return wavInfo{}, fmt.Errorf("tts: stat cached audio: %w", err)
	}
	head := make([]byte, min(st.Size(), maxHeaderScan))
	if _, err := io.ReadFull(f, head); err != nil {
		return wavInfo{}, fmt.Errorf("%w: %w", ErrBadWAV, err)
	}
	info, err := parseWAVHeader(head, st.Size(), true)
	if err != nil {
		return info, err
	}
	if riff := int64(binary.LittleEndian.Uint32(head[4:8])); riff != st.Size()-8 {
		return info, fmt.Errorf("%w: riff size %d, file holds %d", ErrBadWAV, riff, st.Size()-8)
	}
	if info.dataSize == 0 {
		return info, fmt.Errorf("%w: no samples", ErrBadWAV)
	}
	return info, nil
}
