// Package g711 implements the ITU-T G.711 companding laws, μ-law (PCMU, RTP
// payload type 0) and A-law (PCMA, payload type 8), between 16-bit signed linear
// PCM and 8-bit codes.
//
// The conversions follow the ITU-T G.191 Software Tools Library reference
// implementation of G.711 (g711.c): a 16-bit sample is reduced to the 14-bit
// (μ-law) or 13-bit (A-law) magnitude the Recommendation specifies, taking the
// one's complement of negative samples so that the laws are exactly symmetric, and
// decoding returns the midpoint of each quantisation interval. Every code decodes
// and re-encodes to itself, except μ-law's "negative zero" 0x7F, which re-encodes
// as 0xFF.
//
// All four slice functions are table driven and do not allocate: encoding looks the
// sample's top 14 (μ-law) or 12 (A-law) bits up in a table built once at package
// initialisation, decoding looks the code up in a 256-entry table. They are the
// codec of every RTP leg, so they sit on the hottest path switchboard has.
//
// The byte-to-byte transcoders UlawToAlaw and AlawToUlaw go through linear PCM and
// are meant for bridging a PCMU leg to a PCMA leg.
package g711
