"""Supervised metrics against brute force, hand computations and scikit-learn."""

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score

from skdsc.metrics import (
    ari,
    cluster_class_mapping,
    cohen_kappa,
    matched_labels,
    nmi,
    overall_accuracy,
)


def brute_force_oa(y_true, y_pred):
    """Best one-to-one cluster -> class map by trying every permutation."""
    classes = sorted(set(y_true))
    clusters = sorted(set(y_pred))
    size = max(len(classes), len(clusters))
    best = 0
    for perm in itertools.permutations(range(size)):
        mapping = {c: classes[perm[j]] for j, c in enumerate(clusters) if perm[j] < len(classes)}
        hits = 0
        for t, p in zip(y_true, y_pred):
            if p in mapping and mapping[p] == t:
                hits += 1
        best = max(best, hits)
    return best / len(y_true)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n_classes, n_clusters", [(3, 3), (3, 2), (2, 4), (4, 3)])
def test_oa_matches_brute_force(seed, n_classes, n_clusters):
    rng = np.random.RandomState(seed)
    y_true = rng.randint(n_classes, size=11).tolist()
    y_pred = rng.randint(n_clusters, size=11).tolist()
    assert overall_accuracy(y_true, y_pred) == pytest.approx(brute_force_oa(y_true, y_pred))


def test_more_clusters_than_classes_hand_example():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [4, 4, 5, 6, 6, 6]
    # cluster 4 -> class 0, cluster 6 -> class 1, cluster 5 unmatched (error)
    assert overall_accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    mapped = matched_labels(y_true, y_pred)
    assert mapped.tolist() == [0, 0, 2, 1, 1, 1]
    assert {int(k): int(v) for k, v in cluster_class_mapping(y_true, y_pred).items()} == {
        4: 0,
        6: 1,
    }
    # kappa by hand: p_o = 5/6; marginals true (3, 3, 0), matched (2, 3, 1)
    p_o = 5 / 6
    p_e = (3 * 2 + 3 * 3 + 0 * 1) / 36
    assert cohen_kappa(y_true, y_pred) == pytest.approx((p_o - p_e) / (1 - p_e))


def test_fewer_clusters_than_classes_hand_example():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [1, 1, 1, 1, 0, 0]
    assert overall_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert overall_accuracy(y_true, y_pred, method="many_to_one") == pytest.approx(4 / 6)


def test_many_to_one_is_purity():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 1, 1, 2, 2]
    # every cluster takes its majority class: all 6 correct
    assert overall_accuracy(y_true, y_pred, method="many_to_one") == 1.0
    assert overall_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert matched_labels(y_true, y_pred, method="many_to_one").tolist() == y_true


def test_kappa_equals_sklearn_on_matched_labels():
    y_true = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([9, 9, 5, 5, 5, 5, 7, 7, 7, 9])
    # hand matching: 9 -> 0, 5 -> 1, 7 -> 2 (8 agreements, the unique optimum)
    hand = np.array([{9: 0, 5: 1, 7: 2}[p] for p in y_pred])
    assert overall_accuracy(y_true, y_pred) == pytest.approx(0.8)
    assert cohen_kappa(y_true, y_pred) == pytest.approx(cohen_kappa_score(y_true, hand))
    assert cohen_kappa(y_true, y_pred, weights="linear") == pytest.approx(
        cohen_kappa_score(y_true, hand, weights="linear")
    )


def test_nmi_and_ari_against_independent_computation():
    y_true = [0, 0, 0, 1, 1, 1, 2, 2]
    y_pred = [1, 1, 0, 0, 0, 2, 2, 2]
    n = len(y_true)
    table = {}
    for t, p in zip(y_true, y_pred):
        table[(t, p)] = table.get((t, p), 0) + 1
    a = {t: y_true.count(t) for t in set(y_true)}
    b = {p: y_pred.count(p) for p in set(y_pred)}
    mi = sum(c / n * math.log(n * c / (a[t] * b[p])) for (t, p), c in table.items())
    h_a = -sum(v / n * math.log(v / n) for v in a.values())
    h_b = -sum(v / n * math.log(v / n) for v in b.values())
    assert nmi(y_true, y_pred) == pytest.approx(mi / ((h_a + h_b) / 2))
    assert nmi(y_true, y_pred, average_method="max") == pytest.approx(mi / max(h_a, h_b))
    assert ari(y_true, y_pred) == pytest.approx(adjusted_rand_score(y_true, y_pred))


@pytest.mark.parametrize("metric", [overall_accuracy, cohen_kappa, nmi, ari])
def test_invariant_to_renaming_clusters(metric):
    rng = np.random.RandomState(0)
    y_true = np.repeat([0, 1, 2, 3], [30, 20, 25, 15])
    # a noisy clustering with a unique optimal matching
    y_pred = y_true.copy()
    flip = rng.rand(y_true.shape[0]) < 0.2
    y_pred[flip] = rng.randint(5, size=flip.sum())
    reference = metric(y_true, y_pred)
    names = np.array(["e", "a", "d", "b", "c"])
    for perm in itertools.islice(itertools.permutations(range(5)), 0, 120, 7):
        renamed = names[np.asarray(perm)[y_pred]]
        assert metric(y_true, renamed) == pytest.approx(reference)


def test_string_classes_and_unmatched_cluster():
    y_true = ["cat", "cat", "dog", "dog"]
    y_pred = [0, 0, 1, 2]
    mapped = matched_labels(y_true, y_pred)
    assert mapped[:2].tolist() == ["cat", "cat"]
    assert "dog" in mapped[2:].tolist()
    assert any(str(v).startswith("unmatched") for v in mapped)
    assert overall_accuracy(y_true, y_pred) == pytest.approx(0.75)
    assert -1.0 <= cohen_kappa(y_true, y_pred) <= 1.0


def test_perfect_and_worst():
    assert overall_accuracy([0, 1, 2], [2, 0, 1]) == 1.0
    assert cohen_kappa([0, 1, 2], [2, 0, 1]) == pytest.approx(1.0)
    assert overall_accuracy([0, 1, 2, 3], [0, 0, 0, 0]) == 0.25


@pytest.mark.parametrize("metric", [overall_accuracy, cohen_kappa, nmi, ari, matched_labels])
def test_bad_input(metric):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        metric([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match="NaN"):
        metric([0.0, np.nan], [0, 1])


def test_bad_method():
    with pytest.raises(ValueError, match="method"):
        overall_accuracy([0, 1], [0, 1], method="greedy")
