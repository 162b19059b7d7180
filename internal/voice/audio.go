package voice

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/audiofile"
)

const (
	// maxPCM caps the audio held for one file: one hour at 8 kHz.
	maxPCM = 3600 * media.SampleRate
	// hangupTimeout bounds sending BYE when the interpreter ends a call.
	hangupTimeout = 5 * time.Second
)

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// pcmSource plays decoded audio from memory, loops times (loops < 0: until
// stopped). It never blocks, as the media pacer requires.
type pcmSource struct {
	pcm   []int16
	pos   int
	loops int
}

func (s *pcmSource) ReadFrame(frame []int16) error {
	if len(s.pcm) == 0 {
		return io.EOF
	}
	n := 0
	for n < len(frame) {
		if s.pos == len(s.pcm) {
			if s.loops > 0 {
				s.loops--
			}
			if s.loops == 0 {
				break
			}
			s.pos = 0
		}
		c := copy(frame[n:], s.pcm[s.pos:])
		s.pos += c
		n += c
	}
	if n == 0 {
		return io.EOF
	}
	clear(frame[n:])
	return nil
}

// readAll decodes a whole source into memory, up to limit samples.
func readAll(src media.Source, limit int) ([]int16, error) {
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	var pcm []int16
	frame := make([]int16, media.FrameSamples)
	for {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return pcm, nil
		}
		if err != nil {
			return nil, err
		}
		if len(pcm)+len(frame) > limit {
			return nil, fmt.Errorf("audio longer than %v", time.Duration(limit/media.SampleRate)*time.Second)
		}
		pcm = append(pcm, frame...)
	}
}

// pcmCache keeps decoded audio files in memory, least recently used out, so
// that a thousand calls playing one prompt decode it once and share it.
type pcmCache struct {
	max int64 // bytes

	// mu guards the fields below.
	mu    sync.Mutex
	size  int64
	order *list.List // of *pcmEntry, most recent first
	byKey map[pcmKey]*list.Element
}

// The modification time is not part of the key: the speech cache touches its
// files on every hit (for its LRU), and both it and the <Play> cache write a
// changed content under a new name, so path and size identify the content.
type pcmKey struct {
	path string
	size int64
}

type pcmEntry struct {
	key pcmKey
	pcm []int16
}

func newPCMCache(max int64) *pcmCache {
	return &pcmCache{max: max, order: list.New(), byKey: map[pcmKey]*list.Element{}}
}

// file returns the decoded audio of the file at path.
func (c *pcmCache) file(path string) ([]int16, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audio file: %w", err)
	}
	key := pcmKey{path, fi.Size()}
	c.mu.Lock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		pcm := e.Value.(*pcmEntry).pcm
		c.mu.Unlock()
		return pcm, nil
	}
	c.mu.Unlock()

	src, err := audiofile.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("audio file: %w", err)
	}
	pcm, err := readAll(src, maxPCM)
	if err != nil {
		return nil, fmt.Errorf("audio file: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; !ok {
		c.byKey[key] = c.order.PushFront(&pcmEntry{key, pcm})
		c.size += int64(len(pcm)) * 2
		for c.size > c.max && c.order.Len() > 1 {
			last := c.order.Back()
			e := last.Value.(*pcmEntry)
			c.order.Remove(last)
			delete(c.byKey, e.key)
			c.size -= int64(len(e.pcm)) * 2
		}
	}
	return pcm, nil
}

// fetchAudio gets the audio at rawURL through the audio cache and decodes it.
// On failure it returns Twilio's error code for the notification.
func (in *Interpreter) fetchAudio(ctx context.Context, rawURL string) ([]int16, int, error) {
	entry, err := in.cfg.Audio.Get(ctx, rawURL)
	if err != nil {
		var aerr *audiocache.Error
		if errors.As(err, &aerr) {
			return nil, aerr.Code, err
		}
		return nil, errcode.RetrievalFailure, err
	}
	defer entry.Release()
	pcm, err := in.pcm.file(entry.Path)
	if err != nil {
		return nil, errcode.PlayInvalidContentType, err
	}
	return pcm, 0, nil
}
