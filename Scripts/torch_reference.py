#!/usr/bin/env python3
"""PyTorch autograd reference for `diagnose probe`.

Builds small Embedding -> nn.RNN / nn.LSTM / nn.GRU -> Linear language models with fixed seeds,
saves them exactly as a PyTorch user would (safetensors.torch.save_file(model.state_dict())),
writes a probe batch as {"tokens": [[...]], "h0": ..., "c0": ...}, and computes with autograd what
diagnose must reproduce:

    stepLosses[t]      mean over the batch of the cross-entropy at step t
    gradientNorms      ||d J / d p|| per state-dict tensor, J = mean cross-entropy over B x T
    G[layer][t][j]     mean over b of ||d l_b(t) / d h_b^layer(j)||, j <= t (for the LSTM, the h
                       output with c(j) held as its own variable)

into Tests/TrainingCoreTests/Fixtures/torch_<name>.{safetensors,tokens.json,expected.json}.
The Swift test (ImportTests) compares to 1e-4 relative. Needs torch and safetensors:
    python3 -m venv ~/torchenv && . ~/torchenv/bin/activate && pip install torch safetensors
    python Scripts/torch_reference.py

Two checks of a checkpoint series recorded with python/diagnose_recorder.py (not needed by the tests):

    python Scripts/torch_reference.py --check-run output/imported/run.json --checkpoints runs/word-lstm
        For every checkpoint, the same three quantities with autograd on the recorded probe batch,
        compared with the probe diagnose recorded at that checkpoint's step (1e-4 relative);
        prints the largest differences and exits 1 if any is above.
    python Scripts/torch_reference.py --check-recorder
        Trains a small 2-layer GRU (its modules not called embedding/rnn/decoder) with and without
        the recorder and checks that weights and optimizer state come out bit for bit the same.
"""
import argparse
import json
import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "TrainingCoreTests" / "Fixtures"


class LM(nn.Module):
    def __init__(self, kind, V, E, H, L, bias=True, tied=False, nonlinearity="tanh"):
        super().__init__()
        self.kind, self.H, self.L = kind, H, L
        self.embedding = nn.Embedding(V, E)
        if kind == "lstm":
            self.rnn = nn.LSTM(E, H, num_layers=L, bias=bias)
        elif kind == "gru":
            self.rnn = nn.GRU(E, H, num_layers=L, bias=bias)
        else:
            self.rnn = nn.RNN(E, H, num_layers=L, nonlinearity=nonlinearity, bias=bias)
        self.decoder = nn.Linear(H, V)
        if tied:
            self.decoder.weight = self.embedding.weight


def cells(model):
    """One nn.*Cell per layer sharing the module's parameters, to expose every h(j)."""
    out = []
    for l in range(model.L):
        inp = model.rnn.input_size if l == 0 else model.H
        bias = model.rnn.bias
        if model.kind == "lstm":
            c = nn.LSTMCell(inp, model.H, bias=bias)
        elif model.kind == "gru":
            c = nn.GRUCell(inp, model.H, bias=bias)
        else:
            c = nn.RNNCell(inp, model.H, nonlinearity=model.rnn.nonlinearity, bias=bias)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if bias else ("weight_ih", "weight_hh")
        for n in names:
            setattr(c, n, getattr(model.rnn, f"{n}_l{l}"))
        out.append(c)
    return out


def reference(model, tokens, h0=None, c0=None):
    x, y = tokens[:, :-1].t(), tokens[:, 1:].t()  # (T, B)
    T, B = x.shape
    lstm = model.kind == "lstm"
    cs = cells(model)
    emb = model.embedding(x)
    state = []
    for l in range(model.L):
        h = h0[l].clone() if h0 is not None else torch.zeros(B, model.H)
        if lstm:
            c = c0[l].clone() if c0 is not None else torch.zeros(B, model.H)
            state.append((h, c))
        else:
            state.append(h)
    hs = [[] for _ in range(model.L)]
    losses = []
    for t in range(T):
        inp = emb[t]
        for l, cell in enumerate(cs):
            state[l] = cell(inp, state[l])
            h = state[l][0] if lstm else state[l]
            hs[l].append(h)
            inp = h
        losses.append(F.cross_entropy(model.decoder(inp), y[t], reduction="none"))
    L = torch.stack(losses)  # (T, B)
    G = [[[0.0] * (t + 1) for t in range(T)] for _ in range(model.L)]
    for t in range(T):
        for l in range(model.L):
            grads = torch.autograd.grad(L[t].sum(), hs[l][:t + 1], retain_graph=True)
            for j, g in enumerate(grads):
                G[l][t][j] = g.norm(dim=1).mean().item()
    model.zero_grad()
    L.mean().backward()
    norms = {}
    for name, p in model.named_parameters():
        norms[name] = p.grad.norm().item()
    if "decoder.weight" not in norms and model.decoder.weight is model.embedding.weight:
        pass  # tied: the one tensor's gradient is under embedding.weight
    return dict(stepLosses=L.mean(dim=1).tolist(), gradientNorms=norms, G=G)


def case(name, kind, V, E, H, L, B, T, seed, **kwargs):
    torch.manual_seed(seed)
    with_state = kwargs.pop("with_state", False)
    model = LM(kind, V, E, H, L, **kwargs)
    # Larger recurrent weights than the default init, so gradients over T steps are not trivial.
    with torch.no_grad():
        for n, p in model.rnn.named_parameters():
            if "weight_hh" in n:
                p.mul_(2.0)
    tokens = torch.randint(0, V, (B, T + 1))
    h0 = torch.randn(L, B, H) * 0.5 if with_state else None
    c0 = torch.randn(L, B, H) * 0.5 if with_state and kind == "lstm" else None
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if kwargs.get("tied"):
        state.pop("decoder.weight")  # shared tensors are saved once
    save_file(state, str(OUT / f"torch_{name}.safetensors"))
    batch = {"tokens": tokens.tolist()}
    if h0 is not None:
        batch["h0"] = h0.tolist()
    if c0 is not None:
        batch["c0"] = c0.tolist()
    (OUT / f"torch_{name}.tokens.json").write_text(json.dumps(batch))
    expected = reference(model, tokens, h0, c0)
    expected["activation"] = kwargs.get("nonlinearity", "tanh")
    (OUT / f"torch_{name}.expected.json").write_text(json.dumps(expected, indent=1))
    print(name, "ok")


def close(a, b, scale):
    """The Swift tests' tolerance: 1e-4 relative, with a floor at 1e-7 of the largest value."""
    return abs(a - b) <= 1e-4 * max(abs(b), 1e-3 * scale)


def model_from_checkpoint(path):
    """An LM holding the checkpoint's weights (diagnose's names), its kind read from the shapes."""
    from safetensors.torch import load_file
    state = load_file(str(path))
    V, E = state["embedding.weight"].shape
    H = state["rnn.weight_hh_l0"].shape[1]
    kind = {1: "rnn", 3: "gru", 4: "lstm"}[state["rnn.weight_hh_l0"].shape[0] // H]
    L = sum(1 for k in state if k.startswith("rnn.weight_ih_l"))
    tied = "decoder.weight" not in state
    model = LM(kind, V, E, H, L, bias="rnn.bias_ih_l0" in state, tied=tied)
    model.load_state_dict(state, strict=not tied)
    return model


def check_run(run_path, folder, tokens_path):
    record = json.loads(pathlib.Path(run_path).read_text())
    probes = {p["step"]: p for p in record["probes"]}
    tokens = torch.tensor(json.loads(pathlib.Path(tokens_path).read_text())["tokens"])
    worst, failures = {"stepLosses": 0.0, "gradientNorms": 0.0, "G": 0.0}, 0
    for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
        from safetensors import safe_open
        with safe_open(str(path), "pt") as f:
            step = int(f.metadata()["step"])
        probe = probes.get(step)
        if probe is None:
            print(f"{path.name}: step {step} has no probe in {run_path}")
            failures += 1
            continue
        model = model_from_checkpoint(path)
        ref = reference(model, tokens)

        def compare(what, ours, theirs, scale):
            nonlocal failures
            rel = abs(ours - theirs) / max(abs(theirs), 1e-3 * scale)
            worst[what] = max(worst[what], rel)
            if not close(ours, theirs, scale):
                failures += 1
                if failures <= 10:
                    print(f"  step {step} {what}: diagnose {ours!r} vs autograd {theirs!r}")

        for t, loss in enumerate(ref["stepLosses"]):
            compare("stepLosses", probe["stepLosses"][0][t], loss, 1)
        for name, norm in ref["gradientNorms"].items():
            if name in ("embedding.weight", "decoder.weight") and "decoder.weight" not in probe["parameterGradientNorms"]:
                continue  # tied: PyTorch sums both uses under one tensor
            compare("gradientNorms", probe["parameterGradientNorms"][name], norm, norm)
        for layer, G in enumerate(ref["G"]):
            ours = next(l for l in probe["layers"] if l["layer"] == layer and l["direction"] == "forward")["gradientFlow"]
            scale = max(max(row) for row in G)
            for t, row in enumerate(G):
                for j, value in enumerate(row):
                    compare("G", ours[t][j], value, scale)
        radius = next(l for l in probe["layers"] if l["direction"] == "forward"
                      and l["layer"] == model.L - 1)["spectrum"]["whole"]["spectralRadius"]
        print(f"{path.name}: step {step}, mean probe loss {sum(ref['stepLosses']) / len(ref['stepLosses']):.4f}, "
              f"top-layer spectral radius {radius:.3f}")
    print("largest relative differences: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    print("agree to 1e-4" if failures == 0 else f"{failures} values differ by more than 1e-4")
    return failures == 0


def check_recorder():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))
    import tempfile
    from diagnose_recorder import Recorder
    from safetensors import safe_open

    class Tagger(nn.Module):  # modules named unlike diagnose's, a 2-layer GRU
        def __init__(self):
            super().__init__()
            self.words, self.gru, self.head = nn.Embedding(17, 8), nn.GRU(8, 12, num_layers=2, dropout=0.1), nn.Linear(12, 17)

        def forward(self, x):
            return self.head(self.gru(self.words(x))[0])

    def train(folder):
        torch.manual_seed(5)
        model = Tagger()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        data = torch.randint(0, 17, (400,))
        recorder = Recorder(model, data, folder, every=10, batch=3, bptt=6, clip=1.0) if folder else None
        for step in range(1, 31):
            x = data[step:step + 41].view(41, 1).repeat(1, 2)
            loss = F.cross_entropy(model(x[:-1]).reshape(-1, 17), x[1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if recorder:
                recorder.log(step, loss, grad_norm=norm, lr=opt.param_groups[0]["lr"])
        if recorder:
            recorder.close()
        return model, opt

    with tempfile.TemporaryDirectory() as folder:
        a, opt_a = train(folder)
        b, opt_b = train(None)
        same = all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
        sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
        same_opt = all(torch.equal(sa[k][n], sb[k][n]) for k in sa for n in sa[k])
        files = sorted(pathlib.Path(folder).glob("*.safetensors"))
        steps = []
        for f in files:
            with safe_open(str(f), "pt") as g:
                steps.append(int(g.metadata()["step"]))
                names = set(g.keys())
        lines = pathlib.Path(folder, "metrics.jsonl").read_text().splitlines()
        print(f"recorder: weights unchanged {same}, optimizer state unchanged {same_opt}, checkpoints at {steps}, "
              f"{len(lines)} metrics lines, names {sorted(names)[:3]}...")
        return same and same_opt and steps == [0, 10, 20, 30] and "rnn.weight_hh_l1" in names and len(lines) == 30


if __name__ == "__main__":
    torch.set_default_dtype(torch.float32)
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--check-run")
    arguments.add_argument("--checkpoints")
    arguments.add_argument("--tokens")
    arguments.add_argument("--check-recorder", action="store_true")
    options = arguments.parse_args()
    if options.check_run:
        folder = options.checkpoints
        sys.exit(0 if check_run(options.check_run, folder, options.tokens or str(pathlib.Path(folder, "probe.json"))) else 1)
    if options.check_recorder:
        sys.exit(0 if check_recorder() else 1)
    case("lstm2", "lstm", V=13, E=7, H=6, L=2, B=3, T=9, seed=1, with_state=True)
    case("rnn_relu", "rnn", V=11, E=5, H=8, L=1, B=4, T=12, seed=2, nonlinearity="relu")
    case("gru_tied_nobias", "gru", V=9, E=6, H=6, L=1, B=2, T=10, seed=3, bias=False, tied=True)
