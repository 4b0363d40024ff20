"""A PixelCNN decoder likelihood: pixels that depend on the pixels before them.

:class:`PixelCNNLikelihood` models an image x given the decoder's output
h(z) as p(x|z) = prod_i p(x_i | x_<i, h(z)), the pixels taken in raster
order (van den Oord et al., 2016, "Pixel Recurrent Neural Networks" and
"Conditional Image Generation with PixelCNN Decoders"). Masked convolutions
keep each pixel's conditional blind to itself and to the pixels after it, so
:meth:`PixelCNNLikelihood.log_prob` takes one pass of the network over all
pixels, while a draw takes one pass per pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..sampling import categorical_sample
from .base import Likelihood

#: Kernel size of the first, type "A", masked convolution: the widest, so
#: that the first layer already sees a neighbourhood of earlier pixels.
KERNEL_A = 7
#: Kernel size of the type "B" masked convolutions that follow.
KERNEL_B = 3


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only the pixels before the centre, in raster order.

    The mask zeroes the kernel's rows below the centre and, in the centre
    row, the positions right of the centre; type "A" also zeroes the centre
    itself (the first layer: a pixel must not see its own value), type "B"
    keeps it (later layers: the centre then holds features of earlier
    pixels only). The mask is applied in :meth:`forward`, not once to the
    weights, so that it survives any re-initialisation of ``weight`` (such
    as :func:`mim_sklearn.nn.networks.initialize_parameters`). Padding keeps
    the spatial size.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    out_channels : int
        Channels of the output.
    kernel_size : int
        Height and width of the (square, odd) kernel.
    mask_type : {"A", "B"}
        Whether the centre pixel is masked ("A") or seen ("B").

    Examples
    --------
    >>> conv = MaskedConv2d(1, 1, 3, "A")
    >>> conv.mask
    tensor([[1., 1., 1.],
            [1., 0., 0.],
            [0., 0., 0.]])
    >>> conv(torch.zeros(2, 1, 4, 4)).shape
    torch.Size([2, 1, 4, 4])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str
    ) -> None:
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}.")
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        super().__init__(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2
        )
        self.mask_type = mask_type
        centre = kernel_size // 2
        mask = torch.ones(kernel_size, kernel_size)
        mask[centre, centre + (mask_type == "B"):] = 0.0
        mask[centre + 1:] = 0.0
        # Not persistent: it follows from mask_type, so a state_dict need not
        # carry it; it still moves with the module between devices and dtypes.
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mask_type={self.mask_type!r}"


class PixelCNNLikelihood(Likelihood):
    """PixelCNN p(x|z): each pixel conditioned on the earlier pixels and on h(z).

    p(x|z) = prod_i p(x_i | x_<i, h(z)), over the pixels in raster order
    (row by row, left to right). The decoder network's output h(z) is a
    conditioning map of ``conditioning_channels`` values per pixel, laid out
    as ``architecture="conv"`` lays out its output (pixel-major, the values
    of a pixel side by side). The likelihood owns the autoregressive network:

    * a masked convolution of type "A" (7x7; a pixel does not see itself)
      of the image, then ``n_layers - 1`` masked convolutions of type "B"
      (3x3), each of ``channels`` channels followed by a ReLU;
    * a 1x1 convolution to the logits of each pixel;
    * h enters every layer, the output included, through a 1x1 convolution
      added before the nonlinearity. It depends on z only, so a pixel may
      see its own h; with the masked path at zero the likelihood is an
      independent Bernoulli (or categorical) of logits read from h.

    With ``n_categories=2`` pixels are Bernoulli (0/1, or grey levels in
    [0, 1] read as probabilities: the cross-entropy, as
    :class:`~mim_sklearn.nn.likelihoods.BernoulliLikelihood`); with K > 2
    they are categorical, integer values 0 to K - 1. The network, and the
    encoders, read x scaled to [0, 1] as x / (K - 1).

    Only single-channel images are supported. Plain masked convolutions
    have the PixelCNN's "blind spot" (some earlier pixels up and to the
    right lie outside the receptive field); the autoregressive property
    holds all the same.

    :meth:`log_prob` is one pass of the network over all pixels, but
    :meth:`sample` and :meth:`reconstruction` are sequential: one pass per
    pixel, H * W in all (``sequential_sampling``). Missing values are not
    supported.

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x, ``channels * height * width`` of ``image_shape``;
        None builds it later (see :class:`Likelihood`).
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of each row; required before the
        likelihood is built, and ``channels`` must be 1.
    n_categories : int, default=2
        Values a pixel takes: 2 for Bernoulli pixels (one logit each), K > 2
        for categorical ones (K logits each).
    channels : int, default=32
        Channels of each masked convolution.
    n_layers : int, default=4
        Number of masked convolutions: one of type "A", then
        ``n_layers - 1`` of type "B".
    conditioning_channels : int, default=1
        Values of h(z) per pixel: the decoder then has
        ``n_features * conditioning_channels`` outputs.

    Examples
    --------
    >>> lik = PixelCNNLikelihood(16, image_shape=(1, 4, 4), channels=8, n_layers=2)
    >>> lik.n_outputs()
    16
    >>> x = torch.tensor([[0.0, 1.0, 1.0, 0.0] * 4])
    >>> params = torch.zeros(1, 16)
    >>> lik.log_prob(x, params).shape
    torch.Size([1])
    >>> draw = lik.sample(params, torch.Generator().manual_seed(0))
    >>> draw.shape, bool(((draw == 0) | (draw == 1)).all())
    (torch.Size([1, 16]), True)
    """

    discrete = True
    #: The range of the encoder inputs: x / (K - 1).
    encoder_input_bounds = (0.0, 1.0)
    scales_input = False
    supports_missing = False
    #: Sampling costs one network pass per pixel (H * W passes): the
    #: estimators read this to refuse objectives that sample the decoder in
    #: every training step.
    sequential_sampling = True

    def __init__(
        self,
        n_features: int | None = None,
        image_shape: Sequence[int] | None = None,
        n_categories: int = 2,
        channels: int = 32,
        n_layers: int = 4,
        conditioning_channels: int = 1,
    ) -> None:
        if image_shape is not None:
            image_shape = tuple(image_shape)
            if len(image_shape) != 3 or not all(
                isinstance(size, (int, np.integer)) and size > 0
                for size in image_shape
            ):
                raise ValueError(
                    "image_shape must be (channels, height, width), three positive "
                    f"integers; got {image_shape!r}."
                )
            image_shape = tuple(int(size) for size in image_shape)
            if image_shape[0] != 1:
                raise ValueError(
                    "PixelCNNLikelihood models single-channel images only; got "
                    f"image_shape={image_shape} with {image_shape[0]} channels."
                )
        for name, value, least in (("n_categories", n_categories, 2),
                                   ("channels", channels, 1),
                                   ("n_layers", n_layers, 1),
                                   ("conditioning_channels", conditioning_channels, 1)):
            if not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(
                    f"{name} must be an integer of at least {least}, got {value!r}."
                )
        self.image_shape = image_shape
        self.n_categories = int(n_categories)
        self.channels = int(channels)
        self.n_layers = int(n_layers)
        self.conditioning_channels = int(conditioning_channels)
        super().__init__(n_features)

    @property
    def binary(self) -> bool:
        """Whether the pixels are 0/1 (``n_categories=2``)."""
        return self.n_categories == 2

    @property
    def _n_logits(self) -> int:
        # One logit per Bernoulli pixel, K per categorical one.
        return 1 if self.n_categories == 2 else self.n_categories

    def build(self, n_features: int) -> None:
        """Size it for ``n_features`` pixels and create its convolutions.

        Parameters
        ----------
        n_features : int
            Dimension of x; must equal ``channels * height * width`` of
            ``image_shape``.

        Raises
        ------
        ValueError
            If ``image_shape`` is not set, or does not hold ``n_features``
            values.
        """
        if self.image_shape is None:
            raise ValueError(
                "PixelCNNLikelihood needs the image size: pass "
                "image_shape=(channels, height, width) to its constructor."
            )
        size = int(np.prod(self.image_shape))
        if n_features != size:
            raise ValueError(
                f"image_shape={self.image_shape} holds {size} pixels, but the data "
                f"has {n_features} features."
            )
        super().build(n_features)
        self.first = MaskedConv2d(1, self.channels, KERNEL_A, "A")
        self.hidden = nn.ModuleList(
            MaskedConv2d(self.channels, self.channels, KERNEL_B, "B")
            for _ in range(self.n_layers - 1)
        )
        self.output = nn.Conv2d(self.channels, self._n_logits, 1)
        # h's 1x1 contributions to every layer and to the logits, at once.
        self.conditioning = nn.Conv2d(
            self.conditioning_channels,
            self.n_layers * self.channels + self._n_logits,
            1,
        )
        # How far (rows up, columns either side) a pixel's logits can see:
        # the sequential passes compute only that window (see _decode).
        self._reach = KERNEL_A // 2 + (self.n_layers - 1) * (KERNEL_B // 2)

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError unless X holds images this likelihood can model.

        Bernoulli pixels take values in [0, 1] (0/1, or probabilities);
        categorical ones the integers 0 to K - 1.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data as the estimator validated it.

        Raises
        ------
        ValueError
            If X holds a missing value (NaN), a value out of range, or (with
            ``image_shape`` set) rows of another size.
        """
        X = np.asarray(X)
        if np.isnan(X).any():
            raise ValueError(
                "PixelCNNLikelihood cannot model missing values (NaN): impute X "
                "first, or choose a likelihood that supports them."
            )
        if self.image_shape is not None and X.ndim == 2:
            size = int(np.prod(self.image_shape))
            if X.shape[1] != size:
                raise ValueError(
                    f"image_shape={self.image_shape} holds {size} pixels, but X has "
                    f"{X.shape[1]} features."
                )
        if self.n_categories == 2:
            if not np.all((X >= 0) & (X <= 1)):
                raise ValueError(
                    "PixelCNNLikelihood with n_categories=2 needs X in [0, 1]: "
                    "binary images, or probabilities (binarise or rescale X first)."
                )
        elif not np.all((X >= 0) & (X <= self.n_categories - 1) & (X == np.floor(X))):
            raise ValueError(
                f"PixelCNNLikelihood with n_categories={self.n_categories} needs X "
                f"to hold integers 0 to {self.n_categories - 1}."
            )

    def n_outputs(self) -> int:
        """Number of decoder outputs: ``conditioning_channels`` per pixel.

        Returns
        -------
        int
            ``n_features * conditioning_channels``.
        """
        return self.n_features * self.conditioning_channels

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder networks see of x: x / (K - 1), in [0, 1].

        The same scaling as the network's own input, so that categorical
        pixels of many levels (K = 256, say) do not reach the encoders as
        large numbers; Bernoulli pixels are read as they are.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of pixel values.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The scaled rows, of x's dtype; NaN becomes 0.
        """
        return torch.nan_to_num(x, nan=0.0) / (self.n_categories - 1)

    def _conditioning(self, params: torch.Tensor) -> torch.Tensor:
        """Rows of h, ``(batch, n_outputs)``, to h's 1x1 contributions."""
        _, height, width = self.image_shape
        dtype = self.output.weight.dtype
        h = params.reshape(-1, height, width, self.conditioning_channels)
        return self.conditioning(h.permute(0, 3, 1, 2).to(dtype))

    def _network(
        self, images: torch.Tensor, conditioning: torch.Tensor
    ) -> torch.Tensor:
        """Logits ``(batch, n_logits, H', W')`` of images ``(batch, H', W')``
        of pixel values, given h's contributions over the same rows."""
        pieces = conditioning.split(
            [self.channels] * self.n_layers + [self._n_logits], dim=1
        )
        scaled = (images / (self.n_categories - 1)).unsqueeze(1)
        hidden = F.relu(self.first(scaled) + pieces[0])
        for layer, piece in zip(self.hidden, pieces[1:-1]):
            hidden = F.relu(layer(hidden) + piece)
        return self.output(hidden) + pieces[-1]

    def logits(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """The logits of every pixel's conditional p(x_i | x_<i, h), in one pass.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of pixel values.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output h(z), broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (..., n_features) or (..., n_features, K)
            Over the broadcast leading dimensions: one logit per pixel for
            Bernoulli pixels, K for categorical ones; of the network's dtype.
        """
        lead = torch.broadcast_shapes(x.shape[:-1], params.shape[:-1])
        _, height, width = self.image_shape
        images = x.expand(*lead, x.shape[-1]).reshape(-1, height, width)
        conditioning = self._conditioning(params.expand(*lead, params.shape[-1]))
        logits = self._network(images.to(conditioning.dtype), conditioning)
        # (batch, n_logits, H, W) to rows, pixel-major.
        logits = logits.flatten(2).transpose(1, 2).reshape(*lead, -1, self._n_logits)
        return logits.squeeze(-1) if self.n_categories == 2 else logits

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each image, summed over its pixels (one pass).

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of pixel values: in [0, 1] for Bernoulli pixels (a value
            between 0 and 1 gives the cross-entropy to that probability),
            integers 0 to K - 1 for categorical ones.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output h(z), broadcast against ``x``: importance
            sampling passes several draws of z per row as a leading
            dimension.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability log p(x|z) of each image over the broadcast
            leading dimensions, in nats, of the dtype of ``params``;
            differentiable in ``params`` and in the network's weights.
        """
        logits = self.logits(x, params)
        x = x.to(logits.dtype)
        if self.n_categories == 2:
            terms = x * logits - F.softplus(logits)
        else:
            index = x.long().unsqueeze(-1).expand(*logits.shape[:-1], 1)
            terms = torch.log_softmax(logits, dim=-1).gather(-1, index).squeeze(-1)
        return terms.sum(-1).to(params.dtype)

    @torch.no_grad()
    def _decode(
        self, params: torch.Tensor, generator: torch.Generator | None, greedy: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode pixel by pixel in raster order: draws, or greedy values.

        Returns the images ``(..., n_features)`` and the logits used at each
        pixel, laid out as :meth:`logits` returns them.
        """
        lead = params.shape[:-1]
        _, height, width = self.image_shape
        conditioning = self._conditioning(params)
        batch = conditioning.shape[0]
        dtype = conditioning.dtype
        images = torch.zeros(batch, height, width, dtype=dtype, device=params.device)
        used = torch.zeros(batch, self._n_logits, height, width, dtype=dtype,
                           device=params.device)
        if self.n_categories == 2 and not greedy:
            # All the noise at once, float32 as BernoulliLikelihood draws it.
            uniform = torch.rand(
                (batch, height, width), generator=generator, device=params.device,
                dtype=torch.float32,
            ).to(dtype)
        reach = self._reach
        for row in range(height):
            # A pixel's logits see at most `reach` rows above it and `reach`
            # columns either side, so each pass runs on that window only. It
            # is exact: the masks give the rows below zero weight, and the
            # window's wrong edge values (its padding stands for real pixels)
            # travel inwards one layer at a time, never reaching the pixel.
            top = max(0, row - reach)
            for column in range(width):
                left = max(0, column - reach)
                window = (slice(top, row + 1), slice(left, column + reach + 1))
                logits = self._network(
                    images[:, window[0], window[1]],
                    conditioning[:, :, window[0], window[1]],
                )[:, :, -1, column - left]
                used[:, :, row, column] = logits
                if self.n_categories == 2:
                    if greedy:
                        value = (logits[:, 0] > 0).to(dtype)
                    else:
                        value = (uniform[:, row, column]
                                 < torch.sigmoid(logits[:, 0])).to(dtype)
                elif greedy:
                    value = logits.argmax(-1).to(dtype)
                else:
                    value = categorical_sample(
                        torch.log_softmax(logits, dim=-1), generator
                    ).to(dtype)
                images[:, row, column] = value
        used = used.flatten(2).transpose(1, 2).reshape(*lead, -1, self._n_logits)
        if self.n_categories == 2:
            used = used.squeeze(-1)
        return images.reshape(*lead, -1), used

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw images x ~ p(x|z), pixel by pixel in raster order.

        Sequential: one network pass per pixel (H * W passes), each on the
        whole batch. The noise is drawn in float32 from ``generator``.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output h(z) for each row.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One image for each row of ``params``: 0s and 1s, or integers 0
            to K - 1; of the dtype of ``params``, with no gradient.
        """
        return self._decode(params, generator, greedy=False)[0].to(params.dtype)

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The greedy decode: each pixel at its most probable value, in turn.

        Sequential: one network pass per pixel (H * W passes). Each pixel is
        set to its most probable value given the greedy values of the pixels
        before it. For Bernoulli pixels the result is each pixel's
        probability p(x_i = 1 | greedy x_<i, h), in [0, 1] as
        :class:`~mim_sklearn.nn.likelihoods.BernoulliLikelihood`'s
        reconstruction; for categorical pixels, the greedy values.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output h(z) for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One decoded image per row, of the dtype of ``params``, with no
            gradient.
        """
        images, logits = self._decode(params, None, greedy=True)
        if self.n_categories == 2:
            return torch.sigmoid(logits).to(params.dtype)
        return images.to(params.dtype)

    def extra_repr(self) -> str:
        return (
            f"n_features={self.n_features}, image_shape={self.image_shape}, "
            f"n_categories={self.n_categories}, channels={self.channels}, "
            f"n_layers={self.n_layers}, "
            f"conditioning_channels={self.conditioning_channels}"
        )
