"""PyTorch reference for diagnose's word-level numbers (README, "Real corpora").

Trains Embedding -> nn.RNN (tanh) / nn.LSTM -> Linear on train/valid files with the setup diagnose uses
for the same flags, and prints the validation perplexity:

- vocabulary from the training file only: the `--vocab-size` - 1 most frequent words (ties by the
  word's UTF-8 bytes), then <unk> for every other word; <eos> at every line end (as PyTorch's
  word_language_model example, and diagnose by default);
- B streams cut contiguously from the token stream, windows of T tokens, the hidden state carried
  (detached) from window to window and across the end of the data;
- plain SGD, global-norm clipping, one step per window;
- validation: every whole window of the validation split batched the same way, state carried from
  zero, the mean of the per-window mean losses.

Only the initialisation differs (PyTorch's defaults here).

    /work/torchenv/bin/python Scripts/word_lm_reference.py train.txt valid.txt --cell lstm
    swift run -c release diagnose --corpus train.txt --valid valid.txt --tokenize word --cell lstm \
        --embed 128 --hidden 128 --batch 20 --bptt 35 --optimizer sgd --lr 1 --clip 0.25 --steps 300 \
        --seed 1 --eval-every 300
"""
import argparse
import math
from collections import Counter

import torch
import torch.nn as nn


def words(path, eos):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out += line.split() + (["<eos>"] if eos else [])
    return out


def vocabulary(train, limit):
    counts = Counter(train)
    counts.pop("<unk>", None)
    kept = sorted(counts, key=lambda w: (-counts[w], w.encode()))
    if len(kept) + ("<unk>" in train) > limit:
        kept = kept[: limit - 1]
    return {w: i for i, w in enumerate(kept + ["<unk>"])}


def streams(ids, batch):
    length = len(ids) // batch
    return torch.tensor(ids[: length * batch]).view(batch, length).t().contiguous()  # (length, B)


class Model(nn.Module):
    def __init__(self, cell, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.RNN)(embed, hidden)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, state):
        out, state = self.rnn(self.embedding(x), state)
        return self.decoder(out), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("valid")
    p.add_argument("--cell", default="lstm", choices=["rnn", "lstm"])
    p.add_argument("--embed", type=int, default=128)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--vocab-size", type=int, default=10000)
    p.add_argument("--no-eos", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)

    train_words, valid_words = words(a.train, not a.no_eos), words(a.valid, not a.no_eos)
    index = vocabulary(train_words, a.vocab_size)
    unk = index["<unk>"]
    train = streams([index.get(w, unk) for w in train_words], a.batch)
    valid = streams([index.get(w, unk) for w in valid_words], a.batch)
    unknown = sum(w not in index or w == "<unk>" for w in valid_words)

    model = Model(a.cell, len(index), a.embed, a.hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    windows = (train.size(0) - 1) // a.bptt
    state = None
    for step in range(a.steps):
        i = (step % windows) * a.bptt
        x, y = train[i : i + a.bptt], train[i + 1 : i + 1 + a.bptt]
        logits, state = model(x, state)
        loss = loss_fn(logits.view(-1, logits.size(-1)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        optimizer.step()
        state = detach(state)

    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for w in range((valid.size(0) - 1) // a.bptt):
            i = w * a.bptt
            logits, state = model(valid[i : i + a.bptt], state)
            total += loss_fn(logits.view(-1, logits.size(-1)), valid[i + 1 : i + 1 + a.bptt].reshape(-1)).item()
            count += 1
    print(f"{a.cell}: vocabulary {len(index)}, valid tokens {len(valid_words)} ({unknown} <unk>), "
          f"valid perplexity {math.exp(total / count):.1f}")


if __name__ == "__main__":
    main()
