#!/usr/bin/env python3
"""Writes papa_mama_baba_16k.wav and papa_mama_baba.phonemes.tsv: espeak-ng (en-us, default voice, rate 150)
saying "papa mama baba", through libespeak-ng with phoneme events (exact sample positions), resampled to
16 kHz. Columns: start_s, end_s, espeak phoneme, viseme (from Sources/ParlaMotion/Visemes/espeak-visemes.tsv)."""
import os, sys
import numpy as np
from scipy.io import wavfile
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../../Tools/lib"))
import visemenet_data as D

es = D.Espeak()
audio, events = es.synth("en-us", "papa mama baba", rate=150, pitch=50, prange=50)
x = D.resample(audio, es.rate, 16000)
wavfile.write(os.path.join(here, "papa_mama_baba_16k.wav"), 16000, (np.clip(x, -1, 1) * 32767).astype(np.int16))
with open(os.path.join(here, "papa_mama_baba.phonemes.tsv"), "w") as f:
    f.write("# start_s\tend_s\tphoneme\tviseme  (espeak-ng en-us, libespeak-ng phoneme events, sample-exact)\n")
    for i, (s, ph) in enumerate(events):
        e = events[i + 1][0] if i + 1 < len(events) else len(audio)
        v = D.viseme(ph, "espeak")
        if v is None or e <= s:
            continue
        f.write(f"{s / es.rate:.5f}\t{e / es.rate:.5f}\t{ph}\t{D.VISEMES[v]}\n")
