"""Trains VisemeNet (JAX on CPU) and exports it as a .vnet file for ParlaMotion.

Network: 80 log-mel bands (normalised by the training set's per-band mean/std) → five 1-D convolutions
(ReLU) → 16 logits per 10 ms frame. Each layer is (kernel, dilation, future taps); zeros stand for
frames before the start and after the end, which is also what the Swift runner does.
Look-ahead = Σ future·dilation frames."""
import argparse, json, os, struct, sys, time, hashlib
import numpy as np

LAYERS = [  # (in, out, kernel, dilation, future taps)
    (80, 128, 5, 1, 2),
    (128, 128, 3, 2, 1),
    (128, 128, 3, 4, 0),
    (128, 128, 3, 8, 0),
    (128, 16, 1, 1, 0),
]
LOOKAHEAD = sum(f * d for _, _, _, d, f in LAYERS)

def init_params(key):
    import jax
    params = []
    for (cin, cout, k, d, f) in LAYERS:
        key, sub = jax.random.split(key)
        w = jax.random.normal(sub, (cout, cin, k)) * np.sqrt(2.0 / (cin * k))
        params.append((w, np.zeros(cout, np.float32)))
    return params

def forward(params, x):
    """x: (batch, time, 80) normalised → logits (batch, time, 16)."""
    import jax, jax.numpy as jnp
    h = jnp.transpose(x, (0, 2, 1))
    for i, ((w, b), (cin, cout, k, d, f)) in enumerate(zip(params, LAYERS)):
        pad = ((k - 1 - f) * d, f * d)
        h = jax.lax.conv_general_dilated(h, w, (1,), [pad], rhs_dilation=(d,),
                                         dimension_numbers=("NCH", "OIH", "NCH")) + b[None, :, None]
        if i < len(LAYERS) - 1:
            h = jax.nn.relu(h)
    return jnp.transpose(h, (0, 2, 1))

def batches(data, rng, batch, length):
    logmel, labels, lengths = data
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    while True:
        idx = rng.integers(0, len(lengths), batch)
        xb = np.zeros((batch, length, 80), np.float32)
        yb = np.zeros((batch, length), np.int32)
        mb = np.zeros((batch, length), np.float32)
        for j, u in enumerate(idx):
            n = lengths[u]
            off = rng.integers(0, max(1, n - length + 1))
            m = min(length, n - off)
            xb[j, :m] = logmel[starts[u] + off: starts[u] + off + m]
            yb[j, :m] = labels[starts[u] + off: starts[u] + off + m]
            mb[j, :m] = 1
        yield xb, yb, mb

def quantize(w):
    """Symmetric int8 per output channel: w ≈ q · scale[o]."""
    flat = w.reshape(w.shape[0], -1)
    scale = np.maximum(np.abs(flat).max(1), 1e-12) / 127
    q = np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scale.astype(np.float32)

def export(path, params, mean, std, meta):
    """The weights-only .vnet (version 1) that Tools/lib/visemenet_quantize.py turns into the shipped version 2 by
    calibrating the activations. Layout: magic 'VNET', u32 version 1, u32 json length, json, then per layer: int8 weights [out][k][in]
    (tap-major so the runner walks the input contiguously), f32 scales[out], f32 bias[out]; then f32 mean[80],
    f32 std[80]. All little-endian."""
    layers = []
    body = bytearray()
    for (w, b), (cin, cout, k, d, f) in zip(params, LAYERS):
        w = np.asarray(w, np.float32)
        q, scale = quantize(w)
        body += np.ascontiguousarray(np.transpose(q, (0, 2, 1))).tobytes()
        body += scale.tobytes() + np.asarray(b, np.float32).tobytes()
        layers.append({"in": cin, "out": cout, "kernel": k, "dilation": d, "future": f})
    body += np.asarray(mean, np.float32).tobytes() + np.asarray(std, np.float32).tobytes()
    meta = dict(meta, layers=layers, lookahead_frames=LAYERS and LOOKAHEAD, classes=16, bands=80,
                sha256_body=hashlib.sha256(bytes(body)).hexdigest())
    js = json.dumps(meta, indent=1).encode()
    with open(path, "wb") as f:
        f.write(b"VNET" + struct.pack("<II", 1, len(js)) + js + bytes(body))

def dequantized(params):
    out = []
    for w, b in params:
        q, s = quantize(np.asarray(w, np.float32))
        out.append((q.astype(np.float32) * s.reshape(-1, *([1] * (q.ndim - 1))), np.asarray(b, np.float32)))
    return out

def evaluate(params, data, mean, std):
    import jax.numpy as jnp
    logmel, labels, lengths = data
    correct = total = 0
    pos = 0
    fwd = jax_jit_forward()
    for n in lengths:
        x = (logmel[pos:pos + n].astype(np.float32) - mean) / std
        # Pad to a multiple of 512 frames so XLA compiles a handful of shapes, not one per utterance.
        padded = np.zeros((-(-n // 512) * 512, x.shape[1]), np.float32)
        padded[:n] = x
        pred = np.asarray(fwd(params, jnp.asarray(padded[None]))[0])[:n].argmax(1)
        correct += (pred == labels[pos:pos + n]).sum()
        total += n
        pos += n
    return correct / total

_fwd = None
def jax_jit_forward():
    global _fwd
    if _fwd is None:
        import jax
        _fwd = jax.jit(forward)
    return _fwd

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--held", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--minutes", type=float, default=18, help="stop training after this much wall time")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import jax, jax.numpy as jnp, optax
    tr = np.load(a.train)
    he = np.load(a.held)
    train = (tr["logmel"], tr["labels"].astype(np.int32), tr["lengths"])
    held = (he["logmel"], he["labels"].astype(np.int32), he["lengths"])
    mean = train[0][::7].astype(np.float32).mean(0)
    std = train[0][::7].astype(np.float32).std(0) + 1e-3
    counts = np.bincount(train[1], minlength=16).astype(np.float64)
    # Mild class balancing: weight ∝ count^-0.3, mean 1 over frames.
    cw = (counts + 100) ** -0.3
    cw = cw / (cw * counts).sum() * counts.sum()
    cw = jnp.asarray(cw, jnp.float32)
    mu, sd = jnp.asarray(mean), jnp.asarray(std)

    def loss_fn(p, x, y, m):
        logits = forward(p, (x - mu) / sd)
        ll = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        w = cw[y] * m
        return (ll * w).sum() / (w.sum() + 1e-6)

    def make(steps):
        sched = optax.warmup_cosine_decay_schedule(0, 3e-3, min(100, steps // 4), steps, 1e-4)
        opt = optax.adamw(sched, weight_decay=1e-4)

        @jax.jit
        def step(p, s, x, y, m):
            l, g = jax.value_and_grad(loss_fn)(p, x, y, m)
            u, s = opt.update(g, s, p)
            return optax.apply_updates(p, u), s, l
        params = init_params(jax.random.PRNGKey(a.seed))
        return params, opt.init(params), step

    rng = np.random.default_rng(a.seed)
    gen = batches(train, rng, 24, 300)
    # Calibrate: time a few steps, then size the run to the time budget (the schedule needs the step count).
    params, state, step = make(a.steps)
    x, y, m = next(gen)
    step(params, state, x, y, m)[2].block_until_ready()
    c0 = time.time()
    for _ in range(8):
        params, state, l = step(params, state, x, y, m)
    l.block_until_ready()
    per = (time.time() - c0) / 8
    steps = max(50, min(a.steps, int(a.minutes * 60 / per * 0.9)))
    print(f"{per * 1000:.0f} ms per step: {steps} steps", flush=True)
    params, state, step = make(steps)
    a.steps = steps
    t0 = time.time()
    done = 0
    for i in range(a.steps):
        x, y, m = next(gen)
        # Gain augmentation on the features: a level change shifts every log band equally.
        x = x + rng.uniform(-1.5, 1.5, (x.shape[0], 1, 1)).astype(np.float32)
        params, state, l = step(params, state, jnp.asarray(x), jnp.asarray(y), jnp.asarray(m))
        done = i + 1
        if i % 250 == 0:
            print(f"step {i} loss {float(l):.3f} {time.time() - t0:.0f} s", flush=True)
        if time.time() - t0 > a.minutes * 60:
            print(f"time limit: stopped after {done} steps", flush=True)
            break
    params = [(np.asarray(w), np.asarray(b)) for w, b in params]
    acc_f = evaluate([(jnp.asarray(w), jnp.asarray(b)) for w, b in params], held, mean, std)
    qp = dequantized(params)
    acc_q = evaluate([(jnp.asarray(w), jnp.asarray(b)) for w, b in qp], held, mean, std)
    print(f"held-out frame accuracy: fp32 {acc_f:.3f}, int8 weights {acc_q:.3f}", flush=True)
    nparams = sum(w.size + b.size for w, b in params)
    meta = {
        "name": "VisemeNet", "version": 1, "parameters": int(nparams),
        "frame_ms": 10, "lookahead_ms": LOOKAHEAD * 10,
        "training": {"steps": done, "seconds": round(time.time() - t0), "seed": a.seed,
                     "train_frames": int(train[1].size), "train_utterances": int(len(train[2])),
                     "train_voices": sorted(set(map(str, tr["voices"]))),
                     "held_out_voices": sorted(set(map(str, he["voices"]))),
                     "held_out_frame_accuracy_fp32": round(float(acc_f), 4),
                     "held_out_frame_accuracy_int8": round(float(acc_q), 4)},
        "provenance": "Tools/train-visemenet: speech synthesized with espeak-ng (GPL-3.0-or-later, via libespeak-ng "
                      "phoneme events) and MBROLA voices (mbrola GPL-3.0; voice databases: free for non-commercial "
                      "use, used here for training data only and not shipped); English prose from Python's pydoc "
                      "topics (PSF licence). Labels: Sources/ParlaMotion/Visemes/espeak-visemes.tsv.",
        "licence": "weights: same licence as Parla",
    }
    export(a.out, params, mean, std, meta)
    print(f"wrote {a.out}: {nparams} parameters, look-ahead {LOOKAHEAD * 10} ms", flush=True)

if __name__ == "__main__":
    main()
