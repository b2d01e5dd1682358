"""MultimodalDSC: fusion variants, post-processing, memory guard, predict on new samples."""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.metrics import adjusted_rand_score

from skdsc.cluster import MultimodalDSC
from skdsc.cluster._affinity import default_rho, subspace_affinity, threshold_coefficients, top_eigenpairs
from skdsc.cluster._multimodal import _run_cli, estimate_fit_memory
from skdsc.losses import multimodal_reconstruction_loss, multimodal_self_expression_loss
from skdsc.nn import MultimodalAutoencoder, MultimodalDSCModule, SelfExpressiveLayer

FAST = dict(conv_channels=(4, 6), conv_kernels=(3, 3), conv_strides=(2, 1), hidden_dims=(16, 16),
            latent_dim=4, pretrain_epochs=15, max_epochs=30, batch_size=16, device="cpu")


def _two_modalities(n_per=15, kind="image", seed=0):
    """Three clusters seen through two modalities (8x8 images or 6-vectors)."""
    rng = np.random.RandomState(seed)
    y = np.repeat([0, 1, 2], n_per)
    n = len(y)
    if kind == "image":
        protos = rng.normal(size=(2, 3, 8, 8, 1))
        Xs = [protos[m][y] + 0.3 * rng.normal(size=(n, 8, 8, 1)) for m in range(2)]
    else:
        protos = 2 * rng.normal(size=(2, 3, 6))
        Xs = [protos[m][y] + 0.3 * rng.normal(size=(n, 6)) for m in range(2)]
    return [X.astype(np.float32) for X in Xs], y


@pytest.fixture(scope="module")
def images():
    return _two_modalities(kind="image")


@pytest.fixture(scope="module")
def fitted(images):
    Xs, _ = images
    return MultimodalDSC(3, random_state=0, **FAST).fit(Xs)


# ----------------------------------------------------------------- variants
VARIANTS = [("affinity", "concat")] + [
    (f, g) for f in ("early", "intermediate", "late") for g in ("sum", "max", "concat")
]


@pytest.mark.parametrize("fusion,function", VARIANTS)
def test_every_fusion_variant_fits_two_modalities(images, fusion, function):
    Xs, y = images
    est = MultimodalDSC(3, fusion=fusion, fusion_function=function, random_state=0,
                        **{**FAST, "pretrain_epochs": 3, "max_epochs": 3}).fit(Xs)
    n = len(y)
    assert est.labels_.shape == (n,) and set(est.labels_) <= {0, 1, 2}
    assert est.coef_.shape == (n, n) and np.all(np.diag(est.coef_) == 0)
    np.testing.assert_allclose(est.affinity_, est.affinity_.T, atol=1e-6)
    proba = est.predict_proba(Xs)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert est.predict(Xs).shape == (n,)
    ae = est.net_.module_.autoencoder
    assert ae.n_codes == (2 if fusion == "affinity" else 1)
    assert est.transform(Xs).shape == (n, sum(ae.code_dims))
    assert len(est.history_["self-expressive"]) == 3 == est.n_iter_


@pytest.mark.parametrize("fusion", ["affinity", "late"])
def test_vector_modalities(fusion):
    Xs, y = _two_modalities(kind="vector")
    est = MultimodalDSC(3, fusion=fusion, random_state=0, **{**FAST, "pretrain_epochs": 3, "max_epochs": 3})
    assert est.fit_predict(Xs).shape == y.shape


def test_affinity_fusion_recovers_easy_clusters(fitted, images):
    Xs, y = images
    assert adjusted_rand_score(y, fitted.labels_) == pytest.approx(1.0)


def test_predict_on_held_out_samples():
    Xs, y = _two_modalities(n_per=30, kind="image", seed=1)
    rng = np.random.RandomState(0)
    perm = rng.permutation(len(y))
    tr, te = perm[:60], perm[60:]
    est = MultimodalDSC(3, random_state=0, **FAST).fit([X[tr] for X in Xs])
    assert adjusted_rand_score(y[tr], est.labels_) == pytest.approx(1.0)
    # the same labelling as the training clusters, not just the same partition
    mapping = {c: np.bincount(y[tr][est.labels_ == c]).argmax() for c in np.unique(est.labels_)}
    for rule in ("affinity", "neighbors"):
        est.set_params(predict_rule=rule)
        pred = est.predict([X[te] for X in Xs])
        assert np.mean([mapping[p] == t for p, t in zip(pred, y[te])]) == 1.0
        proba = est.predict_proba([X[te] for X in Xs])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(proba.argmax(axis=1), pred)
    # with one neighbour, a training sample gets its own label back
    est.set_params(predict_rule="neighbors", n_neighbors=1)
    np.testing.assert_array_equal(est.predict([X[tr] for X in Xs]), est.labels_)


def test_list_input_equals_flat_input_with_modalities(images):
    Xs, _ = images
    flat = np.hstack([X.reshape(len(X), -1) for X in Xs])
    a = MultimodalDSC(3, random_state=0, **{**FAST, "max_epochs": 3, "pretrain_epochs": 3}).fit(Xs)
    b = MultimodalDSC(3, modalities=[(8, 8, 1), (8, 8)], random_state=0,
                      **{**FAST, "max_epochs": 3, "pretrain_epochs": 3}).fit(flat)
    assert a.modalities_ == b.modalities_ == [(8, 8, 1), (8, 8, 1)]
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict_proba(Xs), b.predict_proba(flat))


def test_cpu_fit_is_repeatable(fitted, images):
    Xs, _ = images
    again = MultimodalDSC(3, random_state=0, **FAST).fit(Xs)
    np.testing.assert_array_equal(again.coef_, fitted.coef_)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)


def test_default_lambda2_and_rho(fitted):
    assert fitted.lambda2_ == pytest.approx(10 ** (3 / 10 - 3))
    assert fitted.rho_ == pytest.approx(0.4 - 0.1 * 2 / 10)
    assert default_rho(38) == pytest.approx(0.1)


def test_auto_recon_weights_are_relative_to_each_modality_variance(images):
    Xs, _ = images
    n = len(Xs[0])
    scaled = [Xs[0], 10.0 * Xs[1]]  # the second modality in other units
    kw = {**FAST, "pretrain_epochs": 1, "max_epochs": 1}
    est = MultimodalDSC(3, random_state=0, **kw).fit(scaled)
    flat = [X.reshape(n, -1).astype(np.float64) for X in scaled]
    expected = [n / ((F - F.mean(axis=0)) ** 2).sum() for F in flat]
    np.testing.assert_allclose(est.recon_weights_, expected, rtol=1e-6)
    # each weighted term is n (1 - R^2): a rescaled modality keeps its share of the loss
    unscaled = est._recon_weights(np.hstack([X.reshape(n, -1) for X in Xs]))[0]
    np.testing.assert_allclose(est.recon_weights_, [unscaled[0], unscaled[1] / 100], rtol=1e-5)
    pre_w, fine_w = est._recon_weights(np.hstack(flat).astype(np.float32))[::-1]
    np.testing.assert_allclose(pre_w, np.asarray(fine_w) * np.array([F.shape[1] for F in flat]), rtol=1e-6)
    # a constant modality falls back to the raw sum instead of dividing by zero
    const = MultimodalDSC(3, random_state=0, **kw).fit([Xs[0], np.ones_like(Xs[1])])
    assert const.recon_weights_[1] == 1.0 and np.all(np.isfinite(const.coef_))


def test_explicit_and_unit_recon_weights_are_kept(images):
    Xs, _ = images
    kw = {**FAST, "pretrain_epochs": 1, "max_epochs": 1}
    assert MultimodalDSC(3, recon_weights=None, random_state=0, **kw).fit(Xs).recon_weights_.tolist() == [1.0, 1.0]
    est = MultimodalDSC(3, recon_weights=[2.0, 0.5], random_state=0, **kw).fit(Xs)
    assert est.recon_weights_.tolist() == [2.0, 0.5]
    with pytest.raises(ValueError, match="recon_weights"):
        MultimodalDSC(3, recon_weights=[1.0], **kw).fit(Xs)


def test_bad_modalities_are_refused(images):
    Xs, _ = images
    flat = np.hstack([X.reshape(len(X), -1) for X in Xs])
    with pytest.raises(ValueError, match="take 100 columns but X has 128"):
        MultimodalDSC(3, modalities=[(8, 8, 1), 36], **FAST).fit(flat)
    with pytest.raises(ValueError, match="does not match the shapes"):
        MultimodalDSC(3, modalities=[64, 64], **FAST).fit(Xs)
    with pytest.raises(ValueError, match="positive int"):
        MultimodalDSC(3, modalities=[(8, 8, 1), -5], **FAST).fit(flat)
    with pytest.raises(ValueError, match="one kind"):
        MultimodalDSC(3, fusion="late", **FAST).fit([Xs[0], flat[:, :6]])
    with pytest.raises(ValueError, match="same number of channels"):
        MultimodalDSC(3, fusion="early", fusion_function="sum", **FAST).fit([Xs[0], np.tile(Xs[1], 2)])
    with pytest.raises(ValueError, match="same spatial size"):
        MultimodalDSC(3, fusion="early", fusion_function="concat", **FAST).fit(
            [Xs[0], np.zeros((len(flat), 6, 6, 1), np.float32)]
        )
    est = MultimodalDSC(3, **{**FAST, "max_epochs": 1, "pretrain_epochs": 1}).fit(Xs)
    with pytest.raises(ValueError, match="fitted on"):
        est.predict([Xs[0]])


def test_dataarray_modalities_give_labelled_output(images):
    Xs, _ = images
    time = np.arange(len(Xs[0])) + 100
    das = [xr.DataArray(Xs[0][..., 0], dims=("time", "y", "x"), coords={"time": time}),
           xr.DataArray(Xs[1].reshape(len(time), -1), dims=("time", "f"), coords={"time": time})]
    est = MultimodalDSC(3, random_state=0, **{**FAST, "max_epochs": 2, "pretrain_epochs": 2})
    labels = est.fit_predict(das)
    assert isinstance(labels, xr.DataArray) and list(labels["time"].values) == list(time)
    assert est.modalities_ == [(8, 8, 1), 64]
    assert isinstance(est.predict(das), xr.DataArray)
    out = _run_cli(MultimodalDSC(3, random_state=0, **{**FAST, "max_epochs": 2, "pretrain_epochs": 2}),
                   das, SimpleNamespace(variables=None, sample_dim=None, input=["a.npy", "b.npy"]))
    assert out.dims == ("time",) and out.shape == (len(time),)


# --------------------------------------------------------------- memory guard
def test_memory_guard_refuses_before_training(images):
    Xs, _ = images
    est = MultimodalDSC(3, max_memory_gb=1e-6, **FAST)
    with pytest.raises(MemoryError, match=r"max_memory_gb=1e-06"):
        est.fit(Xs)
    assert not hasattr(est, "net_")
    assert est.memory_estimate_ > 1e-6 * 2**30


def test_memory_estimate_formula():
    n, a, p = 1000, 50, 200
    assert estimate_fit_memory(n, a, p) == max(4 * (6 * n * n + 3 * n * a + 4 * p), 44 * n * n)
    # 70 000 samples: C alone is ~18 GiB in float32, the fit several times that
    assert estimate_fit_memory(70_000, 1000, 10**6) > 100 * 2**30


def test_memory_guard_can_be_disabled(fitted):
    assert MultimodalDSC(max_memory_gb=None).get_params()["max_memory_gb"] is None
    assert fitted.memory_estimate_ > 0


# ----------------------------------------------------------- post-processing
def _threshold_loop(C, rho):
    """DSC-Net's thrC written as its column loop."""
    out = np.zeros_like(C)
    for j in range(C.shape[1]):
        order = np.argsort(-np.abs(C[:, j]), kind="stable")
        l1, total = np.abs(C[:, j]).sum(), 0.0
        for i in order:
            out[i, j] = C[i, j]
            total += abs(C[i, j])
            if total > rho * l1:
                break
    return out


@pytest.mark.parametrize("rho", [0.1, 0.31, 0.7, 0.999])
def test_threshold_matches_the_column_loop(rho):
    C = np.random.RandomState(0).normal(size=(30, 30))
    np.fill_diagonal(C, 0)
    np.testing.assert_array_equal(threshold_coefficients(C, rho), _threshold_loop(C, rho))
    np.testing.assert_array_equal(threshold_coefficients(C, 1.0), C)


def test_subspace_affinity_matches_direct_computation():
    rng = np.random.RandomState(1)
    C = rng.normal(size=(40, 40))
    np.fill_diagonal(C, 0)
    K, d, alpha, rho = 3, 2, 3.5, 0.4
    # direct: threshold, symmetrise, full SVD, keep d*K+1, U sqrt(S), normalise, power
    Cs = _threshold_loop(C, rho)
    Cs = 0.5 * (Cs + Cs.T)
    U, S, _ = np.linalg.svd(Cs)
    r = d * K + 1
    U = U[:, :r] * np.sqrt(S[:r])
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    A = np.maximum(U @ U.T, 0) ** alpha
    A /= A.max()
    np.testing.assert_allclose(subspace_affinity(C, K, d, alpha, rho), 0.5 * (A + A.T), atol=1e-10)


def test_top_eigenpairs_lanczos_path_matches_dense(monkeypatch):
    import skdsc.cluster._affinity as affinity

    monkeypatch.setattr(affinity, "DENSE_MAX_SAMPLES", 50)
    rng = np.random.RandomState(2)
    M = rng.normal(size=(200, 200))
    M = M + M.T
    vecs, vals = top_eigenpairs(M, 20, np.random.RandomState(0))  # n > DENSE_MAX_SAMPLES: Lanczos
    w, V = np.linalg.eigh(M)
    idx = np.argsort(-np.abs(w))[:20]
    np.testing.assert_allclose(vals, w[idx], rtol=1e-8)
    np.testing.assert_allclose(np.abs(np.sum(vecs * V[:, idx], axis=0)), 1.0, atol=1e-6)


def test_block_diagonal_coefficients_give_block_affinity():
    C = np.kron(np.eye(3), np.ones((4, 4)))  # eigenvalues 4 (x3) and 0: the rank-4 basis is exact
    A = subspace_affinity(C, 3, subspace_dim=1, power=2.0)
    block = np.kron(np.eye(3), np.ones((4, 4)))
    np.testing.assert_allclose(A, block, atol=1e-10)


# -------------------------------------------------------------- torch parts
def test_self_expressive_layer_has_zero_diagonal_and_no_self_gradient():
    layer = SelfExpressiveLayer(5, init=0.3)
    z = torch.randn(5, 2)
    np.testing.assert_allclose(layer(z).detach().numpy(), (layer.coefficients() @ z).detach().numpy())
    layer(z).pow(2).sum().backward()
    assert torch.all(torch.diagonal(layer.weight.grad) == 0)
    with pytest.raises(ValueError, match="needs them all in one batch"):
        layer(torch.randn(4, 2))


def test_losses_match_numpy():
    rng = np.random.RandomState(3)
    x = [rng.normal(size=(5, 4)), rng.normal(size=(5, 2))]
    xh = [rng.normal(size=(5, 4)), rng.normal(size=(5, 2))]
    z = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]
    C = rng.normal(size=(5, 5))
    t = lambda a: [torch.tensor(v) for v in a]  # noqa: E731
    rec = multimodal_reconstruction_loss(t(x), t(xh), [0.5, 2.0])
    assert float(rec) == pytest.approx(0.5 * ((x[0] - xh[0]) ** 2).sum() + 2 * ((x[1] - xh[1]) ** 2).sum())
    loss, (reg, res) = multimodal_self_expression_loss(t(z), [torch.tensor(C @ v) for v in z], torch.tensor(C), 1.5, 0.1,
                                            [1.0, 3.0])
    expected_res = ((z[0] - C @ z[0]) ** 2).sum() + 3 * ((z[1] - C @ z[1]) ** 2).sum()
    assert float(reg) == pytest.approx((C**2).sum()) and float(res) == pytest.approx(expected_res)
    assert float(loss) == pytest.approx(1.5 * (C**2).sum() + 0.1 * expected_res)


@pytest.mark.parametrize("fusion,function,code_dim", [
    ("affinity", "sum", None), ("early", "concat", 8 * 8 * 30 // 4), ("early", "sum", 8 * 8 * 30 // 4),
    ("intermediate", "max", 8 * 8 * 30 // 4), ("late", "concat", 2 * 8 * 8 * 30 // 4), ("late", "sum", 8 * 8 * 30 // 4),
])
def test_autoencoder_codes_and_reconstructions(fusion, function, code_dim):
    ae = MultimodalAutoencoder([(16, 16, 1), (16, 16, 2)] if function == "concat" else [(16, 16, 1)] * 2,
                               fusion=fusion, fusion_function=function)
    x = torch.randn(3, sum(ae.columns))
    codes, recons = ae(x)
    if fusion == "affinity":
        assert [c.shape for c in codes] == [(3, 480), (3, 480)]
    else:
        assert len(codes) == 1 and codes[0].shape == (3, code_dim)
    assert [r.shape[1] for r in recons] == ae.columns
    module = MultimodalDSCModule(ae, 3)
    _, se, rec, coef = module(x)
    np.testing.assert_allclose(se[0].detach().numpy(), (coef @ codes[0]).detach().numpy(), rtol=1e-5, atol=1e-7)
    assert ae.per_sample_activations() > sum(ae.columns)


def test_pickle_round_trip(fitted, images):
    Xs, _ = images
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(Xs), fitted.predict_proba(Xs))
    assert isinstance(fitted.score(Xs), float)


@pytest.mark.gpu
def test_cuda_fit_predicts_on_cpu_after_pickle(images):
    Xs, y = images
    est = MultimodalDSC(3, random_state=0, **{**FAST, "device": "cuda"}).fit(Xs)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    clone = pickle.loads(pickle.dumps(est))
    clone.net_.module_.to("cpu")
    np.testing.assert_array_equal(clone.predict(Xs), est.predict(Xs))


def test_neighbour_refinement_relabels_a_sample_against_its_whole_neighbourhood(fitted, images):
    import copy

    est = copy.deepcopy(fitted)
    n, dim = est.train_codes_.shape
    rng = np.random.RandomState(0)
    truth = np.repeat([0, 1, 2], n // 3)
    codes = rng.normal(scale=0.1, size=(n, dim))
    codes[:, 0] += 10.0 * truth  # three tight, far-apart groups
    est.train_codes_ = codes.astype(np.float32)
    noisy = truth.copy()
    noisy[[0, 20]] = [1, 2]  # two samples labelled against their group
    refined = est.set_params(n_neighbors=5)._refine_by_neighbors(noisy)
    np.testing.assert_array_equal(refined, truth)
    # a sample whose two neighbours disagree (labels 1 and 2) keeps its own label 2, not the lower 1
    three = np.array([[0.0], [1.0], [-1.0]]) * np.ones((1, dim))
    est.train_codes_ = three.astype(np.float32)
    np.testing.assert_array_equal(est.set_params(n_neighbors=2)._refine_by_neighbors(np.array([2, 1, 2])),
                                  [2, 2, 2])
    # fitting with refine keeps the spectral labels and, on these easy clusters, changes nothing
    Xs, y = images
    ref = MultimodalDSC(3, random_state=0, refine="neighbors", **FAST).fit(Xs)
    np.testing.assert_array_equal(ref.spectral_labels_, fitted.labels_)
    assert adjusted_rand_score(y, ref.labels_) == pytest.approx(1.0)
    assert not hasattr(fitted, "spectral_labels_")


def test_cli_takes_modalities_from_npy_files_or_netcdf_variables(tmp_path, images):
    from skdsc import cli

    Xs, y = images
    fast = ["--param", "conv_channels=(4, 6)", "--param", "conv_kernels=(3, 3)", "--param",
            "conv_strides=(2, 1)", "--param", "latent_dim=4", "--param", "pretrain_epochs=2",
            "--param", "max_epochs=2", "--param", "batch_size=16", "--param", "device='cpu'"]
    paths = []
    for i, X in enumerate(Xs):
        paths.append(str(tmp_path / f"m{i}.npy"))
        np.save(paths[-1], X[..., 0])
    assert cli.main(["cluster", *paths, "--method", "multimodal", "--n-clusters", "3",
                     "--output", str(tmp_path / "a.npy"), *fast]) == 0
    assert np.load(tmp_path / "a.npy").shape == (len(y),)
    ds = xr.Dataset({f"v{i}": (("time", f"y{i}", f"x{i}"), X[..., 0]) for i, X in enumerate(Xs)},
                    coords={"time": np.arange(len(y)) + 10})
    ds.to_netcdf(tmp_path / "m.nc")
    assert cli.main(["cluster", str(tmp_path / "m.nc"), "--method", "multimodal", "--variables", "v0,v1",
                     "--n-clusters", "3", "--output", str(tmp_path / "b.nc"), *fast]) == 0
    out = xr.open_dataarray(tmp_path / "b.nc")
    assert out.dims == ("time",) and list(out["time"].values) == list(range(10, 10 + len(y)))
    # --variables needs exactly one netCDF input
    assert cli.main(["cluster", str(tmp_path / "m.nc"), str(tmp_path / "m.nc"), "--method", "multimodal",
                     "--variables", "v0,v1", "--n-clusters", "3", *fast]) != 0
