import sys, collections, torch, torch.nn as nn
from diagnose_recorder import Recorder

words = open(sys.argv[1]).read().split()                        # a word-level LM on any text file
index = {w: i for i, w in enumerate([w for w, _ in collections.Counter(words).most_common(4999)] + ["<unk>"])}
ids, V, E, H, B, T = torch.tensor([index.get(w, 4999) for w in words]), len(index), 64, 128, 20, 35

class WordLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.lstm, self.decoder = nn.Embedding(V, E), nn.LSTM(E, H, num_layers=2), nn.Linear(H, V)
    def forward(self, x):                                       # x: (T, B) token ids
        return self.decoder(self.lstm(self.encoder(x))[0])

torch.manual_seed(0)
model, train, probe = WordLM(), ids[: -B * (T + 1)], ids[-B * (T + 1):].view(B, T + 1)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
recorder = Recorder(model, probe, "runs/word-lstm", every=50, clip=0.5)  # probe: held-out rows
for step in range(1, 401):
    window = torch.stack([train[s : s + T + 1] for s in torch.randint(len(train) - T - 1, (B,))]).t()
    loss = nn.functional.cross_entropy(model(window[:-1]).reshape(-1, V), window[1:].reshape(-1))
    optimizer.zero_grad(); loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5); optimizer.step()
    recorder.log(step, loss, grad_norm=norm, lr=optimizer.param_groups[0]["lr"])
recorder.close()
