"""GCML: its losses by hand, the schedule, the bounded-memory pieces and the estimator."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import MinMaxScaler

from skdsc import _training_gcml
from skdsc._training import carry_optimizer_state
from skdsc._registry import get_method
from skdsc._training_gcml import (
    GCMLNet,
    cluster_means,
    continuation_weights,
    pair_distances,
    within_cluster_neighbors,
)
from skdsc.cluster import GCML
from skdsc.cluster._gcml import _he_init_
from skdsc.losses import center_alignment_loss, center_ranking_loss, local_isometry_loss
from skdsc.nn import AutoencoderWithHead, MLPAutoencoder, StudentTHead

FAST = dict(hidden_dims=(16,), latent_dim=3, pretrain_epochs=15, max_epochs=8, warmup_epochs=2,
            batch_size=32, n_init=3, init="kmeans", device="cpu")


# ------------------------------------------------------------------ losses
def test_local_isometry_loss_by_hand():
    # D = 4 (scale 1/2), m = 1 (scale 1)
    z_i = torch.tensor([[0.0], [1.0]])
    z_j = torch.tensor([[3.0], [1.5]])
    dist_x = torch.tensor([2.0, 4.0])
    # |2/2 - 3| = 2 and |4/2 - 0.5| = 1.5
    assert float(local_isometry_loss(z_i, z_j, dist_x, 4, reduction="sum")) == pytest.approx(3.5)
    assert float(local_isometry_loss(z_i, z_j, dist_x, 4)) == pytest.approx(1.75)
    np.testing.assert_allclose(local_isometry_loss(z_i, z_j, dist_x, 4, reduction="none"), [2.0, 1.5])
    # the latent scale is sqrt(m): m = 4 halves latent distances
    zi4 = torch.zeros(1, 4)
    zj4 = torch.tensor([[6.0, 0.0, 0.0, 0.0]])
    assert float(local_isometry_loss(zi4, zj4, torch.tensor([2.0]), 1)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="reduction"):
        local_isometry_loss(z_i, z_j, dist_x, 4, reduction="max")


def test_local_isometry_gradient_sign():
    # latent pair too far apart -> the gradient pulls them together
    z_i = torch.tensor([[0.0]], requires_grad=True)
    z_j = torch.tensor([[3.0]], requires_grad=True)
    local_isometry_loss(z_i, z_j, torch.tensor([2.0]), 4).backward()
    assert z_i.grad.item() == pytest.approx(-1.0) and z_j.grad.item() == pytest.approx(1.0)
    # empty pair set: zero, with a graph
    empty = torch.zeros(0, 2, requires_grad=True)
    assert float(local_isometry_loss(empty, empty, torch.zeros(0), 3).detach()) == 0.0


def test_center_ranking_loss_by_hand():
    mu = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]], requires_grad=True)
    vx = torch.tensor([[0.0], [1.0], [3.0]])
    # D(mu): d01 = 5, d02 = 1, d12 = sqrt(9 + 9); kappa * D(vx): 3, 9, 6
    diffs = np.array([5 - 3, 1 - 9, np.sqrt(18) - 6])
    expected = np.sqrt(2 * np.sum(diffs**2)) / 3
    loss = center_ranking_loss(mu, vx, kappa=3.0)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert torch.isfinite(mu.grad).all() and mu.grad.abs().sum() > 0
    # a mask drops a centre (e.g. an empty pseudo-cluster)
    masked = center_ranking_loss(mu, vx, 3.0, mask=torch.tensor([True, True, False]))
    assert float(masked.detach()) == pytest.approx(np.sqrt(2 * 4) / 2, rel=1e-6)
    assert float(center_ranking_loss(mu[:1], vx[:1]).detach()) == 0.0



def test_center_ranking_loss_scaled_by_dim_by_hand():
    # latent m = 2, input D = 8: D(mu) / sqrt(2) against kappa * D(v^X) / sqrt(8)
    mu = torch.tensor([[0.0, 0.0], [6.0, 0.0]], requires_grad=True)
    vx = torch.zeros(2, 8)
    vx[1, 0] = 4.0
    # 6 / sqrt(2) = 3 * 4 / sqrt(8): the scaled distances agree, the raw ones do not (6 vs 12)
    scaled = center_ranking_loss(mu, vx, kappa=3.0, scale_by_dim=True).detach()
    assert float(scaled) == pytest.approx(0.0, abs=1e-6)
    raw = center_ranking_loss(mu, vx, kappa=3.0).detach()
    assert float(raw) == pytest.approx(np.sqrt(2 * 36) / 2, rel=1e-6)
    vx[1, 0] = 2.0  # kappa * 2 / sqrt(8) = 2.1213; 6 / sqrt(2) = 4.2426; two off-diagonal entries
    expected = np.sqrt(2 * (6 / np.sqrt(2) - 6 / np.sqrt(8)) ** 2) / 2
    loss = center_ranking_loss(mu, vx, kappa=3.0, scale_by_dim=True)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    loss.backward()
    # the centres are too far apart: a descent step pulls them together along the x axis;
    # loss = |r| / sqrt(2) with r = (mu1_x - mu0_x) / sqrt(2) - c, so dloss/dmu0_x = -1/2
    np.testing.assert_allclose(mu.grad, [[-0.5, 0.0], [0.5, 0.0]], atol=1e-6)

def test_center_alignment_loss_by_hand():
    mu = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    vz = torch.tensor([[3.0, 4.0], [1.0, 2.0]], requires_grad=True)
    assert float(center_alignment_loss(mu, vz)) == pytest.approx((5 + 1) / 2)
    assert float(center_alignment_loss(mu, vz, torch.tensor([False, True]))) == pytest.approx(1.0)
    center_alignment_loss(mu, vz).backward()
    np.testing.assert_allclose(vz.grad, [[0.3, 0.4], [0.0, 0.5]], rtol=1e-6)


# --------------------------------------------------------------- schedule
def test_weight_continuation_schedule():
    # paper: warm-up 10, alpha 1 -> 0 by epoch 150, beta 0 -> 1 over 150 epochs
    assert continuation_weights(5, 10, 150) == (1.0, 0.0)
    assert continuation_weights(10, 10, 150) == (1.0, 0.0)
    assert continuation_weights(80, 10, 150) == pytest.approx((0.5, 70 / 150))
    assert continuation_weights(150, 10, 150) == pytest.approx((0.0, 140 / 150))
    assert continuation_weights(299, 10, 150) == (0.0, 1.0)
    assert continuation_weights(50, 10, 150, enabled=False) == (1.0, 1.0)
    assert continuation_weights(3, 10, 150, enabled=False) == (1.0, 0.0)


# ----------------------------------------------------- bounded-memory pieces
def test_within_cluster_neighbors_matches_brute_force():
    rng = np.random.RandomState(0)
    Z = rng.randn(80, 3)
    labels = rng.randint(0, 4, 80)
    labels[:2] = 7  # a two-point cluster: one neighbour each
    labels[2] = 9  # a singleton: no pair
    rows, cols = within_cluster_neighbors(Z, labels, 5)
    got = {}
    for r, c in zip(rows, cols):
        got.setdefault(r, set()).add(c)
    for i in range(80):
        same = np.flatnonzero((labels == labels[i]) & (np.arange(80) != i))
        d = np.linalg.norm(Z[same] - Z[i], axis=1)
        expected = set(same[np.argsort(d)[: min(5, same.size)]])
        assert got.get(i, set()) == expected
    assert np.all(labels[rows] == labels[cols])
    np.testing.assert_allclose(pair_distances(Z, rows, cols, chunk=7), np.linalg.norm(Z[rows] - Z[cols], axis=1),
                               rtol=1e-6)


def test_cluster_means_with_an_empty_cluster():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0]])
    means, counts = cluster_means(A, np.array([0, 0, 2]), 3)
    np.testing.assert_allclose(means, [[2.0, 3.0], [0.0, 0.0], [10.0, 0.0]])
    np.testing.assert_array_equal(counts, [2, 0, 1])


def _net(X, **kwargs):
    ae = MLPAutoencoder(X.shape[1], (8,), 2)
    head = StudentTHead(3, 2)
    net = GCMLNet(module=AutoencoderWithHead(ae, head), criterion=torch.nn.MSELoss, max_epochs=1,
                  batch_size=16, train_split=None, lr=1e-2, optimizer=torch.optim.Adam, **kwargs)
    net.initialize()
    net.on_train_begin(net, X=X, y=np.arange(len(X)))
    net.history.new_epoch()
    net.epoch_ = 20
    net.alpha_, net.beta_ = 0.5, 0.5
    return net


def test_structure_step_chunked_gradient_equals_the_direct_one(monkeypatch):
    torch.manual_seed(0)
    X = np.random.RandomState(0).rand(50, 6).astype(np.float32)
    net = _net(X)
    net.update_targets(X)
    # direct: the whole loss on all rows at once, autograd through the encoder
    enc = net.module_.autoencoder.encoder
    head = net.module_.head
    Z = enc(torch.from_numpy(X))
    rows, cols = within_cluster_neighbors(Z.detach().numpy(), net.pseudo_labels_, 5)
    lab = torch.from_numpy(net.pseudo_labels_)
    vz = torch.stack([Z[lab == c].mean(0) if (lab == c).any() else torch.zeros(2) for c in range(3)])
    direct = 0.5 * local_isometry_loss(Z[rows], Z[cols], torch.from_numpy(pair_distances(X, rows, cols)), 6)
    direct = direct + center_alignment_loss(head.centers, vz, net.center_mask_)
    params = list(enc.parameters()) + [head.centers]
    expected = torch.autograd.grad(direct, params)
    # chunked, as the per-epoch step does it (chunks of 7 rows); intercept before the step
    monkeypatch.setattr(_training_gcml, "_CHUNK", 7)
    captured = {}
    monkeypatch.setattr(net.optimizer2_, "step", lambda: captured.update(g=[p.grad.clone() for p in params]))
    net.structure_step(X)
    for g, e in zip(captured["g"], expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
    assert "lis_loss" in net.history[-1] and "align_loss" in net.history[-1]


def test_mini_batch_step_uses_only_the_first_optimiser():
    X = np.random.RandomState(0).rand(40, 6).astype(np.float32)
    net = _net(X)
    net.update_targets(X)
    state_before = {k: v for k, v in net.optimizer2_.state.items()}
    net.train_step((torch.from_numpy(X[:16]), torch.arange(16)))
    assert net.optimizer2_.state == state_before == {}
    assert len(net.optimizer_.state) > 0


def test_ranking_loss_moves_only_the_centres():
    X = np.random.RandomState(0).rand(40, 6).astype(np.float32)
    net = _net(X)
    net.update_targets(X)
    net.alpha_ = 0.0
    y_pred = net.module_(torch.from_numpy(X[:16]))
    loss = net.get_loss(y_pred, torch.arange(16), X=torch.from_numpy(X[:16]))
    loss.backward()
    assert net.module_.head.centers.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in net.module_.autoencoder.parameters())


# ---------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=400, centers=3, n_features=10, cluster_std=1.5, random_state=0)
    return MinMaxScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    # the paper's initialisation: t-SNE on a subsample, KMeans, latent means
    params = {**FAST, "pretrain_epochs": 40, "init": "tsne", "tsne_sample_size": 150}
    return GCML(3, random_state=0, snapshot_epochs=[0, 4, 8], **params).fit(X[:300])


def test_fit_clusters_and_generalises(fitted, blobs):
    X, y = blobs
    assert adjusted_rand_score(y[:300], fitted.labels_) > 0.9
    assert adjusted_rand_score(y[300:], fitted.predict(X[300:])) > 0.9
    assert fitted.transform(X).shape == (400, 3)
    np.testing.assert_allclose(fitted.predict_proba(X).sum(1), 1.0, rtol=1e-5)
    assert fitted.cluster_centers_.shape == (3, 3)
    assert fitted.init_labels_.shape == (300,)
    assert isinstance(fitted.score(X), float)


def test_history_records_the_schedule(fitted):
    h = fitted.history_["cluster"]
    assert len(h) == 8 and len(fitted.history_["pretrain"]) == 40
    # warm-up 2 epochs, continuation over max_epochs // 2 = 4 epochs
    np.testing.assert_allclose(h[:, "alpha"], [1, 1, 1, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(h[:, "beta"], [0, 0, 0, 0.25, 0.5, 0.75, 1, 1])
    assert "lis_loss" not in h[1] and "lis_loss" in h[2]
    assert fitted.n_iter_ == 8 * 10


def test_snapshots(fitted, blobs):
    assert [s["epoch"] for s in fitted.snapshots_] == [0, 4, 8]
    last = fitted.snapshots_[-1]
    np.testing.assert_allclose(last["embedding"], fitted.transform(blobs[0][:300]), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(last["labels"], fitted.labels_)
    np.testing.assert_allclose(last["centers"], fitted.cluster_centers_)
    # the first snapshot is the pretrained embedding, labelled by the initial centres
    np.testing.assert_array_equal(fitted.snapshots_[0]["labels"], fitted.init_labels_)


def test_snapshot_after_the_last_epoch_is_the_final_embedding(blobs):
    X = blobs[0][:120]
    est = GCML(3, random_state=0, snapshot_epochs=[3], **{**FAST, "max_epochs": 3}).fit(X)
    np.testing.assert_allclose(est.snapshots_[0]["embedding"], est.transform(X), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def small_fit(blobs):
    return GCML(3, random_state=0, **FAST).fit(blobs[0][:120])


def test_cpu_fit_is_repeatable(blobs, small_fit):
    X = blobs[0][:120]
    again = GCML(3, random_state=0, **FAST).fit(X)
    np.testing.assert_array_equal(again.transform(X), small_fit.transform(X))


@pytest.mark.parametrize(
    "switch, present, absent",
    [
        (dict(structure_losses=False), [], ["lis_loss"]),
        (dict(alternating=False), [], ["lis_loss"]),
        (dict(clustering_loss=False), ["lis_loss"], []),
        (dict(weight_continuation=False), ["lis_loss"], []),
    ],
)
def test_ablation_switches(blobs, small_fit, switch, present, absent):
    X = blobs[0][:120]
    base = small_fit
    est = GCML(3, random_state=0, **FAST, **switch).fit(X)
    last = est.history_["cluster"][-1]
    assert all(k in last for k in present) and not any(k in last for k in absent)
    assert not np.array_equal(est.transform(X), base.transform(X))
    if "weight_continuation" in switch:
        np.testing.assert_allclose(est.history_["cluster"][:, "alpha"], 1.0)


def test_zero_epochs(blobs):
    X, y = blobs
    est = GCML(3, random_state=0, snapshot_epochs=[0], **{**FAST, "max_epochs": 0}).fit(X)
    assert est.n_iter_ == 0
    np.testing.assert_array_equal(est.labels_, est.init_labels_)
    np.testing.assert_allclose(est.snapshots_[0]["embedding"], est.transform(X), rtol=1e-5, atol=1e-6)


def test_pickle_round_trip_drops_training_state(fitted, blobs):
    X = blobs[0]
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(X), fitted.predict_proba(X))
    assert fitted.net_.target_ is None and fitted.net_.X_ is None


# ------------------------------------------------------------------ init
def test_he_init_keeps_the_signal_through_the_deep_autoencoder():
    # the paper's d-500-500-500-2000-10 encoder: with PyTorch's default init the latent
    # code hardly depends on the input (signal variance / 6 per ReLU layer); He keeps it
    x = torch.randn(256, 64, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    default = MLPAutoencoder(64, (500, 500, 500, 2000), 10)
    torch.manual_seed(0)
    he = _he_init_(MLPAutoencoder(64, (500, 500, 500, 2000), 10))
    with torch.no_grad():
        spread_default = float(default.encode(x).std(0).mean())
        spread_he = float(he.encode(x).std(0).mean())
    assert spread_default < 0.05
    assert 0.3 < spread_he < 3.0
    for layer in he.modules():
        if isinstance(layer, torch.nn.Linear):
            assert torch.all(layer.bias == 0)
            assert abs(float(layer.weight.std()) / np.sqrt(2.0 / layer.in_features) - 1) < 0.1


def test_weight_init_option(blobs, monkeypatch):
    X = blobs[0][:60]
    calls = []
    monkeypatch.setattr("skdsc.cluster._gcml._he_init_", lambda m: calls.append(m) or m)
    GCML(3, **{**FAST, "pretrain_epochs": 1, "max_epochs": 1}).fit(X)
    assert calls == []  # PyTorch's default initialisation, as the authors' code
    GCML(3, weight_init="he", **{**FAST, "pretrain_epochs": 1, "max_epochs": 1}).fit(X)
    assert len(calls) == 1 and isinstance(calls[0], MLPAutoencoder)




def test_carry_optimizer_state_copies_shared_parameters_only():
    shared, new = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    source = torch.optim.Adam([shared], lr=1e-3)
    for _ in range(4):
        source.zero_grad()
        (shared ** 2).sum().backward()
        source.step()
    target = torch.optim.Adam([shared, new], lr=1e-3)
    assert carry_optimizer_state(source.state, target) == 1
    assert float(target.state[shared]["step"]) == 4
    np.testing.assert_array_equal(target.state[shared]["exp_avg_sq"], source.state[shared]["exp_avg_sq"])
    assert target.state[shared]["exp_avg"] is not source.state[shared]["exp_avg"]  # a copy
    assert new not in target.state


def _first_steps(optimizer_state):
    """Adam step count of the clustering stage's optimisers for the first encoder
    weight and for the centres, and the number of pretraining steps."""
    X = make_blobs(n_samples=64, centers=3, n_features=5, random_state=0)[0].astype(np.float32)
    est = GCML(3, random_state=0, optimizer_state=optimizer_state,
               **{**FAST, "pretrain_epochs": 3, "max_epochs": 1, "warmup_epochs": 0}).fit(X)
    net = est.net_
    weight = next(net.module_.autoencoder.encoder.parameters())
    centers = net.module_.head.centers
    pretrain_steps = 3 * 2  # 3 epochs of 64 / 32 batches
    state2 = net.optimizer2_.state
    return (float(net.optimizer_.state[weight]["step"]), float(net.optimizer_.state[centers]["step"]),
            float(state2[weight]["step"]) if weight in state2 else 0.0, pretrain_steps)


def test_clustering_stage_continues_the_pretraining_optimiser():
    # a fresh Adam moves every weight by about lr in its first steps (sign steps);
    # optimizer_state="carry" continues the pretraining moments in the mini-batch
    # optimiser (the default, "reset", starts afresh as the authors' code does)
    assert GCML().optimizer_state == "reset"
    steps, center_steps, steps2, pre = _first_steps("carry")
    assert steps == pre + 2 and center_steps == 2 and steps2 == 1
    steps, center_steps, steps2, pre = _first_steps("reset")
    assert steps == 2 and center_steps == 2 and steps2 == 1


@pytest.mark.parametrize("rank_scaling, scaled", [("none", False), ("sqrt_dim", True)])
def test_rank_scaling_option_reaches_the_loss(blobs, monkeypatch, rank_scaling, scaled):
    X = blobs[0][:60]
    seen = []
    original = _training_gcml.center_ranking_loss

    def spy(*args, **kwargs):
        seen.append(kwargs.get("scale_by_dim"))
        return original(*args, **kwargs)

    monkeypatch.setattr(_training_gcml, "center_ranking_loss", spy)
    GCML(3, rank_scaling=rank_scaling, **{**FAST, "pretrain_epochs": 1, "max_epochs": 4}).fit(X)
    assert seen and set(seen) == {scaled}

def test_bad_parameters(blobs):
    X = blobs[0][:50]
    with pytest.raises(ValueError, match="weight_init"):
        GCML(3, **{**FAST, "weight_init": "xavier"}).fit(X)
    with pytest.raises(ValueError, match="init"):
        GCML(3, **{**FAST, "init": "umap"}).fit(X)
    with pytest.raises(ValueError, match="rank_scaling"):
        GCML(3, **{**FAST, "rank_scaling": "sqrt"}).fit(X)
    with pytest.raises(ValueError, match="n_neighbors"):
        GCML(3, n_neighbors=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="n_clusters=60 must be <= n_samples=50"):
        GCML(60, **FAST).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        GCML(3, **FAST).fit(np.full((10, 3), np.nan))


def test_registered_with_the_cli():
    assert get_method("gcml").factory is GCML


@pytest.mark.gpu
def test_cuda_fit_predicts_on_cpu(blobs):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X, y = blobs
    est = GCML(3, random_state=0, **{**FAST, "device": "cuda"}).fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    clone = pickle.loads(pickle.dumps(est))
    clone.net_.set_params(device="cpu")
    assert clone.predict(X).shape == (400,)
