#!/usr/bin/env python3
"""Writes the safetensors fixtures that Tests/TrainingCoreTests/SafetensorsTests.swift reads.

Needs numpy only. The safetensors format is written here by hand (no torch, no safetensors
package), so the Swift reader is checked against an independent writer:

    8 bytes   N, little-endian u64
    N bytes   JSON header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}
    rest      tensor data, little-endian, row-major, offsets relative to the end of the header

Models use PyTorch state-dict names and layouts (nn.Embedding, nn.RNN/LSTM/GRU, nn.Linear), with
g = 1 (RNN), 4 (LSTM), 3 (GRU) gate blocks stacked in weight_ih/weight_hh/bias_*:

    lstm_{f32,f16,bf16,f64}  1-layer LSTM LM, V=11, E=6, H=5, same float64 source values stored in
                             four dtypes; the files vary header order, data order, JSON spacing,
                             padding and metadata escaping on purpose
    rnn2_bidir_nobias        2-layer bidirectional tanh RNN, bias=False everywhere (no rnn.bias_*,
                             no decoder.bias), `_reverse` tensors, decoder (V, 2H)
    gru_tied                 1-layer GRU with E = H = 6 and the decoder tied to the embedding, so
                             decoder.weight is absent (as safetensors drops shared tensors)
    specials                 mixed dtypes: F16 and BF16 zeros, subnormals, extremes, infinities and
                             NaNs; F64 values that round or overflow in float32; a scalar; an empty tensor

A checkpoint series (series/, read by CheckpointTests): a 2-layer GRU LM (V=9, E=5, H=4) at three
training steps, its recurrent weights grown step by step as training would, plus a probe batch and
metrics logs, and files that must be refused:

    series/ckpt_000000       step 0 from the name (no metadata)
    series/ckpt_000020       metadata step "20", equal to the number in the name
    series/late              metadata step "45", no number in the name
    series/tokens.json       the probe batch (B=3 rows of T + 1 = 8 ids)
    series/metrics.jsonl     the loop's log as JSON Lines; metrics.csv the same as CSV
    series_bad/hidden5_step-30      H=5: an architecture that differs
    series_bad/extra_step-30        one tensor more than the series
    series_bad/again_step-20        step 20 again (from the name)
    series_bad/nostep               neither metadata step nor a number in the name
    series_bad/badstep_7            metadata step "1.5e3"

Next to each X.safetensors, X.json holds what the Swift test checks: metadata, every tensor's
dtype and shape, the float64 sum of its float32 values, and a few elements with their float32
bit patterns. Run from anywhere: python3 Scripts/make_fixtures.py
"""

import json
import pathlib
import struct

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "TrainingCoreTests" / "Fixtures"
SEED = 20240611
V, E, H = 11, 6, 5


# MARK: dtype conversions (the values the Swift reader must produce, as float32)

def bf16_bits(values32):
    """float32 -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN."""
    bits = np.asarray(values32, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values32, dtype=np.float32))
    rounded[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def stored(dtype, values64):
    """(raw little-endian bytes, the float32 values a reader must decode) for float64 source values."""
    values64 = np.asarray(values64, dtype=np.float64)
    if dtype == "F32":
        v = values64.astype(np.float32)
        return v.astype("<f4").tobytes(), v
    if dtype == "F64":
        with np.errstate(over="ignore"):
            return values64.astype("<f8").tobytes(), values64.astype(np.float32)
    if dtype == "F16":
        with np.errstate(over="ignore"):
            h = values64.astype(np.float16)
        return h.astype("<f2").tobytes(), h.astype(np.float32)
    if dtype == "BF16":
        b = bf16_bits(values64.astype(np.float32))
        return b.astype("<u2").tobytes(), (b.astype(np.uint32) << 16).view(np.float32)
    raise ValueError(dtype)


def from_bits(dtype, bits):
    """Raw bit patterns of a 16-bit dtype -> (bytes, float32 values decoded by numpy)."""
    b = np.asarray(bits, dtype=np.uint16)
    if dtype == "F16":
        return b.astype("<u2").tobytes(), b.view(np.float16).astype(np.float32)
    if dtype == "BF16":
        return b.astype("<u2").tobytes(), (b.astype(np.uint32) << 16).view(np.float32)
    raise ValueError(dtype)


# MARK: writer and reader

def write_safetensors(path, tensors, metadata=None, header_order=None, separators=(",", ":"),
                      ensure_ascii=True, pad=True):
    """tensors: list of (name, dtype, shape, raw bytes) in data order."""
    offsets, position = {}, 0
    for name, _, _, raw in tensors:
        offsets[name] = [position, position + len(raw)]
        position += len(raw)
    by_name = {t[0]: t for t in tensors}
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in header_order or [t[0] for t in tensors]:
        _, dtype, shape, _ = by_name[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": offsets[name]}
    text = json.dumps(header, separators=separators, ensure_ascii=ensure_ascii).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors))


def read_back(path):
    """Minimal reader used only to check this script's own output."""
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    spans = sorted(v["data_offsets"] for k, v in header.items() if k != "__metadata__")
    position = 0
    for begin, end in spans:
        assert begin == position, (path, begin, position)
        position = end
    assert position == len(data), (path, position, len(data))
    return header


# MARK: fixtures

def expected_json(tensors, decoded, metadata, rng, picks_per_tensor=3, all_elements=False):
    """The checks the Swift test makes: shapes, sums, a few elements with their float32 bits."""
    entries, elements = {}, []
    for name, dtype, shape, _ in tensors:
        values = decoded[name].reshape(-1)
        finite = values[np.isfinite(values)]
        entries[name] = {"dtype": dtype, "shape": list(shape),
                         "sum": float(np.sum(finite.astype(np.float64))),
                         "nonfinite": int(values.size - finite.size)}
        if values.size == 0:
            continue
        if all_elements:
            chosen = range(values.size)
        else:
            extra = rng.choice(values.size, size=min(picks_per_tensor, values.size), replace=False)
            chosen = sorted({0, values.size - 1, *(int(i) for i in extra)})
        for flat in chosen:
            v = np.float32(values[flat])
            elements.append({
                "tensor": name,
                "index": [int(i) for i in np.unravel_index(flat, shape)] if shape else [],
                "flat": int(flat),
                "value": float(v) if np.isfinite(v) else None,
                "f32_bits": int(np.array([v], dtype=np.float32).view(np.uint32)[0]),
            })
    return {"metadata": metadata or {}, "tensors": entries, "elements": elements}


def format_expected(content):
    """JSON with one tensor or element per line, so a diff of the fixtures stays readable."""
    def one(value):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    tensors = [f"  {one(name)}: {one(entry)}" for name, entry in content["tensors"].items()]
    elements = [f"  {one(element)}" for element in content["elements"]]
    return ("{\n"
            f' "metadata": {one(content["metadata"])},\n'
            ' "tensors": {\n' + ",\n".join(tensors) + "\n },\n"
            ' "elements": [\n' + ",\n".join(elements) + "\n ]\n"
            "}\n")


def uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, size=shape)


def lstm_source(rng):
    """A 1-layer LSTM LM initialised as PyTorch does: embedding N(0, 1), the rest U(-1/sqrt(H), 1/sqrt(H))."""
    k = 1 / np.sqrt(H)
    return [
        ("embedding.weight", (V, E), rng.standard_normal((V, E))),
        ("rnn.weight_ih_l0", (4 * H, E), uniform(rng, k, (4 * H, E))),
        ("rnn.weight_hh_l0", (4 * H, H), uniform(rng, k, (4 * H, H))),
        ("rnn.bias_ih_l0", (4 * H,), uniform(rng, k, (4 * H,))),
        ("rnn.bias_hh_l0", (4 * H,), uniform(rng, k, (4 * H,))),
        ("decoder.weight", (V, H), uniform(rng, k, (V, H))),
        ("decoder.bias", (V,), uniform(rng, k, (V,))),
    ]


def rnn2_bidir_source(rng):
    k = 1 / np.sqrt(H)
    out = [("embedding.weight", (V, E), rng.standard_normal((V, E)))]
    for layer, inputs in ((0, E), (1, 2 * H)):
        for suffix in ("", "_reverse"):
            out.append((f"rnn.weight_ih_l{layer}{suffix}", (H, inputs), uniform(rng, k, (H, inputs))))
            out.append((f"rnn.weight_hh_l{layer}{suffix}", (H, H), uniform(rng, k, (H, H))))
    out.append(("decoder.weight", (V, 2 * H), uniform(rng, 1 / np.sqrt(2 * H), (V, 2 * H))))
    return out


def gru_tied_source(rng):
    size = 6  # tied weights need E == H
    k = 1 / np.sqrt(size)
    return [
        ("embedding.weight", (V, size), rng.standard_normal((V, size))),
        ("rnn.weight_ih_l0", (3 * size, size), uniform(rng, k, (3 * size, size))),
        ("rnn.weight_hh_l0", (3 * size, size), uniform(rng, k, (3 * size, size))),
        ("rnn.bias_ih_l0", (3 * size,), uniform(rng, k, (3 * size,))),
        ("rnn.bias_hh_l0", (3 * size,), uniform(rng, k, (3 * size,))),
        ("decoder.bias", (V,), uniform(rng, k, (V,))),
    ]


def gru2_source(rng, hidden=4, growth=1.0):
    """A 2-layer GRU LM, PyTorch's init; W_hh scaled by `growth` (1 at step 0)."""
    v, e = 9, 5
    k = 1 / np.sqrt(hidden)
    out = [("embedding.weight", (v, e), rng.standard_normal((v, e)))]
    for layer, inputs in ((0, e), (1, hidden)):
        out.append((f"rnn.weight_ih_l{layer}", (3 * hidden, inputs), uniform(rng, k, (3 * hidden, inputs))))
        out.append((f"rnn.weight_hh_l{layer}", (3 * hidden, hidden), growth * uniform(rng, k, (3 * hidden, hidden))))
        out.append((f"rnn.bias_ih_l{layer}", (3 * hidden,), uniform(rng, k, (3 * hidden,))))
        out.append((f"rnn.bias_hh_l{layer}", (3 * hidden,), uniform(rng, k, (3 * hidden,))))
    out.append(("decoder.weight", (v, hidden), uniform(rng, k, (v, hidden))))
    out.append(("decoder.bias", (v,), uniform(rng, k, (v,))))
    return out


def series_fixtures():
    """The checkpoint series and its refused neighbours (see the module doc)."""
    good, bad = OUT / "series", OUT / "series_bad"
    good.mkdir(exist_ok=True)
    bad.mkdir(exist_ok=True)

    def save(path, source, metadata):
        tensors = [(name, "F32", shape, stored("F32", values)[0]) for name, shape, values in source]
        write_safetensors(path, tensors, metadata=metadata)
        read_back(path)

    def checkpoint(step, hidden=4):
        # The same draws at every step; training here only grows the recurrent weights.
        return gru2_source(np.random.default_rng(SEED + 7), hidden=hidden, growth=1.0 + step / 30)

    save(good / "ckpt_000000.safetensors", checkpoint(0), None)
    save(good / "ckpt_000020.safetensors", checkpoint(20), {"format": "pt", "step": "20"})
    save(good / "late.safetensors", checkpoint(45), {"format": "pt", "step": "45"})
    save(bad / "hidden5_step-30.safetensors", checkpoint(30, hidden=5), {"format": "pt"})
    extra = checkpoint(30) + [("extra.bias", (3,), np.array([1.0, 2.0, 3.0]))]
    save(bad / "extra_step-30.safetensors", extra, {"format": "pt"})
    save(bad / "again_step-20.safetensors", checkpoint(20), {"format": "pt"})
    save(bad / "nostep.safetensors", checkpoint(10), {"format": "pt"})
    save(bad / "badstep_7.safetensors", checkpoint(7), {"format": "pt", "step": "1.5e3"})

    rng = np.random.default_rng(SEED + 8)
    tokens = rng.integers(0, 9, size=(3, 8)).tolist()
    (good / "tokens.json").write_text(json.dumps({"tokens": tokens}) + "\n")

    # A training log: loss every step, gradient norms clipped at 1.0, the learning rate, and a
    # validation loss every 15 steps on a line of its own; "epoch" is a column diagnose does not use.
    lines, rows = [], []
    for step in range(1, 46):
        loss = 2.2 * np.exp(-step / 40) + 0.3
        grad = 0.6 + 0.8 * abs(np.sin(step))
        lr = 0.1 if step <= 30 else 0.05
        clipped = min(grad, 1.0)
        lines.append(json.dumps({"step": step, "loss": round(loss, 6), "grad_norm": round(grad, 6),
                                 "clipped_grad_norm": round(clipped, 6), "lr": lr, "epoch": step // 20}))
        rows.append(f"{step},{loss:.6f},{grad:.6f},{clipped:.6f},{lr},,{step // 20}")
        if step % 15 == 0:
            valid = round(loss + 0.1, 6)
            lines.append(json.dumps({"step": step, "valid_loss": valid}))
            rows.append(f"{step},,,,,{valid},")
    (good / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (good / "metrics.csv").write_text("step,loss,grad_norm,clipped_grad_norm,lr,valid_loss,epoch\n" + "\n".join(rows) + "\n")


def make(stem, source, dtype, rng, metadata=None, **layout):
    tensors, decoded = [], {}
    for name, shape, values in source:
        raw, values32 = stored(dtype, values)
        tensors.append((name, dtype, shape, raw))
        decoded[name] = values32.reshape(shape)
    write_safetensors(OUT / f"{stem}.safetensors", tensors, metadata=metadata, **layout)
    return tensors, decoded


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    expected = {}

    lstm = lstm_source(rng)
    names = [name for name, _, _ in lstm]
    variants = {
        # state-dict order, compact JSON, padded, plain metadata
        "lstm_f32": ("F32", {"format": "pt"}, {}),
        # header in reverse order, data in state-dict order, JSON with spaces, metadata with
        # quotes and non-ASCII escaped as \uXXXX, no padding
        "lstm_f16": ("F16", {"format": "pt", "note": "caf\u00e9 \u2713 \"quoted\" \U0001F600"},
                     {"header_order": list(reversed(names)), "separators": (", ", ": "), "pad": False}),
        # no __metadata__ at all, header sorted by name, raw UTF-8 allowed
        "lstm_bf16": ("BF16", None, {"header_order": sorted(names), "ensure_ascii": False}),
        # metadata as raw UTF-8
        "lstm_f64": ("F64", {"format": "pt", "note": "caf\u00e9"}, {"ensure_ascii": False}),
    }
    for stem, (dtype, metadata, layout) in variants.items():
        tensors, decoded = make(stem, lstm, dtype, rng, metadata, **layout)
        expected[stem] = expected_json(tensors, decoded, metadata, rng)

    tensors, decoded = make("rnn2_bidir_nobias", rnn2_bidir_source(rng), "F32", rng, {"format": "pt"})
    expected["rnn2_bidir_nobias"] = expected_json(tensors, decoded, {"format": "pt"}, rng)

    tensors, decoded = make("gru_tied", gru_tied_source(rng), "F32", rng, {"format": "pt"})
    expected["gru_tied"] = expected_json(tensors, decoded, {"format": "pt"}, rng)

    # Special values, decoded by numpy (an implementation independent of the Swift one).
    f16_bits = [0x0000, 0x8000, 0x0001, 0x0200, 0x03FF, 0x0400, 0x3555, 0x3800,
                0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0xFD01]
    bf16 = [0x0000, 0x8000, 0x0001, 0x3F80, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0]
    f64_source = np.array([1 / 3, -2.5, 1e-50, -1e-50, 3.4028235e38, 1e40, -1e300, 2.0 ** -149])
    f64_raw, f64_values = stored("F64", f64_source)
    specials = [
        ("f16.specials", "F16", (16,)) + (from_bits("F16", f16_bits)[0],),
        ("scalar", "F32", ()) + (stored("F32", [42.5])[0],),
        ("bf16.specials", "BF16", (2, 4)) + (from_bits("BF16", bf16)[0],),
        ("f64.values", "F64", (8,), f64_raw),
        ("empty", "F32", (0, 3), b""),
    ]
    decoded = {
        "f16.specials": from_bits("F16", f16_bits)[1],
        "scalar": np.array([42.5], dtype=np.float32),
        "bf16.specials": from_bits("BF16", bf16)[1].reshape(2, 4),
        "f64.values": f64_values,
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    write_safetensors(OUT / "specials.safetensors", specials, metadata={"format": "pt"},
                      header_order=sorted(t[0] for t in specials))
    expected["specials"] = expected_json(specials, decoded, {"format": "pt"}, rng, all_elements=True)

    series_fixtures()

    for stem, content in expected.items():
        read_back(OUT / f"{stem}.safetensors")
        (OUT / f"{stem}.json").write_text(format_expected(content))
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"wrote {len(expected)} fixtures to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
