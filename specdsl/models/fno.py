"""Fourier neural operator (FNO) transformers (Li et al., ICLR 2021)."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import DECODER, ENCODER, SpecModel, arguments
from specdsl.models.configs import FNOTransformerConfig, OutputHeadType, PositionalEncodingType
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class FNOTransformer(SpecModel[FNOTransformerConfig]):
    """FNO transformer: truncated spectral convolution in every block.

    Spec: ``repeat num_layers [fno(modes=...)]`` with ``ffn_hidden_dim`` set to
    ``mlp_ratio * hidden_dim``: the operator block's MLP is the block's feed-forward
    network (an explicit ``ffn_hidden_dim`` takes precedence).

    Parameters
    ----------
    vocab_size : int, optional
        Token vocabulary; None means the model takes ``inputs_embeds``.
    hidden_dim, num_layers, max_sequence_length : int
        Defaults 512, 6, 1024.
    modes : int
        Fourier modes kept (default 32).
    mlp_ratio : float
        Width of the block's MLP over ``hidden_dim`` (default 2.0).
    use_2d : bool
        View the sequence as a ``spatial_dim x spatial_dim`` grid and convolve in 2-D
        (default False).
    spatial_dim : int, optional
        Side of the grid; required with ``use_2d`` and ``spatial_dim**2`` must equal
        ``max_sequence_length``.

    The other arguments are those of :class:`~specdsl.models.lst.LSTTransformer`, with
    the same defaults.

    Raises
    ------
    ValueError
        ``spatial_dim must be specified when use_2d=True``, and for any other invalid
        argument.

    Examples
    --------
    >>> model = FNOTransformer(hidden_dim=512, num_layers=6, modes=32,
    ...                        max_sequence_length=1024)
    >>> x = torch.randn(32, 100, 512)
    >>> model(inputs_embeds=x).shape == x.shape
    True
    >>> classifier = FNOTransformer(vocab_size=10000, hidden_dim=512, num_layers=6,
    ...                             modes=16, num_classes=10, max_sequence_length=512)
    >>> classifier(torch.randint(0, 10000, (32, 100))).shape
    torch.Size([32, 10])
    >>> grid = FNOTransformer(hidden_dim=512, num_layers=6, modes=32, use_2d=True,
    ...                       spatial_dim=64, max_sequence_length=4096)
    >>> grid.use_2d, grid.spatial_dim
    (True, 64)
    >>> f"{specdsl.estimate(grid.spec).params:.3g}"  # 32 x 32 modes of 512 x 512 weights
    '6.45e+09'
    """

    config_class = FNOTransformerConfig
    spec_name = "fno_transformer"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        modes: int = 32,
        mlp_ratio: float = 2.0,
        use_2d: bool = False,
        spatial_dim: int | None = None,
        num_classes: int | None = None,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        gradient_checkpointing: bool = False,
        *,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: FNOTransformerConfig) -> dict[str, Any]:
        return {
            "modes": config.modes,
            "mlp_ratio": config.mlp_ratio,
            "use_2d": config.use_2d,
            "spatial_dim": config.spatial_dim,
        }

    @classmethod
    def spec_fields(cls, config: FNOTransformerConfig, family: dict[str, Any]) -> dict[str, Any]:
        # The FNO block's MLP is the block's feed-forward network, mlp_ratio wide.
        width = config.ffn_hidden_dim or max(1, round(config.mlp_ratio * config.hidden_dim))
        return {"ffn_hidden_dim": width}

    @classmethod
    def mixer(cls, config: FNOTransformerConfig, family: dict[str, Any]) -> LayerSpec:
        args: dict[str, Any] = {"modes": config.modes}
        if config.use_2d:  # only the grid form needs these (see docs/models.md)
            args.update(use_2d=True, spatial_dim=config.spatial_dim)
        return layer_spec("fno", args, argument="modes/use_2d/spatial_dim")


class FNOEncoder(FNOTransformer):
    """FNO model without a head: returns the final hidden states.

    Examples
    --------
    >>> encoder = FNOEncoder(hidden_dim=512, num_layers=6, modes=32, max_sequence_length=1024)
    >>> x = torch.randn(32, 100, 512)
    >>> encoder(inputs_embeds=x).shape == x.shape
    True
    """

    spec_name = "fno_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        modes: int = 32,
        mlp_ratio: float = 2.0,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        gradient_checkpointing: bool = False,
        *,
        vocab_size: int | None = None,
        norm_eps: float = 1e-12,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))


class FNODecoder(FNOTransformer):
    """FNO decoder: causal FNO blocks and a language-model head.

    Examples
    --------
    >>> decoder = FNODecoder(vocab_size=10000, hidden_dim=512, num_layers=12, modes=32,
    ...                      causal=True, max_sequence_length=2048)
    >>> decoder(torch.randint(0, 10000, (32, 100))).shape
    torch.Size([32, 100, 10000])
    """

    spec_name = "fno_decoder"
    fixed_arguments = DECODER

    def __init__(
        self,
        vocab_size: int,
        hidden_dim: int = 512,
        num_layers: int = 12,
        max_sequence_length: int = 2048,
        modes: int = 32,
        mlp_ratio: float = 2.0,
        causal: bool = True,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        gradient_checkpointing: bool = False,
        *,
        norm_eps: float = 1e-12,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))
