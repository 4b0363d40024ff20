"""Encoder and decoder architectures: fully connected, convolutional, your own.

An architecture is a callable ``architecture(spec) -> (encoder, decoder)``
of torch modules, where ``spec`` is an :class:`ArchitectureSpec`:

* the encoder maps a batch of encoder inputs, shape ``(batch, n_inputs)``,
  to ``(batch, 2 * n_components)``: the mean of q(z|x), then its raw
  log-variance (the model floors it);
* the decoder maps latent codes, shape ``(batch, n_components)``, to
  ``(batch, n_decoder_outputs)``: the parameters of p(x|z) as the likelihood
  reads them (the mean for "gaussian", logits for "bernoulli").

The model calls it once more for the mutual autoencoder's auxiliary encoder
r(z|x) and uses only that call's encoder. Any module-level function (so that
fitted models pickle) with this contract can be passed as an estimator's
``architecture``; the linear and convolutional layers of what it returns are
re-initialised from ``random_state``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .networks import ACTIVATIONS, make_mlp

# Channels of the two stride-2 convolutions (the decoder mirrors them): a
# small relative of the MIM paper's convHVAE, sized for 2 CPU cores.
CONV_CHANNELS = (32, 64)


@dataclass(frozen=True)
class ArchitectureSpec:
    """What an architecture must fit: the widths its networks connect.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    n_inputs : int
        Width of the encoder input (the features, or their one-hot codes).
    n_components : int
        Dimension of z.
    n_decoder_outputs : int
        Width of the decoder output.
    hidden_layer_sizes : tuple of int
        The estimator's ``hidden_layer_sizes``.
    activation : str
        The estimator's ``activation``.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of each row, when rows are images.

    Examples
    --------
    >>> spec = ArchitectureSpec(n_inputs=64, n_components=2, n_decoder_outputs=64,
    ...                         hidden_layer_sizes=(32,), activation="tanh")
    >>> spec.n_inputs
    64
    """

    n_inputs: int
    n_components: int
    n_decoder_outputs: int
    hidden_layer_sizes: tuple[int, ...]
    activation: str
    image_shape: tuple[int, int, int] | None = None


def mlp_architecture(spec: ArchitectureSpec) -> tuple[nn.Module, nn.Module]:
    """Fully connected encoder and mirrored decoder.

    Parameters
    ----------
    spec : ArchitectureSpec
        The widths to connect.

    Returns
    -------
    encoder : torch.nn.Sequential
        Maps ``(batch, n_inputs)`` to ``(batch, 2 * n_components)``, through
        ``hidden_layer_sizes``.
    decoder : torch.nn.Sequential
        Maps ``(batch, n_components)`` to ``(batch, n_decoder_outputs)``,
        through ``hidden_layer_sizes`` reversed.

    Examples
    --------
    >>> spec = ArchitectureSpec(4, 2, 4, (8,), "tanh")
    >>> encoder, decoder = mlp_architecture(spec)
    >>> encoder(torch.zeros(3, 4)).shape, decoder(torch.zeros(3, 2)).shape
    (torch.Size([3, 4]), torch.Size([3, 4]))
    """
    encoder = make_mlp(
        spec.n_inputs, spec.hidden_layer_sizes, 2 * spec.n_components, spec.activation
    )
    decoder = make_mlp(
        spec.n_components,
        tuple(reversed(spec.hidden_layer_sizes)),
        spec.n_decoder_outputs,
        spec.activation,
    )
    return encoder, decoder


class _Unflatten(nn.Module):
    """Rows to images: ``(batch, C*H*W)`` to ``(batch, C, H, W)``."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(*x.shape[:-1], *self.shape)


class _ImagesToRows(nn.Module):
    """Decoded images ``(batch, C*k, H', W')`` to rows: crop to H x W, then
    order the values feature by feature (pixel-major, k per pixel)."""

    def __init__(self, image_shape: Sequence[int], per_pixel: int) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.per_pixel = per_pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels, height, width = self.image_shape
        x = x[..., :height, :width]
        x = x.reshape(*x.shape[:-3], channels, self.per_pixel, height, width)
        return x.movedim(-3, -1).flatten(-4)


class _FlatBatch(nn.Module):
    """Let a module written for ``(batch, width)`` take extra leading dims
    (the importance draws of ``score_samples`` come as a leading dim)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = self.module(x.reshape(-1, x.shape[-1]))
        return rows.reshape(*x.shape[:-1], rows.shape[-1])


def conv_architecture(spec: ArchitectureSpec) -> tuple[nn.Module, nn.Module]:
    """Convolutional encoder and decoder for rows that are flattened images.

    Encoder: two 3x3 convolutions of stride 2 (32 and 64 channels), then the
    fully connected ``hidden_layer_sizes``. Decoder: the mirror image, with
    4x4 transposed convolutions of stride 2, cropped to the image size.

    Parameters
    ----------
    spec : ArchitectureSpec
        The widths to connect; ``image_shape`` is required, and the decoder
        outputs must be a whole number per pixel.

    Returns
    -------
    encoder : torch.nn.Module
        Maps ``(..., n_inputs)`` to ``(..., 2 * n_components)``.
    decoder : torch.nn.Module
        Maps ``(..., n_components)`` to ``(..., n_decoder_outputs)``, the
        values of each feature (pixel) side by side.

    Raises
    ------
    ValueError
        If ``image_shape`` is missing or does not match ``n_inputs``, or the
        decoder outputs are not a whole number per pixel.

    Examples
    --------
    >>> spec = ArchitectureSpec(64, 2, 64, (32,), "relu", image_shape=(1, 8, 8))
    >>> encoder, decoder = conv_architecture(spec)
    >>> encoder(torch.zeros(5, 64)).shape, decoder(torch.zeros(5, 2)).shape
    (torch.Size([5, 4]), torch.Size([5, 64]))
    """
    shape = spec.image_shape
    if shape is None or len(shape) != 3 or not all(
        isinstance(size, int) and size > 0 for size in shape
    ):
        raise ValueError(
            "architecture='conv' needs image_shape=(channels, height, width), three "
            f"positive integers; got {shape!r}."
        )
    channels, height, width = shape
    if spec.n_inputs != channels * height * width:
        raise ValueError(
            f"image_shape={spec.image_shape} holds {channels * height * width} values, "
            f"but the encoder's input has {spec.n_inputs}."
        )
    per_pixel, remainder = divmod(spec.n_decoder_outputs, channels * height * width)
    if remainder:
        raise ValueError("architecture='conv' needs a per-pixel likelihood.")
    act = ACTIVATIONS[spec.activation]
    first, second = CONV_CHANNELS
    encoder_convs = nn.Sequential(
        _Unflatten((channels, height, width)),
        nn.Conv2d(channels, first, 3, stride=2, padding=1), act(),
        nn.Conv2d(first, second, 3, stride=2, padding=1), act(),
        nn.Flatten(),
    )
    small_h, small_w = (math.ceil(math.ceil(height / 2) / 2),
                        math.ceil(math.ceil(width / 2) / 2))
    encoder = nn.Sequential(
        encoder_convs,
        make_mlp(second * small_h * small_w, spec.hidden_layer_sizes,
                 2 * spec.n_components, spec.activation),
    )
    decoder = nn.Sequential(
        make_mlp(spec.n_components, tuple(reversed(spec.hidden_layer_sizes)),
                 second * small_h * small_w, spec.activation),
        act(),
        _Unflatten((second, small_h, small_w)),
        nn.ConvTranspose2d(second, first, 4, stride=2, padding=1), act(),
        nn.ConvTranspose2d(first, channels * per_pixel, 4, stride=2, padding=1),
        _ImagesToRows((channels, height, width), per_pixel),
    )
    return _FlatBatch(encoder), _FlatBatch(decoder)


ARCHITECTURES: dict[str, Callable[[ArchitectureSpec], tuple[nn.Module, nn.Module]]] = {
    "mlp": mlp_architecture,
    "conv": conv_architecture,
}
