"""Sinkhorn-Knopp targets and the clustering-autoencoder losses."""

import numpy as np
import pytest
import torch

from skdsc.losses import reconstruction_rmse, sinkhorn_knopp, soft_cross_entropy


def _seed_sinkhorn(scores, epsilon, n_iter):
    """The seed's algorithm, written out on the K x B matrix in float64."""
    Q = torch.exp(scores.double() / epsilon).t()
    K, B = Q.shape
    Q = Q / Q.sum()
    for _ in range(n_iter):
        Q = Q / Q.sum(dim=1, keepdim=True) / K
        Q = Q / Q.sum(dim=0, keepdim=True) / B
    return (Q * B).t()


@pytest.mark.parametrize("shape", [(7, 3), (64, 5), (10, 10)])
def test_matches_seed_algorithm(shape):
    scores = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    for n_iter in (1, 3, 10):
        np.testing.assert_allclose(
            sinkhorn_knopp(scores, 0.3, n_iter).double(), _seed_sinkhorn(scores, 0.3, n_iter),
            rtol=1e-5, atol=1e-7,
        )


def test_marginals_at_convergence():
    g = torch.Generator().manual_seed(1)
    B, K = 50, 4
    scores = torch.randn(B, K, generator=g) * 0.5
    q = sinkhorn_knopp(scores, epsilon=0.5, n_iter=2000).double()
    # each sample's row is a distribution, each cluster gets B/K of the mass
    np.testing.assert_allclose(q.sum(1), np.ones(B), atol=1e-6)
    np.testing.assert_allclose(q.sum(0), np.full(K, B / K), atol=1e-6 * B)
    # with 3 iterations the sample marginal is still exact
    np.testing.assert_allclose(sinkhorn_knopp(scores, 0.5, 3).sum(1), np.ones(B), atol=1e-6)


def test_weighted_cluster_marginal():
    scores = torch.randn(40, 3, generator=torch.Generator().manual_seed(2))
    w = torch.tensor([0.5, 0.3, 0.2])
    q = sinkhorn_knopp(scores, 1.0, n_iter=2000, cluster_weights=w * 7)  # weights are normalised
    np.testing.assert_allclose(q.sum(0) / 40, w, atol=1e-6)


def test_optimality_against_brute_force_transport():
    """The fixed point maximises <Q, S> + eps H(Q) on the polytope: any feasible
    perturbation (a cycle +d/-d keeping both marginals) lowers the objective."""
    scores = torch.tensor([[1.0, 0.0], [0.8, 0.3], [0.1, 0.9], [0.0, 1.0]])
    eps = 0.2
    q = sinkhorn_knopp(scores, eps, n_iter=5000).double() / 4  # mass 1 in total

    def objective(P):
        return float((P * scores.double()).sum() - eps * (P * torch.log(P)).sum())

    best = objective(q)
    step = 0.1 * float(q[[1, 1, 2, 2], [0, 1, 0, 1]].min())
    for d in (step, -step):
        P = q.clone()
        P[1, 0] += d
        P[1, 1] -= d
        P[2, 0] -= d
        P[2, 1] += d
        assert objective(P) < best


def test_small_epsilon_does_not_overflow_and_no_gradient():
    scores = torch.tensor([[1.0, -1.0], [0.9, 0.95], [-1.0, 1.0]], requires_grad=True)
    # exp(1 / 1e-3) overflows in float32 and float64; the log domain does not
    q = sinkhorn_knopp(scores, epsilon=1e-3, n_iter=3)
    assert torch.isfinite(q).all()
    assert not q.requires_grad
    assert q.argmax(1).tolist() == [0, 1, 1]


def test_empty_batch():
    assert sinkhorn_knopp(torch.zeros(0, 3)).shape == (0, 3)


def test_soft_cross_entropy_matches_torch():
    g = torch.Generator().manual_seed(3)
    target = torch.softmax(torch.randn(6, 4, generator=g), 1)
    logits = torch.randn(6, 4, generator=g)
    ref = torch.nn.functional.cross_entropy(logits, target)
    assert soft_cross_entropy(target, logits).item() == pytest.approx(ref.item(), rel=1e-6)
    # by hand for one row: -sum t log softmax
    t, l = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, np.log(3.0)]])
    assert soft_cross_entropy(t, l).item() == pytest.approx(np.log(4.0), rel=1e-6)


def test_rmse():
    x = torch.zeros(2, 3)
    x_hat = torch.tensor([[3.0, 0, 0], [0, 0, 4.0]])
    assert reconstruction_rmse(x_hat, x).item() == pytest.approx(np.sqrt(25 / 6), rel=1e-6)
