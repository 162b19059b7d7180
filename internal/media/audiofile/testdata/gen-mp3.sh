#!/bin/sh
# Regenerates the MP3 fixtures (sox cannot write MP3 on Debian; lame can:
# apt-get install lame). The tests generate every other format at run time.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 1 s of 1 kHz at -6 dBFS, 44.1 kHz mono, 64 kbit/s CBR, no tag.
sox -D -n -r 44100 -b 16 -c 1 "$tmp/a.wav" synth 1 sine 1000 vol 0.5
lame --quiet -b 64 -t --noreplaygain "$tmp/a.wav" tone1k-44k1-mono.mp3
# 0.5 s of 440 Hz, 22.05 kHz stereo, 48 kbit/s, behind an ID3v2 tag.
sox -D -n -r 22050 -b 16 -c 2 "$tmp/b.wav" synth 0.5 sine 440 vol 0.5
lame --quiet -b 48 --resample 22.05 --noreplaygain --id3v2-only --tt "switchboard test" "$tmp/b.wav" tone440-22k05-stereo-id3.mp3
# 1 s of 1 kHz plus 6 kHz (sox sums the two synth tones into the one channel),
# each at -12 dBFS, 48 kHz mono: the 6 kHz must not
# survive resampling to 8 kHz (it would alias to 2 kHz).
sox -D -n -r 48000 -b 16 -c 1 "$tmp/c.wav" synth 1 sine 1000 sine 6000 vol 0.5
lame --quiet -b 96 -t --noreplaygain --lowpass 20000 "$tmp/c.wav" tone1k6k-48k-mono.mp3
