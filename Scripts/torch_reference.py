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
"""
import json
import pathlib

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


if __name__ == "__main__":
    torch.set_default_dtype(torch.float32)
    case("lstm2", "lstm", V=13, E=7, H=6, L=2, B=3, T=9, seed=1, with_state=True)
    case("rnn_relu", "rnn", V=11, E=5, H=8, L=1, B=4, T=12, seed=2, nonlinearity="relu")
    case("gru_tied_nobias", "gru", V=9, E=6, H=6, L=1, B=2, T=10, seed=3, bias=False, tied=True)
