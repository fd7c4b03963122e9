"""Linear spectral transform (LST) models: DCT / DST / Hadamard mixing in every block."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import DECODER, ENCODER, SpecModel, arguments
from specdsl.models.configs import (
    LSTModelConfig,
    OutputHeadType,
    PositionalEncodingType,
    TransformLSTType,
)
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class LSTTransformer(SpecModel[LSTModelConfig]):
    """Linear spectral transform (DCT/DST/Hadamard) mixing in every block.

    Spec: ``repeat num_layers [lst(transform_type=..., use_bias=use_conv_bias)]``.

    Parameters
    ----------
    vocab_size : int, optional
        Token vocabulary; None means the model takes ``inputs_embeds``.
    hidden_dim : int
        Model width (default 512).
    num_layers : int
        Number of blocks (default 6).
    max_sequence_length : int
        Longest input (default 1024).
    transform_type : str
        ``dct`` (default), ``dst``, ``hadamard`` or ``mixed`` (a different transform per
        head).
    use_conv_bias : bool
        Bias in the layer's projections (default True).
    num_classes : int, optional
        Classes of the head; None returns hidden states.
    ffn_hidden_dim : int, optional
        Feed-forward width (default ``4 * hidden_dim``).
    dropout : float
        Dropout probability (default 0.0).
    use_positional_encoding : bool
        Whether to add positions (default True).
    positional_encoding_type : str
        ``sinusoidal`` (default), ``learned`` or ``none``.
    gradient_checkpointing : bool
        Recompute block activations during backward (default False).
    norm_eps : float
        Keyword only: LayerNorm epsilon (default 1e-12).
    output_type : str
        Keyword only: head type (default ``classification``), see
        :class:`~specdsl.models.fnet.FNet`.
    seed : int, optional
        Keyword only: weight seed (default 0).

    Examples
    --------
    >>> model = LSTTransformer(hidden_dim=512, num_layers=6, transform_type="dct",
    ...                        max_sequence_length=1024)
    >>> x = torch.randn(32, 100, 512)
    >>> model(inputs_embeds=x).shape == x.shape
    True
    >>> classifier = LSTTransformer(vocab_size=10000, hidden_dim=512, num_layers=6,
    ...                             transform_type="hadamard", num_classes=10,
    ...                             max_sequence_length=512)
    >>> classifier(torch.randint(0, 10000, (32, 100))).shape
    torch.Size([32, 10])
    """

    config_class = LSTModelConfig
    spec_name = "lst_transformer"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        transform_type: TransformLSTType = "dct",
        use_conv_bias: bool = True,
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
    def resolve(cls, config: LSTModelConfig) -> dict[str, Any]:
        return {"transform_type": config.transform_type, "use_conv_bias": config.use_conv_bias}

    @classmethod
    def mixer(cls, config: LSTModelConfig, family: dict[str, Any]) -> LayerSpec:
        return layer_spec("lst", family, argument="transform_type/use_conv_bias")


class LSTEncoder(LSTTransformer):
    """LST model without a head: returns the final hidden states.

    Arguments as for :class:`LSTTransformer` without ``num_classes`` and ``output_type``.

    Examples
    --------
    >>> encoder = LSTEncoder(hidden_dim=512, num_layers=6)
    >>> encoder(inputs_embeds=torch.randn(4, 100, 512)).shape
    torch.Size([4, 100, 512])
    """

    spec_name = "lst_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        transform_type: TransformLSTType = "dct",
        use_conv_bias: bool = True,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        *,
        norm_eps: float = 1e-12,
        gradient_checkpointing: bool = False,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))


class LSTDecoder(LSTTransformer):
    """LST decoder: causal LST blocks and a language-model head.

    ``causal=True`` sets the spec's ``causal`` field: every layer must then be exactly
    causal, output position ``t`` never depends on inputs after ``t``.

    Parameters
    ----------
    vocab_size : int
        Token vocabulary (required); the head predicts it.
    hidden_dim, num_layers, max_sequence_length : int
        Defaults 512, 12, 2048.
    transform_type : str
        Default ``dst``.
    causal : bool
        Default True.

    Examples
    --------
    >>> decoder = LSTDecoder(vocab_size=10000, hidden_dim=512, num_layers=12,
    ...                      transform_type="dst", causal=True, max_sequence_length=2048)
    >>> decoder(torch.randint(0, 10000, (32, 100))).shape
    torch.Size([32, 100, 10000])
    """

    spec_name = "lst_decoder"
    fixed_arguments = DECODER

    def __init__(
        self,
        vocab_size: int,
        hidden_dim: int = 512,
        num_layers: int = 12,
        max_sequence_length: int = 2048,
        transform_type: TransformLSTType = "dst",
        causal: bool = True,
        use_conv_bias: bool = True,
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
