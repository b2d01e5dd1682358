"""A-DATSC building blocks: shapes, hand computations, causality."""

import math

import numpy as np
import pytest
import torch

from skdsc._training_adatsc import SlidingWindowDataset, window_starts
from skdsc.losses import (
    adversarial_energy_loss,
    assignment_redundancy,
    basis_orthogonality,
    cross_subspace_penalty,
    marginal_balance_kl,
    self_expression_loss,
    subspace_discriminator_loss,
    subspace_hinge_loss,
)
from skdsc.nn import (
    ADATSCGenerator,
    BiTemporalGraphAttention,
    ConvLSTM2d,
    ConvLSTMCell,
    PatchEmbedding,
    ResidualTemporalBlock,
    SpatiotemporalDecoder,
    SpatiotemporalEncoder,
    SubspaceDiscriminator,
    SubspaceSampler,
    TemporalSelfExpressive,
    projection_residual_energy,
    soft_threshold,
)
from skdsc.nn.self_expressive import temporal_affinity_weights


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_convlstm_cell_by_hand():
    cell = ConvLSTMCell(1, 1, kernel_size=1)
    with torch.no_grad():
        cell.conv.weight.copy_(torch.tensor([0.5, -1.0, 2.0, 0.3, 0.1, 0.2, -0.4, 1.5]).reshape(4, 2, 1, 1))
        cell.conv.bias.copy_(torch.tensor([0.1, 0.2, -0.3, 0.0]))
    x, h, c = 0.7, -0.2, 0.4
    h_new, c_new = cell(torch.full((1, 1, 1, 1), x), (torch.full((1, 1, 1, 1), h), torch.full((1, 1, 1, 1), c)))
    w = np.array([0.5, -1.0, 2.0, 0.3, 0.1, 0.2, -0.4, 1.5]).reshape(4, 2)
    pre = w @ np.array([x, h]) + np.array([0.1, 0.2, -0.3, 0.0])
    i, f, o, g = _sigmoid(pre[0]), _sigmoid(pre[1]), _sigmoid(pre[2]), np.tanh(pre[3])
    c_exp = f * c + i * g
    assert c_new.item() == pytest.approx(c_exp, rel=1e-5)
    assert h_new.item() == pytest.approx(o * np.tanh(c_exp), rel=1e-5)


def test_convlstm_is_causal_and_keeps_shape():
    layer = ConvLSTM2d(2, 5)
    x = torch.randn(2, 6, 2, 8, 8)
    out = layer(x)
    assert out.shape == (2, 6, 5, 8, 8)
    x2 = x.clone()
    x2[:, 4:] += 1.0  # change the future
    out2 = layer(x2)
    torch.testing.assert_close(out[:, :4], out2[:, :4])
    assert not torch.allclose(out[:, 4:], out2[:, 4:])


def test_residual_block_projection_only_when_channels_change():
    assert ResidualTemporalBlock(4, 4).project is None
    block = ResidualTemporalBlock(3, 6)
    assert isinstance(block.project, torch.nn.Conv3d) and block.project.kernel_size == (1, 1, 1)
    assert block(torch.randn(2, 3, 3, 4, 4)).shape == (2, 3, 6, 4, 4)


@pytest.mark.parametrize("recurrent", [True, False])
def test_encoder_decoder_shapes(recurrent):
    enc = SpatiotemporalEncoder(3, (4, 8, 8, 16), recurrent=recurrent)
    stages = enc(torch.randn(2, 5, 3, 16, 24))
    assert [tuple(s.shape) for s in stages] == [(2, 5, 4, 16, 24), (2, 5, 8, 8, 12), (2, 5, 8, 4, 6),
                                                (2, 5, 16, 2, 3)]
    dec = SpatiotemporalDecoder(3, (4, 8, 8, 16), recurrent=recurrent)
    assert dec(stages[-1], stages[:-1]).shape == (2, 5, 3, 16, 24)


def test_temporal_skips_are_window_means():
    dec = SpatiotemporalDecoder(1, (2, 2), recurrent=False)
    top = torch.zeros(1, 3, 2, 2, 2)
    skip = torch.randn(1, 3, 2, 4, 4)
    shifted = skip - skip.mean(dim=1, keepdim=True)  # same window mean, different steps
    out1 = dec(top, [skip])
    out2 = dec(top, [skip - shifted])
    torch.testing.assert_close(out1, out2)


def test_patch_embedding_pads_and_projects_by_hand():
    emb = PatchEmbedding(1, 1, patch_size=2)
    with torch.no_grad():
        emb.proj.weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        emb.proj.bias.zero_()
    x = torch.arange(9.0).reshape(1, 1, 1, 3, 3)  # 3x3 -> padded 4x4 -> 4 nodes
    nodes = emb(x)
    assert nodes.shape == (1, 1, 4, 1)
    # first patch [[0, 1], [3, 4]]; the last one holds only element 8 (rest padding)
    assert nodes[0, 0, 0, 0].item() == pytest.approx(1 * 0 + 2 * 1 + 3 * 3 + 4 * 4)
    assert nodes[0, 0, 3, 0].item() == pytest.approx(1 * 8)


def test_bitgat_attends_to_neighbouring_frames_only():
    att = BiTemporalGraphAttention(8, n_heads=2)
    x = torch.randn(2, 6, 3, 8)
    out, weights = att(x, return_attention=True)
    assert out.shape == x.shape
    for a in weights.values():
        assert a.shape == (2, 2, 5, 3, 3)
        torch.testing.assert_close(a.sum(-1), torch.ones(2, 2, 5, 3))
    x2 = x.clone()
    x2[:, 5] += 1.0  # frame 5 reaches frames 4, 5 only
    out2 = att(x2)
    torch.testing.assert_close(out[:, :4], out2[:, :4])
    assert not torch.allclose(out[:, 4], out2[:, 4])


def test_bitgat_single_frame_has_no_messages():
    att = BiTemporalGraphAttention(4, n_heads=1)
    x = torch.randn(1, 1, 2, 4)
    expected = att.norm(x + att.out.bias)
    torch.testing.assert_close(att(x), expected)


def test_bitgat_message_by_hand():
    att = BiTemporalGraphAttention(2, n_heads=1)
    with torch.no_grad():
        for lin in [*att.qkv["fwd"], *att.qkv["bwd"]]:
            lin.weight.copy_(torch.eye(2))
            lin.bias.zero_()
    x = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])  # T=2, N=1
    _, weights = att(x, return_attention=True)
    # one node per frame: softmax over a single neighbour is 1
    assert weights["forward"].item() == pytest.approx(1.0)
    m_fwd, _ = att._direction(x, "fwd")
    torch.testing.assert_close(m_fwd[0, 0, 0, 0], torch.tensor([0.0, 2.0]))  # frame 0 <- frame 1
    torch.testing.assert_close(m_fwd[0, 0, 1, 0], torch.zeros(2))  # no frame 2


def test_soft_threshold_by_hand():
    out = soft_threshold(torch.tensor([-0.3, -0.05, 0.0, 0.04, 0.5]), 0.1)
    torch.testing.assert_close(out, torch.tensor([-0.2, 0.0, 0.0, 0.0, 0.4]))


def test_self_expressive_layer():
    se = TemporalSelfExpressive(4, shrink=0.0, sigma_t=2.0)
    z = torch.randn(2, 5, 4)
    c, z_se = se(z)
    assert c.shape == (2, 5, 5) and z_se.shape == (2, 5, 4)
    assert torch.all(torch.diagonal(c, dim1=1, dim2=2) == 0)
    torch.testing.assert_close(z_se, c @ z)
    raw = (se.query(z) @ se.key(z).transpose(1, 2)) / 2.0
    w = torch.exp(-torch.abs(torch.arange(5.0)[:, None] - torch.arange(5.0)[None]) / 2.0)
    torch.testing.assert_close(c, raw * (1 - torch.eye(5)) * w)


def test_temporal_affinity_weights_by_hand():
    q = torch.tensor([[[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]])
    w = temporal_affinity_weights(3, q, sigma_t=1.0)
    assert w[0, 0, 1].item() == pytest.approx(0.5 * math.exp(-1))
    assert w[0, 0, 2].item() == pytest.approx(0.0)
    assert w[0, 1, 1].item() == pytest.approx(0.5)
    assert temporal_affinity_weights(3) is None


def test_residual_energy_by_hand():
    bases = torch.zeros(2, 3, 1)
    bases[0, 0, 0] = 1.0  # e1
    bases[1, 2, 0] = 1.0  # e3
    z = torch.tensor([[1.0, 2.0, 2.0]])
    energy = projection_residual_energy(z, bases)
    torch.testing.assert_close(energy, torch.tensor([[8.0, 5.0]]))
    disc = SubspaceDiscriminator(2, 3, 1)
    disc.reset_bases(bases)
    torch.testing.assert_close(disc(z, torch.tensor([1])), torch.tensor([5.0]))


def test_discriminator_terms_by_hand():
    e_real = torch.tensor([1.0, 3.0])
    e_fake = torch.tensor([2.5, 2.0])
    # max(0, 1 - 2.5 + 1) = 0, max(0, 3 - 2 + 1) = 2
    assert subspace_hinge_loss(e_real, e_fake, 1.0).item() == pytest.approx(1.0)
    bases = torch.tensor([[[1.0], [0.0]], [[0.6], [0.8]]])  # unit vectors, cosine 0.6
    assert basis_orthogonality(bases).item() == pytest.approx(0.0, abs=1e-6)
    assert basis_orthogonality(2 * bases).item() == pytest.approx(2 * 9.0)
    assert cross_subspace_penalty(bases).item() == pytest.approx(2 * 0.36)
    total = subspace_discriminator_loss(e_real, e_fake, bases, margin=1.0, beta_orth=1.0, beta_cross=0.5)
    assert total.item() == pytest.approx(1.0 + 0.0 + 0.5 * 0.72)
    assert adversarial_energy_loss(e_fake).item() == pytest.approx(2.25)


def test_balance_terms_by_hand():
    q = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    expected = 0.75 * math.log(0.75 * 2) + 0.25 * math.log(0.25 * 2)
    assert marginal_balance_kl(q).item() == pytest.approx(expected, rel=1e-6)
    assert marginal_balance_kl(torch.full((4, 3), 1 / 3)).item() == pytest.approx(0.0, abs=1e-7)
    disjoint = torch.eye(3).repeat(4, 1)
    assert assignment_redundancy(disjoint).item() == pytest.approx(0.0, abs=1e-7)
    dup = torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    # columns 0 and 1 identical: correlation 1 for both ordered pairs, others negative
    assert assignment_redundancy(dup).item() == pytest.approx(2 / 6, rel=1e-5)


def test_self_expression_loss_by_hand():
    z = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    c = torch.tensor([[[0.0, 1.0], [0.5, 0.0]]])
    # residual rows: [0, 0] and [0.5, 0] -> 0.25 / 4 entries; ||C||_1 / T = 1.5 / 2
    assert self_expression_loss(z, c, 0.1).item() == pytest.approx(0.25 / 4 + 0.1 * 0.75)


def test_sampler_real_are_top_responsibilities_and_fakes_convex():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    q = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    real, fake, index = SubspaceSampler(2)(z, q)
    assert real.shape == fake.shape == (2, 2, 2)
    assert sorted(index[:, 0].tolist()) == [0, 1] and sorted(index[:, 1].tolist()) == [2, 3]
    # cluster 0's fakes lie on the segment between (0, 0) and (1, 0)
    assert torch.all(fake[0, :, 1] == 0) and torch.all((fake[0, :, 0] >= 0) & (fake[0, :, 0] <= 1))
    z.requires_grad_(True)
    SubspaceSampler(2)(z, q)[1].sum().backward()
    assert z.grad.abs().sum() > 0


@pytest.mark.parametrize("encoder", ["convlstm", "cnn-lstm"])
@pytest.mark.parametrize("bottleneck", ["bitgat", "se-only", "dense-gat"])
def test_generator_shapes_and_gradients(encoder, bottleneck):
    gen = ADATSCGenerator(2, (8, 8), 3, filters=(4, 8), patch_size=2, latent_dim=6, n_heads=2,
                          encoder=encoder, bottleneck=bottleneck)
    x = torch.randn(2, 4, 2, 8, 8)
    z, q, x_hat, coef, z_se, z_bar = gen(x)
    assert z.shape == (2, 4, 6) and q.shape == (2, 4, 3) and x_hat.shape == x.shape
    assert coef.shape == (2, 4, 4) and z_se.shape == (2, 4, 6) and z_bar.shape == (2, 6)
    torch.testing.assert_close(q.sum(-1), torch.ones(2, 4))
    (q[..., 0].sum() + x_hat.sum()).backward()
    assert gen.encoder.stem.__class__.__name__ == ("ConvLSTM2d" if encoder == "convlstm" else "FrameConv2d")
    stem = gen.encoder.stem.cell.conv if encoder == "convlstm" else gen.encoder.stem.conv
    assert stem.weight.grad is not None and stem.weight.grad.abs().sum() > 0
    assert (gen.attention is None) == (bottleneck == "se-only")


def test_generator_rejects_unpadded_grid():
    with pytest.raises(ValueError, match="multiples of 4"):
        ADATSCGenerator(1, (6, 8), 2, filters=(2, 2, 2), n_heads=1)


def test_window_starts_cover_every_step():
    for n, length, stride in [(10, 4, 3), (11, 4, 3), (5, 5, 2), (20, 1, 7)]:
        starts = window_starts(n, length, stride)
        covered = np.zeros(n, bool)
        for s in starts:
            covered[s:s + length] = True
        assert covered.all() and starts[-1] == n - length
    with pytest.raises(ValueError):
        window_starts(3, 4, 1)


def test_sliding_window_dataset_gives_views():
    frames = torch.arange(10.0).reshape(10, 1, 1, 1)
    ds = SlidingWindowDataset(frames, 4, 3)
    assert len(ds) == 3
    window, start = ds[1]
    assert start == 3 and window.flatten().tolist() == [3.0, 4.0, 5.0, 6.0]
    assert window.untyped_storage().data_ptr() == frames.untyped_storage().data_ptr()


def test_frame_norm_kinds():
    from skdsc.nn.convlstm import FrameLayerNorm

    x = torch.randn(2, 3, 4, 5, 5) + 3.0
    ln = FrameLayerNorm(4, "layer")(x)
    torch.testing.assert_close(ln.mean(dim=(2, 3, 4)), torch.zeros(2, 3), atol=1e-5, rtol=0)
    bn = FrameLayerNorm(4, "batch")
    assert isinstance(bn.norm, torch.nn.BatchNorm2d)
    out = bn(x)
    torch.testing.assert_close(out.mean(dim=(0, 1, 3, 4)), torch.zeros(4), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="norm must be"):
        FrameLayerNorm(4, "group")
    gen = ADATSCGenerator(1, (4, 4), 2, filters=(2, 2), n_heads=1, latent_dim=2, norm="batch")
    assert gen(torch.randn(2, 3, 1, 4, 4))[2].shape == (2, 3, 1, 4, 4)


def test_position_norm_removes_a_per_position_offset():
    from skdsc.nn.convlstm import FrameLayerNorm

    # a different offset and scale at every window position, as a zero-started recurrent state gives
    offset = torch.arange(3.0)[None, :, None, None, None] * 5.0
    scale = 1.0 + torch.arange(3.0)[None, :, None, None, None]
    x = torch.randn(8, 3, 4, 5, 5) * scale + offset
    pn = FrameLayerNorm(4, "position", length=3)
    assert isinstance(pn.norm, torch.nn.BatchNorm2d) and pn.norm.num_features == 12
    out = pn(x)
    # every (position, channel) is standardised over the batch and the grid
    torch.testing.assert_close(out.mean(dim=(0, 3, 4)), torch.zeros(3, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(dim=(0, 3, 4), unbiased=False), torch.ones(3, 4), atol=1e-3, rtol=0)
    # shared statistics ("batch") keep the positions apart
    shared = FrameLayerNorm(4, "batch")(x).mean(dim=(0, 2, 3, 4))
    assert float(shared[2] - shared[0]) > 1.0
    with pytest.raises(ValueError, match="windows of 3 frames"):
        pn(torch.randn(2, 4, 4, 5, 5))
    with pytest.raises(ValueError, match="needs the window length"):
        FrameLayerNorm(4, "position")


def test_generator_with_position_norm():
    gen = ADATSCGenerator(1, (4, 4), 2, filters=(2, 2), n_heads=1, latent_dim=2, norm="position",
                          sequence_length=3)
    assert gen.encoder.stem_norm is not None
    z, _, x_hat = gen(torch.randn(5, 3, 1, 4, 4))[:3]
    assert x_hat.shape == (5, 3, 1, 4, 4)
    # the embedding is centred per window position across the batch
    torch.testing.assert_close(z.mean(dim=0), torch.zeros(3, 2), atol=1e-5, rtol=0)
    assert ADATSCGenerator(1, (4, 4), 2, filters=(2, 2), n_heads=1, latent_dim=2).encoder.stem_norm is None


def test_position_centering_keeps_the_relative_spread_of_directions():
    from skdsc._training_adatsc import refresh_batchnorm
    from skdsc.nn import PositionCentering

    torch.manual_seed(0)
    spread = torch.tensor([4.0, 1.0, 0.25])  # a strong direction and two weak ones
    offset = torch.arange(2.0)[None, :, None] * 10.0  # a different offset at each window position
    x = torch.randn(400, 2, 3) * spread + offset
    norm = PositionCentering(2, 3)
    out = norm(x)
    torch.testing.assert_close(out.mean(dim=0), torch.zeros(2, 3), atol=1e-5, rtol=0)
    var = out.var(dim=0, unbiased=False)
    # one scale per position: the average variance is 1, the ratios between directions are kept
    torch.testing.assert_close(var.mean(dim=1), torch.ones(2), atol=1e-4, rtol=0)
    ratio = var / var[:, :1]
    expected = (x.var(dim=0, unbiased=False) / x.var(dim=0, unbiased=False)[:, :1])
    torch.testing.assert_close(ratio, expected, atol=1e-5, rtol=1e-5)
    assert float(ratio[0, 2]) < 0.01  # a BatchNorm would have made it 1
    # evaluation uses the running statistics: after an exact refresh, the population's
    # (the running variance is the unbiased one, as a BatchNorm's: a factor 400/399 apart)
    norm.reset_running_stats()
    norm.momentum = None
    norm(x)
    norm.eval()
    torch.testing.assert_close(norm(x), out * (399 / 400) ** 0.5, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="expected"):
        norm(torch.randn(4, 3, 3))
    # refresh_batchnorm finds it like any BatchNorm
    gen = ADATSCGenerator(1, (4, 4), 2, filters=(2, 2), n_heads=1, latent_dim=2, norm="position",
                          sequence_length=3)
    assert isinstance(gen.embed_norm, PositionCentering)
    refresh_batchnorm(gen, torch.randn(10, 1, 4, 4), 3, 4)
    assert gen.embed_norm.momentum is None and int(gen.embed_norm.num_batches_tracked) == 2


def test_decoder_recurrence_is_chosen_independently_of_the_encoder():
    from skdsc.nn.convlstm import ConvLSTM2d, FrameConv2d

    def kinds(gen):
        return {type(m) for m in gen.decoder.ups}

    base = dict(filters=(2, 4), n_heads=1, latent_dim=2)
    assert kinds(ADATSCGenerator(1, (4, 4), 2, **base)) == {ConvLSTM2d}  # mirrors the ConvLSTM encoder
    per_frame = ADATSCGenerator(1, (4, 4), 2, recurrent_decoder=False, skip_connections=False, **base)
    assert kinds(per_frame) == {FrameConv2d}
    assert any(isinstance(m, ConvLSTM2d) for m in per_frame.encoder.modules())
    assert kinds(ADATSCGenerator(1, (4, 4), 2, encoder="cnn-lstm", **base)) == {FrameConv2d}
    # a per-frame decoder reconstructs each step from that step's code alone
    x = torch.randn(2, 3, 1, 4, 4)
    per_frame.eval()
    with torch.no_grad():
        z, _, _, _, _, z_bar = per_frame(x)
        code = torch.cat([z, torch.zeros_like(z), z_bar[:, None].expand_as(z)], dim=-1)
        top = per_frame.to_top(code).reshape(2, 3, *per_frame.top_shape)
        changed = top.clone()
        changed[:, 0] += 1.0  # perturb step 0 only
        a, b = per_frame.decoder(top, []), per_frame.decoder(changed, [])
    assert not torch.allclose(a[:, 0], b[:, 0])
    torch.testing.assert_close(a[:, 1:], b[:, 1:])
    # whereas a ConvLSTM decoder carries step 0 into the later steps
    recurrent = ADATSCGenerator(1, (4, 4), 2, skip_connections=False, **base).eval()
    with torch.no_grad():
        assert not torch.allclose(recurrent.decoder(top, [])[:, 1:], recurrent.decoder(changed, [])[:, 1:])
