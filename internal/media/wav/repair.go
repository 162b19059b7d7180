package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Repair makes the WAVE file at path consistent after a crash. When the data
// size does not describe the file as it is (a recording that was appended to
// after its last Flush, or a placeholder size), the data chunk is made to run
// to the end of the file, a trailing partial sample frame is cut off, and the
// RIFF, data and fact sizes are rewritten. When the data size is right and only
// whole chunks follow it, at most the RIFF size is fixed; a consistent file is
// left untouched. Repair returns the number of sample frames in the file.
func Repair(path string) (frames int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wav: repair: %w", cerr)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	size := st.Size()
	h, err := parseHeader(bufio.NewReader(io.LimitReader(f, size)))
	if err != nil {
		return 0, fmt.Errorf("wav: repair %s: %w", path, err)
	}
	ba := int64(h.blockAlign)
	if h.dataSize >= 0 && h.dataStart+h.dataSize <= size && h.dataSize%ba == 0 &&
		chunksReachEOF(f, h.dataStart+h.dataSize+h.dataSize&1, size) {
		// The data chunk is right (and whatever follows it is whole chunks):
		// at most the RIFF size needs fixing.
		if h.riffSize+8 != size && size-8 <= maxRIFFSize {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(size-8))
			if _, err := f.WriteAt(b[:], 4); err != nil {
				return 0, fmt.Errorf("wav: repair: %w", err)
			}
			if err := f.Sync(); err != nil {
				return 0, fmt.Errorf("wav: repair: %w", err)
			}
		}
		return h.dataSize / ba, nil
	}
	data := size - h.dataStart
	data -= data % ba
	if data > maxRIFFSize-(h.dataStart-8)-1 {
		data = (maxRIFFSize - (h.dataStart - 8) - 1) / ba * ba
	}
	end := h.dataStart + data
	if data&1 == 1 {
		if _, err := f.WriteAt([]byte{0}, end); err != nil {
			return 0, fmt.Errorf("wav: repair: writing pad byte: %w", err)
		}
		end++
	}
	if err := f.Truncate(end); err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	put := func(off int64, v int64) error {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		_, err := f.WriteAt(b[:], off)
		return err
	}
	if err := put(4, end-8); err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	if err := put(h.dataStart-4, data); err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	if h.factOffset >= 0 && h.format.Encoding != PCM {
		if err := put(h.factOffset, data/ba); err != nil {
			return 0, fmt.Errorf("wav: repair: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("wav: repair: %w", err)
	}
	return data / ba, nil
}

// chunksReachEOF reports whether the bytes from off to the end of a file of
// size bytes are nothing, or whole RIFF chunks with printable identifiers (a
// final pad byte may be missing). Audio appended after a stale data size does
// not pass for chunks that end exactly at the end of the file.
func chunksReachEOF(f io.ReaderAt, off, size int64) bool {
	for range 1000 {
		if off == size || off == size+1 {
			return true
		}
		var ch [8]byte
		if off > size-8 {
			return false
		}
		if _, err := f.ReadAt(ch[:], off); err != nil {
			return false
		}
		for _, c := range ch[:4] {
			if c < 0x20 || c > 0x7E {
				return false
			}
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		off += 8 + n + n&1
	}
	return false
}
