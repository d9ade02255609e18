"""Generates the VisemeNet training/held-out sets (log-mel frames + viseme labels) into an .npz file,
and optionally the held-out utterances as WAV + label files for Tools/eval-lipsync."""
import argparse, os, random, sys, tempfile, time
import numpy as np
from multiprocessing import Pool
sys.path.insert(0, os.path.dirname(__file__))
import visemenet_data as D

LANGS = {"en-us": "en", "en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl", "pt": "pt"}
TRAIN_VARIANTS = ["", "m1", "m2", "m3", "m4", "m6", "m7", "f1", "f2", "f4", "f5", "klatt", "klatt2", "Andy", "Annie",
                  "adam", "anika", "boris", "caleb", "david", "edward", "grandma", "john", "linda", "max", "michel",
                  "norbert", "paul", "quincy", "rob", "steph", "travis", "victor", "whisper", "croak"]
HELD_VARIANTS = ["m5", "f3", "klatt3", "benjamin", "belinda"]
MBROLA_LANG = {"us1": "en", "us2": "en", "us3": "en", "en1": "en", "de1": "de", "de2": "de", "fr1": "fr", "fr4": "fr",
               "es1": "es", "es2": "es", "it3": "it", "nl2": "nl"}
TRAIN_MBROLA = ["us1", "us2", "en1", "de2", "fr1", "es1", "it3", "nl2"]
HELD_MBROLA = ["us3", "de1", "fr4", "es2"]

_espeak = None

def utterance(job):
    """One utterance: (log-mel, level, labels, clean-ish audio, voice name) or None."""
    global _espeak
    seed, split, kind, voice, lang, sung = job
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    text = D.make_text(lang, rng, [])
    if kind == "prose":
        text = voice[1]
        voice = voice[0]
    try:
        if voice.startswith("mb:"):
            mb = voice[3:]
            pho = D.mbrola_pho(mb, text, rate=rng.randint(120, 260), pitch=rng.randint(25, 75))
            if not pho:
                return None
            if sung:
                pho = D.sing(pho, rng)
            with tempfile.TemporaryDirectory() as tmp:
                r = D.mbrola_synth(mb, pho, tmp, time_ratio=rng.uniform(0.8, 1.25), freq_ratio=rng.uniform(0.8, 1.25))
            if r is None:
                return None
            audio, rate, spans = r
        else:
            if _espeak is None:
                _espeak = D.Espeak()
            audio, events = _espeak.synth(voice, text, rate=rng.randint(110, 280), pitch=rng.randint(15, 85),
                                          prange=rng.randint(20, 90))
            rate = _espeak.rate
            spans = D.espeak_labels(events, len(audio), rate)
    except Exception:
        return None
    if len(audio) < rate * 0.3 or not spans:
        return None
    audio = D.resample(audio, rate, D.RATE)
    lead, tail = rng.uniform(0.05, 0.6), rng.uniform(0.1, 0.6)
    parts = [np.zeros(int(lead * D.RATE), np.float32), audio, np.zeros(int(tail * D.RATE), np.float32)]
    extra = []
    if rng.random() < 0.15:  # a breath after the utterance
        b = D.breath(rng, nrng)
        start = (len(parts[0]) + len(audio)) / D.RATE + 0.05
        parts.insert(2, np.zeros(int(0.05 * D.RATE), np.float32))
        parts.insert(3, b)
        extra.append((start, start + len(b) / D.RATE, D.NONSPEECH))
    x = np.concatenate(parts)
    clean = x.copy()
    x = D.augment(x, rng, nrng)
    logmel, level = D.log_mel(x)
    labels = D.frame_labels(spans, len(level), lead)
    for s, e, v in extra:
        a, b = int(np.ceil(s * 100)), min(len(labels), int(np.ceil(e * 100)))
        labels[a:b] = v
    return logmel.astype(np.float16), level, labels, (x if split == "held" else None), voice

def jobs(split, count, seed):
    rng = random.Random(seed)
    prose = D.english_prose(rng, count)
    out = []
    variants = TRAIN_VARIANTS if split == "train" else HELD_VARIANTS
    mbrolas = [v for v in (TRAIN_MBROLA if split == "train" else HELD_MBROLA) if os.path.isdir(f"/usr/share/mbrola/{v}")]
    for i in range(count):
        s = rng.randrange(1 << 30)
        if mbrolas and rng.random() < 0.4:
            v = rng.choice(mbrolas)
            out.append((s, split, "mbrola", "mb:" + v, MBROLA_LANG[v], rng.random() < 0.15))
        else:
            lang_voice = rng.choice(list(LANGS))
            var = rng.choice(variants)
            voice = lang_voice + ("+" + var if var else "")
            if LANGS[lang_voice] == "en" and prose and rng.random() < 0.4:
                out.append((s, split, "prose", (voice, prose.pop()), "en", False))
            else:
                out.append((s, split, "espeak", voice, LANGS[lang_voice], False))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["train", "held"], required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wav-dir", help="also write held-out WAVs + frame labels here")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    t0 = time.time()
    with Pool(a.workers) as pool:
        results = [r for r in pool.imap(utterance, jobs(a.split, a.count, a.seed), chunksize=8) if r is not None]
    mels = [r[0] for r in results]
    lengths = np.array([len(m) for m in mels])
    np.savez(a.out, logmel=np.concatenate(mels), level=np.concatenate([r[1] for r in results]),
             labels=np.concatenate([r[2] for r in results]), lengths=lengths,
             voices=np.array([r[4] for r in results]))
    if a.wav_dir:
        from scipy.io import wavfile
        os.makedirs(a.wav_dir, exist_ok=True)
        for i, r in enumerate(results):
            name = f"{i:04d}_" + r[4].replace(":", "-").replace("+", "-")
            wavfile.write(os.path.join(a.wav_dir, name + ".wav"), D.RATE, (r[3] * 32767).astype(np.int16))
            np.savetxt(os.path.join(a.wav_dir, name + ".labels"), r[2].astype(int), fmt="%d", newline=" ")
    hours = lengths.sum() / 100 / 3600
    print(f"{a.split}: {len(results)} utterances, {hours * 60:.1f} min of audio, "
          f"{len(set(r[4] for r in results))} voices, {time.time() - t0:.0f} s", flush=True)

if __name__ == "__main__":
    main()
