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
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/switchboard-voice/switchboard/bench/internal/rtpio"
)

const (
	tick = 20 * time.Millisecond
	// speechDB: a frame whose other audio (tones removed) is louder than
	// this counts as hearing someone.
	speechDB = -60.0
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "confpeer:", err)
		os.Exit(2)
	}
}

func run() error {
	nRooms := flag.Int("rooms", 1, "rooms: one UDP socket each, on loopback")
	addrFile := flag.String("addr-file", "", "write the ports listened on to this FILE, one a line (room 1 first)")
	speechFile := flag.String("speech", "", "u-law FILE the listeners say, looped (none: silence)")
	amp := flag.Float64("amp", 0.1, "amplitude of each of the talker's tones, of full scale (0.1 = -20 dBFS)")
	idle := flag.Duration("idle", 2*time.Second, "end a stream whose source sent nothing for this long")
	timeout := flag.Duration("timeout", 10*time.Minute, "exit after this long in any case")
	timeline := flag.String("timeline", "", "at exit, write per second (since start): packets received, tsskip, talker audio lost (samples), listener frames without the talker, most send lateness (µs, against the stream's least so far), to FILE")
	flag.Parse()
	if *nRooms < 1 || *nRooms > 64 {
		return fmt.Errorf("-rooms %d: want 1..64", *nRooms)
	}
	if *amp <= 0 || *amp > 0.45 {
		return fmt.Errorf("-amp %g: want (0, 0.45]", *amp)
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	speech := []byte{}
	if *speechFile != "" {
		b, err := os.ReadFile(*speechFile)
		if err != nil {
			return err
		}
		speech = b[:len(b)/frameSamples*frameSamples]
	}
	if len(speech) == 0 {
		speech = slices.Repeat([]byte{0xff}, frameSamples) // u-law silence
	}

	p := &peer{start: time.Now(), idle: *idle, speech: speech}
	for n := range ringFrames {
		p.tones = append(p.tones, talkerFrame(n, *amp))
	}
	// A window 60 % filled by a talker frame still passes; one 45 % filled
	// (a neighbour, trackSpan away) does not.
	p.threshold = 0.6 * *amp
	var ports []string
	for i := range *nRooms {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		defer conn.Close()
		_ = conn.SetReadBuffer(4 << 20)
		_ = conn.SetWriteBuffer(4 << 20)
		r := &room{n: i + 1, conn: conn, pc: ipv4.NewPacketConn(conn), streams: map[netip.AddrPort]*stream{},
			kernelTS: enableTimestamps(conn), det: newDetector()}
		p.rooms = append(p.rooms, r)
		ports = append(ports, fmt.Sprint(conn.LocalAddr().(*net.UDPAddr).Port))
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(strings.Join(ports, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("confpeer: %d rooms on 127.0.0.1 ports %s; kernel receive timestamps %v\n", len(p.rooms), strings.Join(ports, ","), p.rooms[0].kernelTS)

	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range p.rooms {
		wg.Add(1)
		go func() { defer wg.Done(); p.receive(r, done) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); p.send(done) }()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	deadline := time.NewTimer(*timeout)
wait:
	for {
		select {
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				for _, r := range p.rooms {
					fmt.Println(p.report(r, "STATS", true))
				}
			case syscall.SIGUSR2:
				for _, r := range p.rooms {
					p.startWindow(r)
				}
				fmt.Printf("WINDOW t_ms=%d\n", time.Since(p.start).Milliseconds())
			default:
				break wait
			}
		case <-deadline.C:
			fmt.Println("confpeer: -timeout reached")
			break wait
		}
	}
	close(done)
	for _, r := range p.rooms {
		r.conn.Close() // unblocks the receiver
	}
	wg.Wait()
	for _, r := range p.rooms {
		fmt.Println(p.report(r, "TOTAL", false))
		for _, l := range p.streamLines(r) {
			fmt.Println(l)
		}
	}
	if *timeline != "" {
		return os.WriteFile(*timeline, p.timeline(), 0o644)
	}
	return nil
}

// counters are what the probe streams of a room saw.
type counters struct {
	rx      uint64 // RTP packets received
	seqLost uint64 // switchboard's sequence numbers missing
	tsSkip  uint64 // frames skipped in switchboard's timestamps, sequence unbroken
	other   uint64 // datagrams that were not PCMU RTP

	// Listeners: the talker's tone.
	listen   uint64  // frames received by listeners while the talker was live
	tone     uint64  // ... in which the talker's next frame was found where it should be
	gap      uint64  // ... in which it was not
	spanned  uint64  // talker frames the listeners' audio advanced through
	lost     uint64  // talker frames whose place held no tone: replaced by silence
	dropped  uint64  // samples of the talker's audio cut (the delay fell)
	inserted uint64  // samples of silence or repeat inserted in it (the delay grew)
	resSum   float64 // power of the others' audio (tones removed)
	resFr    uint64  // listener frames with other audio above speechDB

	// The talker: what it hears.
	heard    uint64 // frames received by the talker
	self     uint64 // ... in which it hears its own tone (mix-minus broken)
	heardSum float64
	heardFr  uint64 // ... with audio above speechDB

	tx    uint64 // RTP packets sent
	txErr uint64 // sendmmsg errors
}

func (c counters) minus(o counters) counters {
	return counters{
		rx: c.rx - o.rx, seqLost: c.seqLost - o.seqLost, tsSkip: c.tsSkip - o.tsSkip, other: c.other - o.other,
		listen: c.listen - o.listen, tone: c.tone - o.tone, gap: c.gap - o.gap, spanned: c.spanned - o.spanned, lost: c.lost - o.lost,
		dropped: c.dropped - o.dropped, inserted: c.inserted - o.inserted, resSum: c.resSum - o.resSum, resFr: c.resFr - o.resFr,
		heard: c.heard - o.heard, self: c.self - o.self, heardSum: c.heardSum - o.heardSum, heardFr: c.heardFr - o.heardFr,
		tx: c.tx - o.tx, txErr: c.txErr - o.txErr,
	}
}

// stream is one probe leg of switchboard as seen from here.
type stream struct {
	addr   netip.AddrPort
	talker bool
	first  time.Time
	lastRx time.Time

	haveSeq bool
	seq     uint16
	ts      uint32
	k       int64 // switchboard's tick of the last packet, from its timestamp
	minOff  int64 // least arrival minus the 20 ms grid so far, ns
	haveMin bool

	// The last frame received, decoded, and its tick.
	prev     [frameSamples]float64
	cur      [frameSamples]float64
	havePrev bool
	prevK    int64

	// Where the talker's audio is in this stream (listeners).
	tr tracker

	// Per stream, for the STREAM lines.
	n        int // order of arrival in its room (0: the talker)
	rx       uint64
	tone     uint64
	lost     uint64
	dropped  uint64
	inserted uint64
	powSum   float64
	delaySum float64
	delayN   uint64

	ssrc   uint32 // what we send
	outSeq uint16
	outTS  uint32
	outN   int // frames sent
	off    int // where in the speech file it starts
}

type room struct {
	n        int
	conn     *net.UDPConn
	pc       *ipv4.PacketConn
	kernelTS bool
	det      *detector

	mu       sync.Mutex
	streams  map[netip.AddrPort]*stream
	talker   *stream // the first stream; nil once it ended
	nStreams int
	nEnded   int
	gone     []*stream // ended
	c        counters
	winC     counters // c when the window started
	winAt    time.Time
	// Window samples.
	offsets map[*stream][]int64 // arrival minus the 20 ms grid, ns
	delays  []float64           // mouth-to-ear, ms
	sentAt  [ringFrames]time.Time
	sentOK  [ringFrames]bool
}

type peer struct {
	start     time.Time
	idle      time.Duration
	speech    []byte
	tones     [][]byte
	threshold float64
	rooms     []*room

	late uint64 // send ticks more than 10 ms late (guarded by secMu)

	secMu  sync.Mutex
	perSec rtpio.Seconds[[5]uint64]
}

func (p *peer) second(now time.Time) *[5]uint64 {
	return p.perSec.At(p.start, now)
}

func (p *peer) timeline() []byte {
	p.secMu.Lock()
	defer p.secMu.Unlock()
	return p.perSec.Timeline(func(b []byte, i int, c [5]uint64) []byte {
		return fmt.Appendf(b, "%d %d %d %d %d %d\n", i, c[0], c[1], c[2], c[3], c[4])
	})
}

func (p *peer) startWindow(r *room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.winC = r.c
	r.winAt = time.Now()
	r.offsets = map[*stream][]int64{}
	r.delays = r.delays[:0]
}

// receive reads room r's socket in batches until done.
func (p *peer) receive(r *room, done <-chan struct{}) {
	rtpio.Receive(r.pc, 128, done, func(msgs []ipv4.Message, now time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := range msgs {
			from, ok := rtpio.From(&msgs[i])
			if !ok {
				continue
			}
			at, ok := rxTime(msgs[i].OOB[:msgs[i].NN])
			if !ok {
				at = now
			}
			p.packet(r, from, msgs[i].Buffers[0][:msgs[i].N], at, now)
		}
	})
}

// packet accounts for one datagram (r.mu held).
func (p *peer) packet(r *room, from netip.AddrPort, b []byte, at, now time.Time) {
	s := r.streams[from]
	if s == nil {
		s = &stream{addr: from, first: now, ssrc: rand.Uint32(), outSeq: uint16(rand.Uint32()), outTS: rand.Uint32(),
			off: (r.nStreams * 97) % (len(p.speech) / frameSamples), n: r.nStreams}
		if r.nStreams == 0 {
			s.talker = true
			r.talker = s
		}
		r.streams[from] = s
		r.nStreams++
	}
	s.lastRx = now
	payload, seq, ts, ok := rtpio.Payload(b)
	if !ok {
		r.c.other++
		return
	}
	r.c.rx++
	s.rx++
	p.secMu.Lock()
	sec := p.second(now)
	sec[0]++
	p.secMu.Unlock()
	if s.haveSeq {
		dseq := seq - s.seq
		dts := int64(int32(ts - s.ts))
		if dseq >= 1 && dseq < 3000 && dts > 0 && dts%frameSamples == 0 {
			r.c.seqLost += uint64(dseq - 1)
			frames := dts / frameSamples
			if skip := frames - int64(dseq); skip > 0 {
				r.c.tsSkip += uint64(skip)
				p.secMu.Lock()
				sec[1] += uint64(skip)
				p.secMu.Unlock()
			}
			s.k += frames
		}
	}
	s.seq, s.ts, s.haveSeq = seq, ts, true
	off := at.UnixNano() - s.k*int64(tick)
	if r.offsets != nil {
		r.offsets[s] = append(r.offsets[s], off)
	}
	if !s.haveMin || off < s.minOff {
		s.minOff, s.haveMin = off, true
	}
	if late := uint64((off - s.minOff) / 1000); late > 0 {
		p.secMu.Lock()
		sec[4] = max(sec[4], late)
		p.secMu.Unlock()
	}

	power := decode(&s.cur, payload)
	s.powSum += power
	consecutive := s.havePrev && s.k == s.prevK+1
	p0 := (s.k - 1) * frameSamples // where prev starts
	prev := s.prev
	s.prev, s.prevK, s.havePrev = s.cur, s.k, true
	if s.talker {
		r.c.heard++
		r.c.heardSum += power
		if dBFS(power) > speechDB {
			r.c.heardFr++
		}
		if consecutive && r.det.scan(&prev, &s.cur).amp >= p.threshold {
			r.c.self++
		}
		return
	}
	if r.talker == nil {
		return // the talker left: nothing to look for
	}
	r.c.listen++
	if !consecutive {
		// A jump in the timeline (ticks the pacer dropped, counted in
		// tsskip): find the talker afresh.
		s.tr.reset()
		return
	}
	o := s.tr.step(r.det, &prev, &s.cur, p0, p.threshold)
	a := o.a
	toneP := 0.0
	if o.found {
		toneP += a.amp * a.amp / 2
	}
	if o.found && a.marker >= p.threshold {
		toneP += a.marker * a.marker / 2
	}
	res := max(power-toneP, 0)
	r.c.resSum += res
	if dBFS(res) > speechDB {
		r.c.resFr++
	}
	if !o.analysed {
		return
	}
	if !o.found {
		r.c.gap++
		p.secMu.Lock()
		sec[3]++
		p.secMu.Unlock()
		return
	}
	r.c.tone++
	s.tone++
	r.c.spanned += uint64(o.frames)
	r.c.lost += uint64(o.lost)
	s.lost += uint64(o.lost)
	r.c.dropped += uint64(o.dropped)
	s.dropped += uint64(o.dropped)
	r.c.inserted += uint64(o.inserted)
	s.inserted += uint64(o.inserted)
	if o.lost > 0 || o.dropped > 0 {
		p.secMu.Lock()
		sec[2] += uint64(o.lost*frameSamples + o.dropped)
		p.secMu.Unlock()
	}
	// A marker names the talker's frame mod 400: when it was sent. Its
	// first sample left switchboard with the previous packet, off samples in.
	if a.marker >= p.threshold && r.offsets != nil {
		for m := 0; m < ringFrames; m += markerEvery {
			if m%nTones == a.idx && r.sentOK[m] {
				heard := at.Add(-tick + time.Duration(a.off)*time.Second/sampleRate)
				if d := heard.Sub(r.sentAt[m]); d > 0 && d < 8*time.Second {
					r.delays = append(r.delays, float64(d)/float64(time.Millisecond))
					s.delaySum += float64(d) / float64(time.Millisecond)
					s.delayN++
				}
				break
			}
		}
	}
}

// send sends one packet to every live stream of every room every 20 ms
// until done, and ends the streams that went quiet.
func (p *peer) send(done <-chan struct{}) {
	const size = rtpio.HeaderSize + frameSamples
	var (
		buf  []byte
		dst  []*net.UDPAddr
		msgs []ipv4.Message
	)
	rtpio.Pace(done, tick, func(now time.Time, late bool) {
		if late {
			p.secMu.Lock()
			p.late++
			p.secMu.Unlock()
		}
		for _, r := range p.rooms {
			buf, dst = buf[:0], dst[:0]
			r.mu.Lock()
			for a, s := range r.streams {
				if now.Sub(s.lastRx) > p.idle {
					delete(r.streams, a)
					r.nEnded++
					r.gone = append(r.gone, s)
					if s == r.talker {
						r.talker = nil
					}
					continue
				}
				buf = rtpio.AppendHeader(buf, s.outSeq, s.outTS, s.ssrc)
				if s.talker {
					m := s.outN % ringFrames
					buf = append(buf, p.tones[m]...)
					r.sentAt[m], r.sentOK[m] = time.Now(), true
				} else {
					f := (s.off + s.outN) % (len(p.speech) / frameSamples)
					buf = append(buf, p.speech[f*frameSamples:(f+1)*frameSamples]...)
				}
				s.outSeq++
				s.outTS += frameSamples
				s.outN++
				r.c.tx++
				dst = append(dst, net.UDPAddrFromAddrPort(a))
			}
			r.mu.Unlock()
			var errs int
			msgs, errs = rtpio.Send(r.pc, msgs, buf, size, dst)
			if errs > 0 {
				r.mu.Lock()
				r.c.txErr += uint64(errs)
				r.mu.Unlock()
			}
		}
	})
}

// report is a room's line: the window's counters (window) or the whole
// run's, and the percentiles of the window's samples.
func (p *peer) report(r *room, tag string, window bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.c
	winMS := time.Since(p.start).Milliseconds()
	if window {
		c = r.c.minus(r.winC)
		if !r.winAt.IsZero() {
			winMS = time.Since(r.winAt).Milliseconds()
		}
	}
	var late []float64
	for _, offs := range r.offsets {
		if len(offs) == 0 {
			continue
		}
		lo := slices.Min(offs)
		for _, o := range offs {
			late = append(late, float64(o-lo)/1e3) // µs
		}
	}
	slices.Sort(late)
	delays := slices.Clone(r.delays)
	slices.Sort(delays)
	p.secMu.Lock()
	lateTicks := p.late
	p.secMu.Unlock()
	mean := func(sum float64, n uint64) string {
		if n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", dBFS(sum/float64(n)))
	}
	return fmt.Sprintf("%s room=%d t_ms=%d win_ms=%d active=%d streams=%d ended=%d talker=%v kernel_ts=%v "+
		"rx=%d seqlost=%d tsskip=%d other=%d "+
		"listen=%d tone=%d gap=%d spanned=%d lost=%d dropped=%d inserted=%d others_db=%s others_frames=%d "+
		"heard=%d self=%d heard_db=%s heard_frames=%d "+
		"late_n=%d late_p50_us=%.0f late_p99_us=%.0f late_p999_us=%.0f late_max_us=%.0f "+
		"delay_n=%d delay_p50_ms=%.1f delay_p99_ms=%.1f delay_max_ms=%.1f tx=%d txerr=%d late_ticks=%d",
		tag, r.n, time.Since(p.start).Milliseconds(), winMS, len(r.streams), r.nStreams, r.nEnded, r.talker != nil, r.kernelTS,
		c.rx, c.seqLost, c.tsSkip, c.other,
		c.listen, c.tone, c.gap, c.spanned, c.lost, c.dropped, c.inserted, mean(c.resSum, c.listen), c.resFr,
		c.heard, c.self, mean(c.heardSum, c.heard), c.heardFr,
		len(late), pct(late, 50), pct(late, 99), pct(late, 99.9), pct(late, 100),
		len(delays), pct(delays, 50), pct(delays, 99), pct(delays, 100), c.tx, c.txErr, lateTicks)
}

// streamLines are the "STREAM" lines of a room: each probe leg's own
// counters over the whole run, in order of arrival.
func (p *peer) streamLines(r *room) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := slices.Clone(r.gone)
	for _, s := range r.streams {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *stream) int { return a.n - b.n })
	var out []string
	for _, s := range all {
		role := "listener"
		if s.talker {
			role = "talker"
		}
		delay := math.NaN()
		if s.delayN > 0 {
			delay = s.delaySum / float64(s.delayN)
		}
		out = append(out, fmt.Sprintf("STREAM room=%d n=%d role=%s from=%s rx=%d tone=%d lost=%d dropped=%d inserted=%d level_db=%.1f markers=%d delay_ms=%.1f",
			r.n, s.n, role, s.addr, s.rx, s.tone, s.lost, s.dropped, s.inserted, dBFS(s.powSum/float64(max(s.rx, 1))), s.delayN, delay))
	}
	return out
}

// pct is the p-th percentile (nearest rank) of sorted v; NaN when empty.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(float64(len(v))*p/100)) - 1
	return v[min(max(i, 0), len(v)-1)]
}
