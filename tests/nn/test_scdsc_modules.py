"""SCDSC building blocks against direct computations (loops, slicing, hand examples)."""

import numpy as np
import pytest
import torch

from skdsc._training_scdsc import AssignmentMemory
from skdsc.losses import (
    basis_dissimilarity,
    dec_target_distribution,
    kl_divergence,
    local_structure_loss,
    masked_box_filter,
    minicluster_assignment,
    nonlocal_structure_loss,
    refined_minicluster_target,
)
from skdsc.nn import ConvPatchAutoencoder, ImagePatchDataset, SubspaceBasisHead, subspace_basis_assignment


def _rand_s(rng, n, k):
    s = rng.uniform(0.05, 1.0, size=(n, k))
    return torch.tensor(s / s.sum(1, keepdims=True), dtype=torch.float64)


# ---------------------------------------------------------------- patches
@pytest.mark.parametrize("p", [1, 3, 7])
def test_patches_equal_direct_slicing_of_the_reflect_padded_image(p):
    rng = np.random.RandomState(0)
    img = rng.rand(6, 9, 4).astype(np.float32)
    ds = ImagePatchDataset(img, p)
    r = p // 2
    padded = np.pad(img, ((r, r), (r, r), (0, 0)), mode="reflect")
    batch, idx = ds.__getitems__(np.arange(len(ds)))
    assert batch.shape == (54, 4, p, p)
    np.testing.assert_array_equal(idx.numpy(), np.arange(54))
    for i in range(54):
        y, x = divmod(i, 9)
        expected = padded[y:y + p, x:x + p].transpose(2, 0, 1)
        np.testing.assert_array_equal(batch[i].numpy(), expected)
        single, j = ds[i]
        np.testing.assert_array_equal(single.numpy(), expected)
        assert j == i
        if r <= y < 6 - r and r <= x < 9 - r:  # interior: a plain slice of the image
            np.testing.assert_array_equal(batch[i].numpy(), img[y - r:y + r + 1, x - r:x + r + 1].transpose(2, 0, 1))


def test_patches_of_a_pixel_subset_and_no_materialisation():
    img = np.arange(5 * 5 * 2, dtype=np.float32).reshape(5, 5, 2)
    ds = ImagePatchDataset(img, 3, pixels=[12, 0])
    assert len(ds) == 2
    batch, idx = ds.__getitems__([0, 1])
    np.testing.assert_array_equal(batch[0].numpy(), img[1:4, 1:4].transpose(2, 0, 1))
    np.testing.assert_array_equal(idx.numpy(), [0, 1])
    # the windows are a view on the single padded copy of the image
    assert ds.windows.untyped_storage().data_ptr() == ds.padded.untyped_storage().data_ptr()


def test_patch_dataset_rejects_even_patches_and_bad_images():
    with pytest.raises(ValueError, match="odd"):
        ImagePatchDataset(np.zeros((4, 4, 2)), 4)
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        ImagePatchDataset(np.zeros((4, 4)), 3)


# ---------------------------------------------------------------- network
def test_conv_autoencoder_shapes_and_layers():
    ae = ConvPatchAutoencoder(8, 32)
    z, x_hat = ae(torch.zeros(3, 8, 7, 7))
    assert z.shape == (3, 32 * 7 * 7) and x_hat.shape == (3, 8, 7, 7)
    convs = [m for m in ae.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert [m.kernel_size for m in convs] == [(1, 1), (3, 3), (3, 3), (3, 3), (1, 1)]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in ae.modules()) == 4


def test_subspace_assignment_against_a_loop():
    rng = np.random.RandomState(1)
    z = torch.tensor(rng.randn(5, 6))
    D = torch.tensor(rng.randn(6, 3 * 2))
    s = subspace_basis_assignment(z, D, 2, eta=5.0)
    expected = np.zeros((5, 3))
    for i in range(5):
        for j in range(3):
            proj = sum(float(z[i] @ D[:, j * 2 + c]) ** 2 for c in range(2))
            expected[i, j] = (proj + 5.0 * 2) / (6.0 * 2)
        expected[i] /= expected[i].sum()
    np.testing.assert_allclose(s.numpy(), expected, rtol=1e-12)
    head = SubspaceBasisHead(3, 6, n_basis=2)
    head.reset_basis(D.float())
    np.testing.assert_allclose(head(z.float()).detach().numpy(), expected, rtol=1e-5)


# ---------------------------------------------------------------- losses
def test_basis_dissimilarity_hand_example():
    # two subspaces of 2 vectors each in R^2
    D = torch.tensor([[2.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    # G = D^T D = [[4,0,2,0],[0,1,1,0],[2,1,2,0],[0,0,0,0]]
    # unit term: diag(G) - 1 = (3, 0, 1, -1) -> 9 + 0 + 1 + 1 = 11
    # cross-block entries: G[0,2]=2, G[1,2]=1 (and symmetric) -> 2 * (4 + 1) = 10
    assert float(basis_dissimilarity(D, 2, squared=True)) == pytest.approx(21.0)
    assert float(basis_dissimilarity(D, 2)) == pytest.approx(np.sqrt(11) + np.sqrt(10))
    # orthonormal bases cost nothing; a single subspace has no cross term
    assert float(basis_dissimilarity(torch.eye(6)[:, :4], 2)) == 0.0
    assert float(basis_dissimilarity(D, 4, squared=True)) == pytest.approx(11.0)


def test_minicluster_mean_target_and_loss_hand_example():
    s = torch.tensor([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    m = minicluster_assignment(s, labels)
    np.testing.assert_allclose(m.numpy(), [[0.8, 0.2], [0.2, 0.8]])
    # f = (1, 1): m~_0 ∝ (0.64, 0.04) -> (16/17, 1/17)
    target = refined_minicluster_target(m)
    np.testing.assert_allclose(target[0].numpy(), [16 / 17, 1 / 17])
    kl0 = 16 / 17 * np.log((16 / 17) / 0.8) + 1 / 17 * np.log((1 / 17) / 0.2)
    assert float(nonlocal_structure_loss(s, labels)) == pytest.approx(kl0)  # both rows give kl0
    # with column sums given, the same as DEC's target on all rows
    m2 = _rand_s(np.random.RandomState(0), 7, 3)
    np.testing.assert_allclose(refined_minicluster_target(m2[:3], m2.sum(0)).numpy(),
                               dec_target_distribution(m2)[:3].numpy())


def test_local_loss_is_kl_to_the_smoothed_map():
    rng = np.random.RandomState(2)
    s = _rand_s(rng, 4, 3)
    f = _rand_s(rng, 4, 3)
    fn, sn = f.numpy(), s.numpy()
    expected = np.mean([(fn[i] * np.log(fn[i] / sn[i])).sum() for i in range(4)])
    assert float(local_structure_loss(s, f)) == pytest.approx(expected)


@pytest.mark.parametrize("window", [1, 3, 5])
def test_masked_box_filter_against_a_direct_loop(window):
    rng = np.random.RandomState(3)
    H, W, k = 6, 7, 3
    S = rng.rand(H, W, k)
    T = rng.rand(H, W) > 0.3
    F = masked_box_filter(torch.tensor(S), torch.tensor(T), window).numpy()
    r = window // 2
    for y in range(H):
        for x in range(W):
            num, den = np.zeros(k), 0.0
            for u in range(max(0, y - r), min(H, y + r + 1)):
                for v in range(max(0, x - r), min(W, x + r + 1)):
                    num += T[u, v] * S[u, v]
                    den += T[u, v]
            np.testing.assert_allclose(F[y, x], num / den if den else 0.0, rtol=1e-12)


# ---------------------------------------------------------------- mini-batch memory
def _memory_case(seed=4):
    rng = np.random.RandomState(seed)
    H, W, k = 5, 6, 3
    mask = rng.rand(H, W) > 0.25
    pixels = np.flatnonzero(mask)
    n = pixels.size
    mc = rng.randint(0, 6, size=n)
    mc[:6] = np.arange(6)
    S = _rand_s(rng, n, k)
    return H, W, k, mask, pixels, n, mc, S


def test_memory_full_batch_equals_the_full_batch_losses():
    H, W, k, mask, pixels, n, mc, S = _memory_case()
    mem = AssignmentMemory(S, pixels, (H, W), 3, mc)
    s = S.clone().requires_grad_(True)
    idx = torch.arange(n)
    nl = mem.nonlocal_loss(s, idx)
    assert float(nl.detach()) == pytest.approx(float(nonlocal_structure_loss(S, torch.tensor(mc))))
    mem.write(s, idx)
    full = np.zeros((H * W, k))
    full[pixels] = S.numpy()
    F = masked_box_filter(torch.tensor(full.reshape(H, W, k)), torch.tensor(mask), 3).reshape(-1, k)
    np.testing.assert_allclose(mem.smoothed(idx).numpy(), F[pixels].numpy(), rtol=1e-12)


def test_memory_minibatch_gradient_is_the_scaled_full_batch_gradient():
    H, W, k, mask, pixels, n, mc, S = _memory_case(5)
    S_new = _rand_s(np.random.RandomState(9), n, k)
    idx = torch.tensor(np.random.RandomState(1).choice(n, 7, replace=False))
    # memory holds S; the batch brings fresh rows S_new[idx]
    mem = AssignmentMemory(S, pixels, (H, W), 3, mc)
    s_b = S_new[idx].clone().requires_grad_(True)
    mem.nonlocal_loss(s_b, idx).backward()
    # full batch at the memory state with the batch rows replaced
    S_full = S.clone()
    S_full[idx] = S_new[idx]
    S_full.requires_grad_(True)
    labels = torch.tensor(mc)
    m = minicluster_assignment(S_full, labels)
    target = refined_minicluster_target(m.detach())
    kl_divergence(target, m).backward()
    np.testing.assert_allclose(s_b.grad.numpy(), (n / 7) * S_full.grad[idx].numpy(), rtol=1e-10)
    # the running sums now equal those of S_full
    np.testing.assert_allclose(mem.mc_sum.numpy(), m.detach().numpy() * np.bincount(mc)[:, None], rtol=1e-12)
    np.testing.assert_allclose(mem.col_sum.numpy(), m.detach().sum(0).numpy(), rtol=1e-12)


def test_memory_smoothing_reads_the_neighbours_latest_assignments():
    H, W, k, mask, pixels, n, mc, S = _memory_case(6)
    mem = AssignmentMemory(S, pixels, (H, W), 5, None)
    assert not mem.nonlocal_
    S_new = _rand_s(np.random.RandomState(7), n, k)
    idx = torch.arange(0, n, 2)
    mem.write(S_new[idx], idx)
    current = S.clone()
    current[idx] = S_new[idx]
    full = np.zeros((H * W, k))
    full[pixels] = current.numpy()
    F = masked_box_filter(torch.tensor(full.reshape(H, W, k)), torch.tensor(mask), 5).reshape(-1, k)
    np.testing.assert_allclose(mem.smoothed(idx).numpy(), F[pixels][idx.numpy()].numpy(), rtol=1e-12)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_joint_loss_weighs_the_structure_terms_as_the_authors_code():
    """Full-batch SCDSCNet loss = MSE + beta phi + beta1 KL(M~||M) + beta2 KL(F||S), the KL
    terms with torch's elementwise ``"mean"`` reduction (sum over rows and clusters divided
    by rows * k), as in the authors' ``F.kl_div(m.log(), m~)`` / ``F.kl_div(s.log(), F)``;
    the paper's beta1, beta2 are in those units."""
    from skdsc._training_scdsc import SCDSCNet
    from skdsc.nn import AutoencoderWithHead

    H, W, k, mask, pixels, n, mc, S = _memory_case(8)
    torch.manual_seed(0)
    module = AutoencoderWithHead(ConvPatchAutoencoder(2, 2), SubspaceBasisHead(k, 2 * 9, 2)).double()
    net = SCDSCNet(module=module, criterion=torch.nn.MSELoss, beta=1e-3, beta1=3.0, beta2=7.0, n_basis=2,
                   device="cpu").initialize()
    net.memory_ = AssignmentMemory(S, pixels, (H, W), 3, mc)
    net.history.new_epoch()
    net.history.new_batch()
    x = torch.randn(n, 2, 3, 3, dtype=torch.float64)
    x_hat = torch.randn(n, 2, 3, 3, dtype=torch.float64)
    loss = net.get_loss((None, x_hat, S), torch.arange(n), X=x, training=True)
    m = minicluster_assignment(S, torch.tensor(mc))
    full = np.zeros((H * W, k))
    full[pixels] = S.numpy()
    F = masked_box_filter(torch.tensor(full.reshape(H, W, k)), torch.tensor(mask), 3).reshape(-1, k)[pixels]
    fn = torch.nn.functional
    expected = (fn.mse_loss(x_hat, x) + 1e-3 * basis_dissimilarity(module.head.basis.detach(), 2)
                + 3.0 * fn.kl_div(m.log(), refined_minicluster_target(m), reduction="mean")
                + 7.0 * fn.kl_div(S.log(), F, reduction="mean"))
    assert float(loss) == pytest.approx(float(expected), rel=1e-9)


def test_epoch_selection_restores_the_first_most_confident_state():
    """MemoryInitializer(keep_confident=True): the share of rows whose largest entry exceeds
    0.9 is taken after every epoch; at train end the weights of the first state with the
    largest share are restored (as the authors' code reports that epoch); with no confident
    row at any time the last state stays."""
    from types import SimpleNamespace

    from skorch.history import History

    from skdsc._training_scdsc import MemoryInitializer

    def table(share, n=10):
        t = torch.full((n, 2), 0.5, dtype=torch.float64)
        t[: int(round(share * n)), 0] = 0.95
        return t

    for shares, kept in [([0.0, 0.2, 0.5, 0.5, 0.1], 2), ([0.0, 0.0, 0.0], 2), ([0.3, 0.1], 0)]:
        net = SimpleNamespace(module_=torch.nn.Linear(1, 1), history=History(), memory_=SimpleNamespace())
        cb = MemoryInitializer(np.arange(10), keep_confident=True)
        cb.reset_records()
        for epoch, share in enumerate(shares):
            net.module_.weight.data.fill_(float(epoch))
            net.memory_.table = table(share)
            if epoch == 0:
                cb._consider(net, 0)
            else:
                net.history.new_epoch()
                cb.on_epoch_end(net)
        cb.on_train_end(net)
        assert cb.selected_epoch_ == kept
        assert float(net.module_.weight) == float(kept)
        assert net.history[:, "confident_share"] == pytest.approx(shares[1:])


def test_cluster_sizes_are_recorded_at_start_and_after_every_epoch():
    """MemoryInitializer counts the pixels whose latest assignment is largest in each
    cluster: once for the initial state (``sizes_[0]``) and after every epoch (also in the
    history as ``cluster_sizes``)."""
    from types import SimpleNamespace

    from skorch.history import History

    from skdsc._training_scdsc import MemoryInitializer

    start = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    after = torch.tensor([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]])
    net = SimpleNamespace(module_=torch.nn.Linear(1, 1), history=History(), memory_=SimpleNamespace(table=start))
    cb = MemoryInitializer(np.arange(4))
    cb.reset_records()
    cb._consider(net, 0)
    net.memory_.table = after
    net.history.new_epoch()
    cb.on_epoch_end(net)
    assert cb.sizes_ == [[2, 1, 1], [0, 1, 3]]
    assert net.history[:, "cluster_sizes"] == [[0, 1, 3]]
