"""Autoencoders: pure torch modules, no scikit-learn inside."""

import torch
from torch import nn

__all__ = ["MLPAutoencoder", "make_mlp"]

_ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh}


def make_mlp(sizes, activation="relu", last_activation=False, batch_norm=False):
    """Stack of linear layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first.
    activation : {"relu", "elu", "leaky_relu", "tanh"}
        Non-linearity between layers.
    last_activation : bool
        Whether the last linear layer is followed by the non-linearity too.
    batch_norm : bool
        Insert a ``BatchNorm1d`` before each hidden non-linearity.

    Returns
    -------
    torch.nn.Sequential
    """
    act = _ACTIVATIONS[activation]
    layers = []
    n = len(sizes) - 1
    for i in range(n):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < n - 1 or last_activation:
            if batch_norm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(act())
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Fully connected autoencoder ``d -> hidden -> latent`` with a mirrored decoder.

    The DEC/IDEC architecture is ``MLPAutoencoder(d, (500, 500, 2000), 10)``: ReLU
    between layers, a linear latent layer and a linear output layer.

    Parameters
    ----------
    in_features : int
        Input dimension ``d``.
    hidden_dims : sequence of int
        Encoder widths; the decoder uses them in reverse.
    latent_dim : int
        Size of the embedding.
    activation : str
        See :func:`make_mlp`.

    Examples
    --------
    >>> import torch
    >>> ae = MLPAutoencoder(20, (32, 16), 4)
    >>> z, x_hat = ae(torch.zeros(5, 20))
    >>> tuple(z.shape), tuple(x_hat.shape)
    ((5, 4), (5, 20))
    """

    def __init__(self, in_features, hidden_dims=(500, 500, 2000), latent_dim=10, activation="relu"):
        super().__init__()
        hidden = list(hidden_dims)
        self.in_features = in_features
        self.latent_dim = latent_dim
        self.encoder = make_mlp([in_features, *hidden, latent_dim], activation)
        self.decoder = make_mlp([latent_dim, *reversed(hidden), in_features], activation)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        z = self.encoder(x)
        return z, self.decoder(z)
