"""Fully connected networks, and initialisation from a local random generator."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_mlp(
    n_inputs: int,
    hidden_layer_sizes: Sequence[int],
    n_outputs: int,
    activation: str,
) -> nn.Sequential:
    """Build a multilayer perceptron with a linear output layer.

    Parameters
    ----------
    n_inputs : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer, in order.
    n_outputs : int
        Width of the (linear) output layer.
    activation : {"tanh", "relu", "logistic", "identity"}
        Nonlinearity after each hidden layer.

    Returns
    -------
    torch.nn.Sequential
        The network, with PyTorch's default initialisation; call
        :func:`initialize_parameters` to make it reproducible.

    Examples
    --------
    >>> net = make_mlp(4, (8,), 2, "tanh")
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def initialize_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise the linear and convolutional layers of a module, seeded.

    The weights are drawn from ``generator``: PyTorch's own initialisers draw
    from the global random state, which threads and Dask workers share, and a
    local generator keeps concurrent fits reproducible. Weights are
    Glorot-uniform (suited to tanh), biases zero.

    Parameters
    ----------
    module : torch.nn.Module
        Any module; its linear and (transposed) convolutional layers are reset.
    generator : torch.Generator
        A CPU generator, already seeded.

    Examples
    --------
    >>> net = make_mlp(4, (8,), 2, "tanh")
    >>> initialize_parameters(net, torch.Generator().manual_seed(0))
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            with torch.no_grad():
                nn.init.xavier_uniform_(layer.weight, generator=generator)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
