// Package tones generates the national ringing tones (ringback) that
// <Dial ringTone="..."> plays to the caller while the dialled party rings.
//
// Ringback(country) returns an endless media.Source for one of Twilio's
// ringTone values (at, au, bg, br, be, ch, cl, cn, cz, de, dk, ee, es, fi, fr,
// gr, hu, il, in, it, lt, jp, mx, my, nl, no, nz, ph, pl, pt, ru, se, sg, th,
// uk, us, us-old, tw, ve, za; Countries lists them). Each tone follows the
// country's entry in ITU-T E.180 Supplement 2 ("Various tones used in national
// networks") or the national specification it reflects; table.go gives the
// values and the source of each.
//
// # Tones
//
// A ringing tone is one of three kinds, in E.180's notation:
//
//   - f: a single sine of f Hz (de: 425 Hz);
//   - f1+f2: the sum of two sines of equal power (us: 440+480 Hz);
//   - f1*f2: f1 Hz amplitude-modulated by f2 Hz (jp: 400*16), which is the
//     carrier plus two side frequencies f1±f2, each at depth/2 of the
//     carrier's amplitude. The depth is 90 %, as in Asterisk's tone
//     generator, unless the national specification says otherwise.
//
// The tone is gated by the cadence, a repeating list of on and off periods
// that always starts with an on period (uk: 0.4 on, 0.2 off, 0.4 on, 2.0 off).
// The Source starts at the beginning of the first on period, so the caller
// hears the tone at once.
//
// # Level
//
// Every ringing tone has a total power of -13 dBm0, whatever its kind: a
// single tone is a sine at -13 dBm0, each frequency of a two-frequency tone is
// at -16 dBm0, and a modulated tone's carrier and side frequencies share the
// -13 dBm0. dBm0 follows G.711: a full-scale sine is +3.17 dBm0, so -13 dBm0 is
// a sine with a peak of 5091 (0.155 of full scale), and the peaks of the
// composite tones stay below 0.26 of full scale: a comfortable listening
// level, like a network's ringing tone, that leaves room for any gain further
// on and never clips.
//
// # Generation
//
// Every frequency is a whole number of hertz, so sample n of a component is
// sin(2π·f·n/8000), read from one shared table of sin(2πk/8000) at index
// f·n mod 8000 kept as an integer phase accumulator: exact, phase-continuous
// across frames and cadence periods (the oscillators run on through the off
// periods, as in an exchange's tone generator), with no drift however long
// the call rings. Each on period starts and ends with a 5 ms raised-cosine
// ramp so that switching the tone on and off does not click. ReadFrame does
// not allocate and never returns an error.
package tones
