#!/bin/sh
# Regenerates speech_en_16k.wav, the real-speech fixture of the ParlaMotion tests: espeak-ng (en-us, 150 wpm)
# speaks three short sentences (pauses of ~350 ms between them); sox resamples its 22050 Hz output to
# 16 kHz 16-bit mono without dither (-D), so the pauses stay digital silence and the output is reproducible.
# Run from this folder: sh generate_speech_fixture.sh
set -e
espeak-ng -v en-us -s 150 -w /tmp/parla_speech_22k.wav \
  "Hello there. My name is Parla. I open my mouth when I speak."
sox -D /tmp/parla_speech_22k.wav -r 16000 -c 1 -b 16 speech_en_16k.wav
rm -f /tmp/parla_speech_22k.wav
