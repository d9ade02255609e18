"""VisemeNet training data: speech synthesized here with exact phoneme timing, labelled with visemes.

Sources (see NOTICE): espeak-ng through libespeak-ng's synchronous API (espeakEVENT_PHONEME gives each
phoneme's exact sample position) and MBROLA voices driven by `espeak-ng --pho` (.pho durations are exact by
construction). Labels come from Sources/ParlaMotion/Visemes/espeak-visemes.tsv, the table the Swift side
uses too. Features are the Swift front end's log-mel (VisemeFrontEnd), recomputed here in numpy.
"""
import ctypes, os, random, subprocess, tempfile, pathlib
import numpy as np
from scipy import signal

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = ROOT / "Sources/ParlaMotion/Visemes/espeak-visemes.tsv"
VISEMES = ["sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou", "nonspeech"]
SIL, PP, NONSPEECH = 0, 1, 15
MODIFIERS = set(":#-~^23@=/1'")
RATE = 16000

def load_table():
    tables = {"espeak": {}, "sampa": {}}
    for line in TABLE.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        t, ph, v = line.split("\t")
        tables[t][ph] = VISEMES.index(v)
    return tables

TABLES = load_table()

def viseme(name, table):
    """Same rule as PhonemeVisemes.viseme(for:in:): exact, then strip trailing modifiers."""
    m = TABLES[table]
    key = name.strip().lstrip("',")
    while key:
        if key in m:
            return m[key]
        if key[-1] not in MODIFIERS:
            return None
        key = key[:-1]
    return None

# ---------------------------------------------------------------- front end (mirrors VisemeFrontEnd.swift)
def mel_filterbank(rate=RATE, n_fft=512, bands=80, lo=60.0, hi=7600.0):
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = hz(mel(lo) + (mel(hi) - mel(lo)) * np.arange(bands + 2) / (bands + 1))
    f = np.arange(n_fft // 2 + 1) * rate / n_fft
    fb = np.zeros((bands, len(f)), np.float64)
    for b in range(bands):
        l, c, u = edges[b], edges[b + 1], edges[b + 2]
        fb[b] = np.maximum(0, np.minimum((f - l) / (c - l), (u - f) / (u - c)))
    return fb.astype(np.float32)

FB = mel_filterbank()
HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)).astype(np.float32)

def log_mel(x):
    """Frame k centred on sample k*160 (200 zeros in front), 80 log-mel bands, plus level dBFS per frame."""
    x = np.asarray(x, np.float32)
    y = np.empty_like(x)
    y[0] = x[0]
    y[1:] = x[1:] - 0.97 * x[:-1]
    y = np.concatenate([np.zeros(200, np.float32), y])
    n = 0 if len(y) < 400 else 1 + (len(y) - 400) // 160
    idx = np.arange(400)[None, :] + 160 * np.arange(n)[:, None]
    frames = y[idx] * HANN
    spec = np.fft.rfft(frames, 512)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    bands = power @ FB.T
    logmel = np.log(np.maximum(bands, 1e-10)).astype(np.float32)
    total = bands.sum(1)
    level = np.where(total > 1e-9, 10 * np.log10(np.maximum(total, 1e-30) / 38400), -120).astype(np.float32)
    return logmel, level

# ---------------------------------------------------------------- espeak-ng through libespeak-ng
class Espeak:
    class Event(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("uid", ctypes.c_uint), ("text_position", ctypes.c_int),
                    ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                    ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]

    def __init__(self):
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        # AUDIO_OUTPUT_SYNCHRONOUS = 2, espeakINITIALIZE_PHONEME_EVENTS = 1
        self.rate = self.lib.espeak_Initialize(2, 0, None, 1)
        if self.rate <= 0:
            raise RuntimeError("libespeak-ng: initialisation failed")
        CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(self.Event))
        self._cb = CB(self._callback)
        self.lib.espeak_SetSynthCallback(self._cb)

    def _callback(self, wav, n, ev):
        if wav and n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while ev[i].type != 0:
            if ev[i].type == 7:  # espeakEVENT_PHONEME
                self.events.append((ev[i].sample, ev[i].id.decode("latin1")))
            i += 1
        return 0

    def synth(self, voice, text, rate=175, pitch=50, prange=50):
        """(audio float32 at self.rate, [(sample, phoneme)])."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng: no voice {voice}")
        self.lib.espeak_SetParameter(1, int(rate), 0)
        self.lib.espeak_SetParameter(3, int(pitch), 0)
        self.lib.espeak_SetParameter(4, int(prange), 0)
        self.chunks, self.events = [], []
        b = text.encode()
        self.lib.espeak_Synth(b, len(b) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self.chunks).astype(np.float32) / 32768 if self.chunks else np.zeros(0, np.float32)
        return audio, self.events

def espeak_labels(events, n_samples, rate):
    """[(start_s, end_s, viseme)] from phoneme events: each phoneme lasts until the next event."""
    spans = []
    for i, (s, ph) in enumerate(events):
        e = events[i + 1][0] if i + 1 < len(events) else n_samples
        v = viseme(ph, "espeak")
        if v is None or e <= s:
            continue
        spans.append((s / rate, e / rate, v))
    return spans

# ---------------------------------------------------------------- MBROLA
def mbrola_pho(voice, text, rate=175, pitch=50):
    out = subprocess.run(["espeak-ng", "-v", "mb-" + voice, "-q", "--pho", "-s", str(rate), "-p", str(pitch), text],
                         capture_output=True, text=True, timeout=60)
    lines = []
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and not line.startswith(";"):
            try:
                lines.append([f[0], int(f[1]), [int(p) for p in f[2:]]])
            except ValueError:
                pass
    return lines

def sing(pho, rng):
    """Sustained, pitched vowels: vowels stretched to 250–900 ms on flat notes of one scale."""
    base = rng.choice([110, 147, 196, 262, 330])
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    out = []
    for ph, dur, _ in pho:
        v = viseme(ph, "sampa")
        f0 = int(base * 2 ** (rng.choice(steps) / 12))
        if v is not None and v >= 10:
            out.append([ph, rng.randint(250, 900), [0, f0, 50, int(f0 * 1.01), 100, f0]])
        else:
            out.append([ph, dur, [0, f0, 100, f0]])
    return out

def mbrola_synth(voice, pho, tmp, time_ratio=1.0, freq_ratio=1.0):
    path = os.path.join(tmp, "s.pho")
    with open(path, "w") as f:
        for ph, dur, pitch in pho:
            f.write(f"{ph} {dur} {' '.join(map(str, pitch))}\n")
    wav = os.path.join(tmp, "s.wav")
    db = f"/usr/share/mbrola/{voice}/{voice}"
    r = subprocess.run(["mbrola", "-e", "-t", f"{time_ratio:.3f}", "-f", f"{freq_ratio:.3f}", db, path, wav],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or "not found" in (r.stderr + r.stdout).lower() or not os.path.exists(wav):
        return None
    from scipy.io import wavfile
    rate, a = wavfile.read(wav)
    os.remove(wav)
    spans, t = [], 0.0
    for ph, dur, _ in pho:
        d = dur * time_ratio / 1000
        v = viseme(ph, "sampa")
        if v is not None:
            spans.append((t, t + d, v))
        t += d
    return a.astype(np.float32) / 32768, rate, spans

# ---------------------------------------------------------------- text
SENTENCES = {
 "en": ["The quick brown fox jumps over the lazy dog.", "She sells sea shells by the sea shore.",
        "Why would you buy a big pink pig?", "Thank them, though, for the measure of judgement.",
        "Peter Piper picked a peck of pickled peppers.", "How now, brown cow?", "My mother makes a map of the moon.",
        "Bob bought a bamboo boat.", "Pam's puppy plays by the pool.", "Would you like some more bread and butter?",
        "The beautiful music filled the empty room.", "We were waiting for the weather to change.",
        "Please put the papers back in the box.", "I think the theatre is over there.", "Call me when you arrive."],
 "de": ["Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.", "Ich möchte ein Brötchen mit Käse.",
        "Fünf Mäuse tanzen auf dem Tisch.", "Guten Morgen, wie geht es Ihnen heute?", "Meine Mutter malt mir ein Bild.",
        "Papa bringt die Post am Montag.", "Das Wetter war wunderbar warm."],
 "fr": ["Portez ce vieux whisky au juge blond qui fume.", "Un bon vin blanc, une brune, le chien joue dans le jardin.",
        "Bonjour, comment allez-vous aujourd'hui?", "Les enfants chantent sous la pluie.", "Ma mère mange une pomme.",
        "Papa part pour Paris en bateau."],
 "es": ["El veloz murciélago hindú comía feliz cardillo y kiwi.", "La cigüeña tocaba el saxofón detrás del palenque de paja.",
        "Buenos días, ¿cómo estás?", "Mi mamá me mima mucho.", "Pablo pinta un barco bonito."],
 "it": ["Ma la volpe, col suo balzo, ha raggiunto il quieto Fido.", "Buongiorno, come stai oggi?",
        "Gli gnocchi sono buoni, la pizza è calda.", "Mamma mia, che bella mattina.", "Il bambino beve il latte."],
 "nl": ["Pa's wijze lynx bezag vroom het fikse aquaduct.", "Goedemorgen, hoe gaat het met u?",
        "De kinderen spelen in de tuin.", "Mijn moeder maakt meestal boterhammen."],
 "pt": ["Um pequeno jabuti xereta viu dez cegonhas felizes.", "Bom dia, como você está?", "O menino bebe muito leite."],
}
SYLLABLES = {
 "en": ("p b m f v th t d n l s z k g r h w y sh ch j".split(), "a e i o u ee oo ay ow oy ar".split()),
 "de": ("p b m f w t d n l s z k g r h j sch ch pf".split(), "a e i o u ä ö ü ei au".split()),
 "fr": ("p b m f v t d n l s z k g r ch j".split(), "a e i o u é ou on an in eau".split()),
 "es": ("p b m f t d n l s k g r rr ch j ll ñ z".split(), "a e i o u".split()),
 "it": ("p b m f v t d n l s z c g r ch gl gn sc".split(), "a e i o u".split()),
 "nl": ("p b m f v t d n l s z k g r h w j sch".split(), "a e i o u aa ee oo ui ij".split()),
 "pt": ("p b m f v t d n l s z c g r ch j lh nh".split(), "a e i o u ão".split()),
}

def english_prose(rng, n):
    """English sentences from Python's own pydoc topic texts (PSF licence), letters only."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return []
    import re
    text = " ".join(topics.values())
    sents = [s.strip() for s in re.split(r"[.\n]{1,}", text) if 30 < len(s.strip()) < 160]
    sents = [re.sub(r"[^A-Za-z ,']", " ", s) for s in sents]
    sents = [re.sub(r" +", " ", s).strip() for s in sents if sum(c.isalpha() for c in s) > 0.8 * len(s)]
    rng.shuffle(sents)
    return sents[:n]

def pseudo_text(lang, rng, words=12):
    cons, vow = SYLLABLES[lang]
    out = []
    for _ in range(words):
        w = "".join(rng.choice(cons) + rng.choice(vow) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            w += rng.choice(["p", "t", "k", "s", "n", "m", "l", "r"])
        out.append(w)
    s = " ".join(out)
    return s[0].upper() + s[1:] + rng.choice([".", ".", "?", ","])

def make_text(lang, rng, prose):
    r = rng.random()
    if lang == "en" and prose and r < 0.45:
        return prose.pop()
    if r < 0.7:
        return " ".join(rng.sample(SENTENCES[lang], k=min(2, len(SENTENCES[lang]))))
    return pseudo_text(lang, rng)

# ---------------------------------------------------------------- augmentation
def resample(x, src, dst):
    if src == dst:
        return x
    g = np.gcd(src, dst)
    return signal.resample_poly(x, dst // g, src // g).astype(np.float32)

def colored_noise(n, rng, kind):
    w = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        return w
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1
    shape = f ** (-0.5 if kind == "pink" else -1.0)
    y = np.fft.irfft(np.fft.rfft(w) * shape, n)
    return (y / (np.std(y) + 1e-9)).astype(np.float32)

def augment(x, rng, nrng):
    """Room echo, band limits, resampling round trips, noise and gain; labels keep their times."""
    if rng.random() < 0.35:  # room: exponentially decaying noise tail, RT60 0.1–0.6 s
        rt60 = rng.uniform(0.1, 0.6)
        n = int(rt60 * RATE)
        t = np.arange(n) / RATE
        rir = nrng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * t / rt60).astype(np.float32)
        rir[0] = 1.0 / rng.uniform(0.15, 0.6)
        rir /= np.abs(rir).sum() ** 0.5 * 4
        rir[0] = max(rir[0], 1.0)
        x = signal.fftconvolve(x, rir)[: len(x)].astype(np.float32)
    r = rng.random()
    if r < 0.15:  # telephone band
        sos = signal.butter(4, [300, 3400], "bandpass", fs=RATE, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    elif r < 0.25:
        sos = signal.butter(6, rng.uniform(3000, 6000), "lowpass", fs=RATE, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    elif r < 0.32:
        sos = signal.butter(2, rng.uniform(100, 400), "highpass", fs=RATE, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    if rng.random() < 0.15:  # resampling round trip through 8, 11.025 or 22.05 kHz
        mid = rng.choice([8000, 11025, 22050])
        x = resample(resample(x, RATE, mid), mid, RATE)[: len(x)]
    peak = np.max(np.abs(x)) + 1e-9
    x = x / peak * 10 ** (rng.uniform(-30, -1) / 20)
    if rng.random() < 0.6:
        snr = rng.uniform(5, 40)
        s = np.sqrt(np.mean(x ** 2)) + 1e-9
        noise = colored_noise(len(x), nrng, rng.choice(["white", "pink", "brown"]))
        x = x + noise * s * 10 ** (-snr / 20)
    return np.clip(x, -1, 1).astype(np.float32)

def breath(rng, nrng):
    """A non-speech event: a breath-like band-passed noise burst (labelled nonspeech)."""
    n = int(rng.uniform(0.25, 0.7) * RATE)
    env = np.sin(np.linspace(0, np.pi, n)) ** 2
    lo = rng.uniform(400, 1200)
    sos = signal.butter(2, [lo, lo * rng.uniform(2, 5)], "bandpass", fs=RATE, output="sos")
    y = signal.sosfilt(sos, nrng.standard_normal(n)) * env
    return (y / (np.abs(y).max() + 1e-9) * 0.3).astype(np.float32)

def frame_labels(spans, n_frames, offset):
    """Frame k (time k*10 ms) takes the viseme of the span containing it; silence elsewhere."""
    lab = np.zeros(n_frames, np.int8)
    for s, e, v in spans:
        a = max(0, int(np.ceil((s + offset) * 100 - 1e-9)))
        b = min(n_frames, int(np.ceil((e + offset) * 100 - 1e-9)))
        if b > a:
            lab[a:b] = v
    return lab
