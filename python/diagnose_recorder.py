"""Record a PyTorch RNN language model while it trains, for `diagnose probe`.

One file, depending on torch and safetensors only. Add three lines to a training loop:

    from diagnose_recorder import Recorder
    recorder = Recorder(model, probe_batch, "runs/lstm", every=200)   # probe_batch: (B, T + 1) token ids
    for step in range(1, steps + 1):
        ...                                                          # forward, backward, clip, optimizer step
        recorder.log(step, loss, grad_norm=norm, lr=optimizer.param_groups[0]["lr"])
    recorder.close()                                                 # prints the diagnose probe command

The model is Embedding -> nn.RNN / nn.LSTM / nn.GRU -> Linear, whatever the modules are called:
they are found by type. The folder receives

    probe.json              the probe batch, {"tokens": [[id, ...], ...]} (B rows of T + 1 ids)
    metrics.jsonl           one line per log() call: step, loss, grad_norm, clipped_grad_norm, lr
    step-00000000.safetensors, ...   the weights at step 0 (when the recorder is made) and every
                            `every` steps, under diagnose's names (embedding.weight, rnn.*,
                            decoder.*), with metadata "step", and "modules" giving the model's
                            own module names (so the file maps back onto the model)

Tensors are detached copies moved to the CPU (a model on a GPU works); nothing is written to the
model, its gradients or the optimizer, and no random numbers are drawn, so training is bit for bit
the same with and without the recorder. `step` is the number of optimizer steps taken so far.
"""

import json
import math
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

MAX_CHECKPOINTS = 64  # diagnose probes at most this many checkpoints as one run


class Recorder:
    def __init__(self, model, probe, folder, every=100, batch=None, bptt=None, clip=None, names=None,
                 overwrite=False):
        """model: the language model. probe: a (B, T + 1) tensor of token ids, or a 1-D tensor of
        token ids with `batch` (B) and `bptt` (T), cut into B consecutive rows of T + 1. folder: where
        files go. every: steps between checkpoints. clip: the max_norm given to clip_grad_norm_, if
        any (the clipped norm is then logged too). names: {"embedding": ..., "rnn": ..., "decoder": ...}
        module names, when finding them by type is ambiguous. overwrite: allow a folder that already
        holds checkpoints (they are replaced as the new run reaches their steps)."""
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every={every!r}: give a whole number of steps >= 1")
        self.model, self.folder, self.every, self.clip = model, folder, every, clip
        self.embedding, self.rnn, self.decoder, self.modules = _find_modules(model, names)
        os.makedirs(folder, exist_ok=True)
        old = [f for f in os.listdir(folder) if f.endswith(".safetensors")]
        if old and not overwrite:
            raise FileExistsError(f"{folder} already holds {len(old)} checkpoint(s) ({old[0]}, ...): a series must come "
                                  "from one run. Use a new folder, or pass overwrite=True after removing them")
        rows = _probe_rows(probe, batch, bptt, self.embedding.num_embeddings)
        _write_atomically(os.path.join(folder, "probe.json"), json.dumps({"tokens": rows}) + "\n")
        self.metrics = open(os.path.join(folder, "metrics.jsonl"), "w")
        self.last_step, self.saved = None, []
        self._save(0)

    def log(self, step, loss, grad_norm=None, lr=None):
        """After an optimizer step: append the metrics line; every `every` steps, save a checkpoint.
        loss, grad_norm and lr may be Python numbers or one-element tensors."""
        step = int(step)
        if self.last_step is not None and step <= self.last_step:
            raise ValueError(f"step {step} after step {self.last_step}: steps must increase")
        self.last_step = step
        line = {"step": step, "loss": _number(loss)}
        if grad_norm is not None:
            line["grad_norm"] = _number(grad_norm)
            if self.clip is not None:
                line["clipped_grad_norm"] = min(line["grad_norm"], float(self.clip))
        if lr is not None:
            line["lr"] = _number(lr)
        self.metrics.write(json.dumps({k: _json_value(v) for k, v in line.items()}) + "\n")
        self.metrics.flush()
        if step % self.every == 0:
            self._save(step)

    def close(self):
        """Saves the last step's weights (if not saved yet), closes the log and prints and returns
        the command that probes the run."""
        if self.last_step is not None and self.last_step not in self.saved:
            self._save(self.last_step)
        if not self.metrics.closed:
            self.metrics.close()
        command = (f"diagnose probe --checkpoints {self.folder} --tokens {os.path.join(self.folder, 'probe.json')} "
                   f"--metrics {os.path.join(self.folder, 'metrics.jsonl')}")
        if isinstance(self.rnn, nn.RNN) and self.rnn.nonlinearity == "relu":
            command += " --activation relu"
        print(f"diagnose_recorder: {len(self.saved)} checkpoints (steps {self.saved[0]}..{self.saved[-1]}) in {self.folder}; probe them with:")
        print("  " + command)
        return command

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _save(self, step):
        if step in self.saved:
            return
        if len(self.saved) == MAX_CHECKPOINTS:
            print(f"diagnose_recorder: warning: more than {MAX_CHECKPOINTS} checkpoints; diagnose probes at most "
                  f"{MAX_CHECKPOINTS} at once (pick some with --weights, or record with a larger every=)")
        with torch.no_grad():
            tensors = {"embedding.weight": _copy(self.embedding.weight)}
            for name, p in self.rnn.named_parameters():
                tensors["rnn." + name] = _copy(p)
            if self.decoder.weight is not self.embedding.weight:  # a tied decoder is saved once
                tensors["decoder.weight"] = _copy(self.decoder.weight)
            if self.decoder.bias is not None:
                tensors["decoder.bias"] = _copy(self.decoder.bias)
        path = os.path.join(self.folder, f"step-{step:08d}.safetensors")
        temporary = os.path.join(self.folder, f".step-{step:08d}.tmp-{os.getpid()}")
        save_file(tensors, temporary, metadata={"format": "pt", "step": str(step), "modules": json.dumps(self.modules)})
        os.replace(temporary, path)
        self.saved.append(step)


def _find_modules(model, names):
    """The embedding, recurrent and decoder modules, and their names in the model."""
    named = dict(model.named_modules())
    if names:
        missing = [names[k] for k in ("embedding", "rnn", "decoder") if names.get(k) not in named]
        if missing:
            raise ValueError(f"names: no module called {missing[0]!r} in the model")
        found = {k: names[k] for k in ("embedding", "rnn", "decoder")}
    else:
        def only(kind, test, what):
            hits = [n for n, m in named.items() if test(m)]
            if len(hits) != 1:
                raise ValueError(f"the model has {len(hits)} {what} ({', '.join(hits) or 'none'}); diagnose probes "
                                 "Embedding -> RNN/LSTM/GRU -> Linear. Say which with names=dict(embedding=..., rnn=..., decoder=...)")
            return hits[0]
        embedding = only("embedding", lambda m: isinstance(m, nn.Embedding), "nn.Embedding modules")
        rnn = only("rnn", lambda m: isinstance(m, (nn.RNN, nn.LSTM, nn.GRU)), "nn.RNN/LSTM/GRU modules")
        vocabulary, hidden = named[embedding].num_embeddings, named[rnn].hidden_size
        decoder = only("decoder", lambda m: isinstance(m, nn.Linear) and m.out_features == vocabulary
                       and m.in_features == hidden, f"nn.Linear({hidden}, {vocabulary}) decoders")
        found = {"embedding": embedding, "rnn": rnn, "decoder": decoder}
    rnn = named[found["rnn"]]
    if rnn.bidirectional:
        raise ValueError("a bidirectional nn.RNN/LSTM/GRU sees the token it predicts in a language model; diagnose "
                         "probes one-directional models (and its own ELMo-style bidirectional ones)")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("an LSTM with proj_size is not supported by diagnose")
    return named[found["embedding"]], rnn, named[found["decoder"]], found


def _probe_rows(probe, batch, bptt, vocabulary):
    probe = torch.as_tensor(probe).detach().to("cpu")
    if probe.dim() == 1:
        if batch is None or bptt is None:
            raise ValueError("a 1-D probe of token ids needs batch=B and bptt=T to cut B rows of T + 1")
        need = batch * (bptt + 1)
        if probe.numel() < need:
            raise ValueError(f"the probe has {probe.numel()} tokens; batch={batch}, bptt={bptt} need {need}")
        probe = probe[:need].reshape(batch, bptt + 1)
    elif probe.dim() != 2 or probe.shape[1] < 2:
        raise ValueError(f"probe has shape {tuple(probe.shape)}; give (B, T + 1) token ids, one sequence per row")
    if probe.dtype.is_floating_point or probe.min() < 0 or probe.max() >= vocabulary:
        raise ValueError(f"the probe must hold token ids from 0 to {vocabulary - 1}")
    return probe.long().tolist()


def _copy(tensor):
    return tensor.detach().to("cpu", copy=True).contiguous()


def _number(value):
    return float(value.detach().item() if torch.is_tensor(value) else value)


def _json_value(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _write_atomically(path, text):
    temporary = path + f".tmp-{os.getpid()}"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)
