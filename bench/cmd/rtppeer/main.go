package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/switchboard-voice/switchboard/bench/internal/rtpio"
)

const (
	frameBytes = 160 // 20 ms of 8 kHz u-law
	markSize   = 8   // 4 octets of magic, 4 nibbles of the mark's value
)

// magic opens every mark. The octets are u-law codes that decode and
// re-encode to themselves; the tone never produces this sequence (tested).
var magic = [4]byte{0x5a, 0xa5, 0x3c, 0xc3}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rtppeer:", err)
		os.Exit(2)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen on ADDR (UDP, loopback; port 0 picks a free one)")
	addrFile := flag.String("addr-file", "", "write the port listened on to this FILE")
	write := flag.String("write", "", "write the marked u-law file to FILE and exit")
	frames := flag.Int("frames", 250, "frames of 20 ms in the marked audio (the file SIPp loops; 250 = 5 s)")
	idle := flag.Duration("idle", 2*time.Second, "end a stream whose source sent nothing for this long")
	timeout := flag.Duration("timeout", 10*time.Minute, "exit after this long in any case")
	timeline := flag.String("timeline", "", "at exit, write per second (since start) packets received, frames lost, unmarked gaps to FILE")
	flag.Parse()
	if *frames < 4 || *frames > 30000 {
		return fmt.Errorf("-frames %d: want 4..30000", *frames)
	}
	audio := markedAudio(*frames)
	if *write != "" {
		return os.WriteFile(*write, audio, 0o644)
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	la, err := net.ResolveUDPAddr("udp4", *addr)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp4", la)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Close()
	// Room for bursts: 1,000 legs send 1,000 datagrams every 20 ms.
	_ = conn.SetReadBuffer(8 << 20)
	_ = conn.SetWriteBuffer(8 << 20)
	port := conn.LocalAddr().(*net.UDPAddr).Port
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("rtppeer: listening on 127.0.0.1:%d, %d frames of marked audio\n", port, *frames)

	p := &peer{conn: ipv4.NewPacketConn(conn), audio: audio, frames: *frames, idle: *idle,
		streams: map[netip.AddrPort]*stream{}, start: time.Now()}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.receive(done) }()
	go func() { defer wg.Done(); p.send(done) }()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	deadline := time.NewTimer(*timeout)
wait:
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				fmt.Println(p.stats())
				continue
			}
			break wait
		case <-deadline.C:
			fmt.Println("rtppeer: -timeout reached")
			break wait
		}
	}
	close(done)
	conn.Close() // unblocks the receiver
	wg.Wait()
	fmt.Println(p.stats())
	fmt.Println(p.streamReport())
	if *timeline != "" {
		return os.WriteFile(*timeline, p.timeline(), 0o644)
	}
	return nil
}

// counters are what a stream (or all of them) saw.
type counters struct {
	rx       uint64 // RTP packets received
	seqLost  uint64 // switchboard's sequence numbers missing
	marked   uint64 // marked frames received
	lost     uint64 // marked frames missing (index jumped)
	repeated uint64 // the same marked frame again
	gap      uint64 // unmarked frames between two marked ones
	other    uint64 // datagrams that were not PCMU RTP
	tx       uint64 // RTP packets sent
}

func (c *counters) add(o *counters) {
	c.rx += o.rx
	c.seqLost += o.seqLost
	c.marked += o.marked
	c.lost += o.lost
	c.repeated += o.repeated
	c.gap += o.gap
	c.other += o.other
	c.tx += o.tx
}

// stream is one dialled leg as seen from here.
type stream struct {
	counters
	addr    netip.AddrPort
	first   time.Time
	lastRx  time.Time
	haveSeq bool
	seq     uint16 // last received
	haveIdx bool
	idx     int    // last marked frame received
	unmark  uint64 // unmarked frames since it

	ssrc   uint32 // what we send
	outSeq uint16
	outTS  uint32
	outIdx int
}

type peer struct {
	conn   *ipv4.PacketConn
	audio  []byte
	frames int
	idle   time.Duration
	start  time.Time

	mu       sync.Mutex
	streams  map[netip.AddrPort]*stream
	ended    counters
	nStreams uint64 // streams started
	nEnded   uint64
	txErr    uint64 // sendmmsg errors
	late     uint64 // send ticks that came more than 10 ms late
	lossy    []*stream
	perSec   rtpio.Seconds[counters] // rx, lost and gap per second since start
}

// second returns the counters of the second now falls in (p.mu held).
func (p *peer) second(now time.Time) *counters {
	return p.perSec.At(p.start, now)
}

// timeline is the -timeline file: "second rx lost gap" per line.
func (p *peer) timeline() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.perSec.Timeline(func(b []byte, i int, c counters) []byte {
		return fmt.Appendf(b, "%d %d %d %d\n", i, c.rx, c.lost, c.gap)
	})
}

// receive reads datagrams in batches until done.
func (p *peer) receive(done <-chan struct{}) {
	rtpio.Receive(p.conn, 0, done, func(msgs []ipv4.Message, now time.Time) {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i := range msgs {
			if from, ok := rtpio.From(&msgs[i]); ok {
				p.packet(from, msgs[i].Buffers[0][:msgs[i].N], now)
			}
		}
	})
}

// packet accounts for one datagram (p.mu held).
func (p *peer) packet(from netip.AddrPort, b []byte, now time.Time) {
	s := p.streams[from]
	if s == nil {
		s = &stream{addr: from, first: now, ssrc: rand.Uint32(), outSeq: uint16(rand.Uint32()), outTS: rand.Uint32()}
		p.streams[from] = s
		p.nStreams++
	}
	s.lastRx = now
	payload, seq, _, ok := rtpio.Payload(b)
	if !ok {
		s.other++
		return
	}
	s.rx++
	sec := p.second(now)
	sec.rx++
	if s.haveSeq {
		if d := seq - s.seq - 1; d < 3000 { // forward; else reordered or restarted
			s.seqLost += uint64(d)
		}
	}
	s.seq, s.haveSeq = seq, true
	idx, ok := findMark(payload, p.frames)
	if !ok {
		if s.haveIdx {
			s.unmark++
		}
		return
	}
	s.marked++
	if s.haveIdx {
		switch d := (idx - s.idx + p.frames) % p.frames; {
		case d == 0:
			s.repeated++
		case d <= p.frames/2:
			s.lost += uint64(d - 1)
			sec.lost += uint64(d - 1)
		}
		s.gap += s.unmark
		sec.gap += s.unmark
	}
	s.idx, s.haveIdx, s.unmark = idx, true, 0
}

// send sends one packet to every live stream every 20 ms until done, and ends
// the streams that went quiet.
func (p *peer) send(done <-chan struct{}) {
	const tick = 20 * time.Millisecond
	var (
		buf  []byte
		dst  []*net.UDPAddr
		msgs []ipv4.Message
	)
	rtpio.Pace(done, tick, func(now time.Time, late bool) {
		buf, dst = buf[:0], dst[:0]
		p.mu.Lock()
		if late {
			p.late++
		}
		for a, s := range p.streams {
			if now.Sub(s.lastRx) > p.idle {
				p.ended.add(&s.counters)
				p.nEnded++
				if s.lost > 0 || s.seqLost > 0 {
					p.lossy = append(p.lossy, s)
				}
				delete(p.streams, a)
				continue
			}
			buf = rtpio.AppendHeader(buf, s.outSeq, s.outTS, s.ssrc)
			buf = append(buf, p.audio[s.outIdx*frameBytes:(s.outIdx+1)*frameBytes]...)
			s.outSeq++
			s.outTS += frameBytes
			s.outIdx = (s.outIdx + 1) % p.frames
			s.tx++
			dst = append(dst, net.UDPAddrFromAddrPort(a))
		}
		p.mu.Unlock()
		var errs int
		msgs, errs = rtpio.Send(p.conn, msgs, buf, rtpio.HeaderSize+frameBytes, dst)
		if errs > 0 {
			p.mu.Lock()
			p.txErr += uint64(errs)
			p.mu.Unlock()
		}
	})
}

// stats is the "STATS" line: counters of every stream so far.
func (p *peer) stats() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.ended
	for _, s := range p.streams {
		c.add(&s.counters)
	}
	return fmt.Sprintf("STATS t_ms=%d active=%d streams=%d ended=%d rx=%d seqlost=%d marked=%d lost=%d repeated=%d gap=%d other=%d tx=%d txerr=%d late_ticks=%d",
		time.Since(p.start).Milliseconds(), len(p.streams), p.nStreams, p.nEnded, c.rx, c.seqLost, c.marked, c.lost, c.repeated, c.gap, c.other, c.tx, p.txErr, p.late)
}

// streamReport is the "STREAMS" line: how many streams lost frames, the worst.
func (p *peer) streamReport() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := append([]*stream(nil), p.lossy...)
	for _, s := range p.streams {
		if s.lost > 0 || s.seqLost > 0 {
			all = append(all, s)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lost > all[j].lost })
	out := fmt.Sprintf("STREAMS with_loss=%d of=%d", len(all), p.nStreams)
	for i, s := range all {
		if i == 5 {
			break
		}
		out += fmt.Sprintf(" [%s rx=%d marked=%d lost=%d seqlost=%d gap=%d]", s.addr, s.rx, s.marked, s.lost, s.seqLost, s.gap)
	}
	return out
}

// markedAudio returns n frames of a 350 Hz tone at half scale, u-law, each
// frame carrying its index in two marks, at octets 0 and 80.
func markedAudio(n int) []byte {
	out := make([]byte, n*frameBytes)
	for i := range out {
		v := 0.5 * math.Sin(2*math.Pi*350*float64(i)/8000)
		out[i] = rtpio.Ulaw(int16(v * math.MaxInt16))
	}
	for f := range n {
		putMark(out[f*frameBytes:], 2*f)
		putMark(out[f*frameBytes+frameBytes/2:], 2*f+1)
	}
	return out
}

// putMark writes magic and v as four nibble octets (0x40|nibble).
func putMark(b []byte, v int) {
	copy(b, magic[:])
	for k := range 4 {
		b[4+k] = 0x40 | byte(v>>(12-4*k))&0x0f
	}
}

// findMark finds the first whole mark in a payload and returns the index of
// the frame the payload holds most of: a payload that starts d octets into
// frame i-1 holds the mark of frame i at octet 160-d, or the second mark of
// frame i-1 at octet 80-d (d < 80); both give i.
func findMark(b []byte, frames int) (int, bool) {
	for off := 0; off+markSize <= len(b); off++ {
		if b[off] != magic[0] || b[off+1] != magic[1] || b[off+2] != magic[2] || b[off+3] != magic[3] {
			continue
		}
		v := 0
		ok := true
		for k := range 4 {
			c := b[off+4+k]
			if c&0xf0 != 0x40 {
				ok = false
				break
			}
			v = v<<4 | int(c&0x0f)
		}
		if !ok || v >= 2*frames {
			continue
		}
		return ((v + 1) / 2) % frames, true
	}
	return 0, false
}
