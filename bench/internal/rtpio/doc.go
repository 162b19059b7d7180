// Package rtpio is what the bench's media peers (bench/cmd/rtppeer and
// bench/cmd/confpeer) share: PCMU RTP packets in and out of a UDP socket in
// batches (recvmmsg/sendmmsg), the 20 ms send pacer, and G.711 u-law.
package rtpio
