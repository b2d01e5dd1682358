"""Diagnostics of GCML on one seed: what bounds its ACC, and what its losses do.

Two modes (one seed, the benchmark's 80 % split of ``gcml_digits_mnist.py``):

``pretrain DS SEED INIT EPOCHS CHECKS``
    Trains GCML's denoising autoencoder (d-500-500-500-2000-10, noise 0.2, Adam
    1e-3, batch 256; ``INIT`` ``he`` or ``torch``) for ``EPOCHS`` epochs with a
    plain torch loop and, at each epoch in the comma-separated ``CHECKS``, prints
    the training MSE, the ACC of KMeans (n_init=10) on the latent code and the
    mean per-dimension latent std; at epochs 50, 100 and the last, also the ACC of
    GCML's initialisation (t-SNE of 3000 latent codes, KMeans, latent means as
    centres): on the t-SNE subsample and of the nearest centre on all points.
    Saves the autoencoder and its Adam state at each check under ``WORKDIR`` (env
    ``GCML_DIAG``, default ``/tmp/gcml_diag``), so that ``trajectory`` can carry the
    optimiser's moments into the clustering stage (with ``optimizer_state="'carry'"``;
    the default ``"reset"`` starts a fresh optimiser either way).

``trajectory DS SEED CHECKPOINT EPOCHS [param=value ...]``
    Runs GCML's clustering stage (library code, any GCML parameter) from a saved
    autoencoder and prints, at the start of every epoch, CRA of the learnable
    centres (argsort rows of D(mu) vs D(v^X)), CRA of the clusters, alpha, beta,
    ACC of the current labels, the latent std, the mean centre distance, the
    mean of kappa * D(v^X), L_rank, the mean max q; after each structure step
    L_LIS and L_align; at the end train/held-out ACC and the manifold metrics.

``restart DS SEED CHECKPOINT``
    From a checkpoint saved with its optimiser state, continues the denoising
    pretraining for two epochs once with the saved Adam state and once with a new
    Adam, printing the ACC of the nearest initial centre (GCML's initialisation on
    the checkpoint, held fixed) and the latent std every four mini-batches: what a
    new optimiser does to the pretrained embedding.

Run (from the repository root; about 8 and 6 minutes on one core for MNIST-5k):
  OMP_NUM_THREADS=1 python benchmarks/gcml_diagnose.py pretrain mnist5k 0 he 200 10,25,50,100,150,200
  OMP_NUM_THREADS=1 python benchmarks/gcml_diagnose.py trajectory mnist5k 0 \\
      /tmp/gcml_diag/ae_mnist5k_0_he_200.pt 100 [rank_scaling="'sqrt_dim'"]
Outputs of these runs: ``results/gcml_diagnose_*.log``.
"""

import ast
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_dataset  # noqa: E402
from gcml_digits_mnist import accuracy, split  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

import skdsc.cluster._gcml as gcml_module  # noqa: E402
from skdsc._training_gcml import GCMLNet  # noqa: E402
from skdsc.losses import center_ranking_loss  # noqa: E402
from skdsc.metrics import cluster_rank_accuracy, manifold_metrics  # noqa: E402
from skdsc.nn import MLPAutoencoder  # noqa: E402

WORKDIR = Path(os.environ.get("GCML_DIAG", "/tmp/gcml_diag"))



def _denoising_step(ae, opt, xb):
    """One Adam step of the denoising AE (noise 0.2, clean target); returns the batch MSE."""
    _, xh = ae(xb + 0.2 * torch.randn_like(xb))
    loss = ((xh - xb) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())

def pretrain_curve(ds, seed, init, total, checks):
    X, y = load_dataset(ds)
    tr, _ = split(len(X), seed)
    X, y = X[tr], y[tr]
    torch.manual_seed(seed)
    torch.set_flush_denormal(True)
    ae = MLPAutoencoder(X.shape[1], (500, 500, 500, 2000), 10)
    if init == "he":
        gcml_module._he_init_(ae)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X)
    t0 = time.time()
    WORKDIR.mkdir(parents=True, exist_ok=True)
    for ep in range(1, total + 1):
        perm = torch.randperm(len(Xt))
        tot = 0.0
        for s in range(0, len(Xt), 256):
            xb = Xt[perm[s:s + 256]]
            tot += _denoising_step(ae, opt, xb) * len(xb)
        if ep not in checks:
            continue
        with torch.no_grad():
            Z = ae.encode(Xt).numpy()
        km = KMeans(10, n_init=10, random_state=0).fit(Z)
        msg = (f"ep {ep} mse {tot / len(Xt):.5f} t {time.time() - t0:.0f}s kmeans {accuracy(y, km.labels_):.3f} "
               f"zstd {Z.std(0).mean():.2f}")
        if ep == checks[-1] or ep in (50, 100):
            rng = np.random.RandomState(0)
            idx = np.sort(rng.choice(len(Z), min(3000, len(Z)), replace=False))
            emb = TSNE(2, init="pca", random_state=0).fit_transform(Z[idx])
            lab = KMeans(10, n_init=10, random_state=0).fit_predict(emb)
            C = np.stack([Z[idx][lab == c].mean(0) for c in range(10)])
            near = ((Z[:, None] - C[None]) ** 2).sum(-1).argmin(1)
            msg += f" tsne-km(sub) {accuracy(y[idx], lab):.3f} nearest-tsne-centre {accuracy(y, near):.3f}"
        print(msg, flush=True)
        torch.save({"ae": ae.state_dict(), "opt": opt.state_dict()}, WORKDIR / f"ae_{ds}_{seed}_{init}_{ep}.pt")


def trajectory(ds, seed, ckpt, epochs, kw):
    X, y = load_dataset(ds)
    tr, te = split(len(X), seed)
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    t0 = time.time()

    class TracedNet(GCMLNet):
        def update_targets(self, X):
            Z, q = super().update_targets(X)
            lab = q.argmax(1).numpy()
            zn = Z.numpy()
            mu = self.module_.head.centers.detach().numpy()
            vx = self.input_centers_.numpy()
            dmu = np.sqrt(((mu[:, None] - mu[None]) ** 2).sum(-1))
            dvx = np.sqrt(((vx[:, None] - vx[None]) ** 2).sum(-1))
            iu = np.triu_indices(len(mu), 1)
            rank = float(center_ranking_loss(torch.from_numpy(mu), torch.from_numpy(vx), self.kappa,
                                             scale_by_dim=self.rank_scale_by_dim))
            cra_mu = float(np.mean(np.argsort(dmu, 1) == np.argsort(dvx, 1)))
            print(f"cra_mu {cra_mu:.2f} cra {cluster_rank_accuracy(X, zn, lab):.2f} "
                  f"ep {self.epoch_:3d} a {self.alpha_:.2f} b {self.beta_:.2f} acc {accuracy(ytr, lab):.3f} "
                  f"zstd {zn.std(0).mean():.2f} |mu-mu| {dmu[iu].mean():.2f} k|vx-vx| {self.kappa * dvx[iu].mean():.2f} "
                  f"rank {rank:.2f} maxq {q.max(1).values.mean():.3f} t {time.time() - t0:.0f}s", flush=True)
            return Z, q

        def structure_step(self, X):
            super().structure_step(X)
            h = self.history[-1]
            print(f"      lis {h['lis_loss']:.4f} align {h['align_loss']:.4f}", flush=True)

    gcml_module.GCMLNet = TracedNet

    class FromCheckpoint(gcml_module.GCML):
        def pretrain_autoencoder(self, X):
            epochs_, self.pretrain_epochs = self.pretrain_epochs, 0
            try:
                net = super().pretrain_autoencoder(X)
            finally:
                self.pretrain_epochs = epochs_
            saved = torch.load(ckpt)
            if "ae" in saved:  # autoencoder and its pretraining optimiser
                net.module_.load_state_dict(saved["ae"])
                net.optimizer_.load_state_dict(saved["opt"])
            else:
                net.module_.load_state_dict(saved)
            return net

    params = dict(pretrain_epochs=1, max_epochs=epochs, random_state=seed, device="cpu")
    params.update(kw)
    est = FromCheckpoint(len(np.unique(y)), **params).fit(Xtr)
    print(f"init acc {accuracy(ytr, est.init_labels_):.3f}  final train {accuracy(ytr, est.labels_):.3f} "
          f"held-out {accuracy(yte, est.predict(Xte)):.3f} t {time.time() - t0:.0f}s", flush=True)
    m = manifold_metrics(Xtr, est.transform(Xtr), labels=est.labels_)
    print({k: round(float(v), 4) for k, v in m.items()}, flush=True)


def restart(ds, seed, ckpt, epochs=2):
    """Continue the denoising pretraining from a checkpoint with its own Adam state
    ("carried") and with a new Adam ("fresh"), the initial centres held fixed."""
    X, y = load_dataset(ds)
    tr, _ = split(len(X), seed)
    X, y = X[tr], y[tr]
    Xt = torch.from_numpy(X)
    saved = torch.load(ckpt)
    ae = MLPAutoencoder(X.shape[1], (500, 500, 500, 2000), 10)
    ae.load_state_dict(saved["ae"])
    with torch.no_grad():
        Z = ae.encode(Xt).numpy()
    C = torch.from_numpy(gcml_module.GCML(len(np.unique(y)), random_state=0).initial_centers(
        Z, np.random.RandomState(0)))

    def state():
        with torch.no_grad():
            z = ae.encode(Xt)
        near = ((z[:, None] - C[None]) ** 2).sum(-1).argmin(1).numpy()
        return f"{accuracy(y, near):.3f}/{z.std(0).mean():.2f}"

    print(f"nearest-initial-centre ACC / latent std after the checkpoint: {state()}", flush=True)
    for mode in ("carried", "fresh"):
        ae.load_state_dict(saved["ae"])
        opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
        if mode == "carried":
            opt.load_state_dict(saved["opt"])
        torch.manual_seed(seed)
        out = []
        for ep in range(epochs):
            perm = torch.randperm(len(Xt))
            for b, s in enumerate(range(0, len(Xt), 256)):
                _denoising_step(ae, opt, Xt[perm[s:s + 256]])
                if b % 4 == 3 or b == 0:
                    out.append(f"{ep}.{b}:{state()}")
        print(f"{mode} (epoch.batch:ACC/std) " + " ".join(out), flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "pretrain":
        pretrain_curve(args[0], int(args[1]), args[2], int(args[3]), [int(c) for c in args[4].split(",")])
    elif mode == "trajectory":
        extra = {k: ast.literal_eval(v) for k, v in (a.split("=", 1) for a in args[4:])}
        trajectory(args[0], int(args[1]), args[2], int(args[3]), extra)
    elif mode == "restart":
        restart(args[0], int(args[1]), args[2])
    else:
        raise SystemExit(__doc__)
