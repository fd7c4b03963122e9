"""Random-feature attention models: spectral attention and the Performer."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import ENCODER, SpecModel, arguments
from specdsl.models.configs import (
    OutputHeadType,
    PositionalEncodingType,
    SpectralAttentionModelConfig,
)
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class SpectralAttentionTransformer(SpecModel[SpectralAttentionModelConfig]):
    """Linear-time attention through random Fourier features.

    Spec: ``repeat num_layers [spectral_attention(num_heads=, num_features=, ...)]``.

    Parameters
    ----------
    vocab_size : int, optional
        Token vocabulary; None means the model takes ``inputs_embeds``.
    hidden_dim, num_layers, max_sequence_length : int
        Defaults 512, 6, 1024.
    num_heads : int
        Attention heads (default 8); must divide ``hidden_dim``.
    num_features : int, optional
        Random features of the kernel approximation (default ``hidden_dim``).
    kernel_type : str
        Kernel approximated by the features (default ``softmax``).
    use_orthogonal : bool
        Draw orthogonal random features (default False).
    num_classes : int, optional
        Classes of the head; None returns hidden states.
    ffn_hidden_dim : int, optional
        Feed-forward width (default ``4 * hidden_dim``).
    dropout : float
        Dropout probability (default 0.0).
    use_positional_encoding : bool
        Whether to encode positions (default True).
    positional_encoding_type : str
        ``sinusoidal`` (default), ``learned``, ``rotary``, ``alibi`` or ``none``.
    gradient_checkpointing : bool
        Recompute block activations during backward (default False).
    norm_eps, output_type, seed
        Keyword only, as for :class:`~specdsl.models.lst.LSTTransformer`.

    Examples
    --------
    >>> model = SpectralAttentionTransformer(hidden_dim=512, num_layers=6, num_heads=8,
    ...                                      num_features=256, max_sequence_length=1024)
    >>> x = torch.randn(32, 100, 512)
    >>> model(inputs_embeds=x).shape == x.shape
    True
    >>> classifier = SpectralAttentionTransformer(vocab_size=10000, hidden_dim=512,
    ...                                           num_layers=6, num_heads=8, num_classes=10,
    ...                                           max_sequence_length=512)
    >>> classifier(torch.randint(0, 10000, (32, 100))).shape
    torch.Size([32, 10])
    """

    config_class = SpectralAttentionModelConfig
    spec_name = "spectral_attention_transformer"
    layer_type = "spectral_attention"
    layer_arguments: tuple[str, ...] = (
        "num_heads",
        "num_features",
        "kernel_type",
        "use_orthogonal",
    )

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        num_heads: int = 8,
        num_features: int | None = None,
        kernel_type: str = "softmax",
        use_orthogonal: bool = False,
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
    def resolve(cls, config: SpectralAttentionModelConfig) -> dict[str, Any]:
        return {
            "num_heads": config.num_heads,
            "num_features": config.num_features or config.hidden_dim,
            "kernel_type": config.kernel_type,
            "use_orthogonal": config.use_orthogonal,
        }

    @classmethod
    def mixer(cls, config: SpectralAttentionModelConfig, family: dict[str, Any]) -> LayerSpec:
        args = {key: family[key] for key in cls.layer_arguments}
        return layer_spec(cls.layer_type, args, argument="attention arguments")


class SpectralAttentionEncoder(SpectralAttentionTransformer):
    """Spectral attention model without a head: returns hidden states.

    Examples
    --------
    >>> encoder = SpectralAttentionEncoder(hidden_dim=512, num_layers=6, num_features=128)
    >>> encoder(inputs_embeds=torch.randn(4, 100, 512)).shape
    torch.Size([4, 100, 512])
    """

    spec_name = "spectral_attention_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        num_heads: int = 8,
        num_features: int | None = None,
        kernel_type: str = "softmax",
        use_orthogonal: bool = False,
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


class PerformerTransformer(SpectralAttentionTransformer):
    """Performer: softmax attention from positive orthogonal features.

    Spec: ``repeat num_layers [performer(num_heads=, num_features=)]``. Arguments as for
    :class:`SpectralAttentionTransformer` without ``kernel_type``; ``use_orthogonal``
    (keyword only) is accepted for compatibility and must stay True: the performer layer
    always draws orthogonal features.

    Examples
    --------
    >>> performer = PerformerTransformer(hidden_dim=512, num_layers=6, num_heads=8,
    ...                                  num_features=256, use_orthogonal=True)
    >>> performer(inputs_embeds=torch.randn(32, 100, 512)).shape
    torch.Size([32, 100, 512])
    """

    spec_name = "performer_transformer"
    layer_type = "performer"
    layer_arguments = ("num_heads", "num_features")

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 512,
        num_layers: int = 6,
        max_sequence_length: int = 1024,
        num_heads: int = 8,
        num_features: int | None = None,
        num_classes: int | None = None,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        gradient_checkpointing: bool = False,
        *,
        use_orthogonal: bool = True,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))

    @classmethod
    def resolve(cls, config: SpectralAttentionModelConfig) -> dict[str, Any]:
        if not config.use_orthogonal:
            raise ValueError(
                "PerformerTransformer: use_orthogonal=False is not available, the performer"
                " layer always draws orthogonal features (FAVOR+); use"
                " SpectralAttentionTransformer(use_orthogonal=False) instead"
            )
        family = super().resolve(config)
        del family["kernel_type"]
        return family
