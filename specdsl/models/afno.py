"""AFNO (Guibas et al., ICLR 2022): a block-diagonal MLP on retained Fourier modes."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import ENCODER, SpecModel, arguments
from specdsl.models.configs import AFNOModelConfig, OutputHeadType, PositionalEncodingType
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class AFNOModel(SpecModel[AFNOModelConfig]):
    """AFNO: an MLP on the retained Fourier modes in every block.

    Spec: ``repeat num_layers [afno(modes_seq=, modes_hidden=, mlp_ratio=)]``. The other
    arguments are those of :class:`~specdsl.models.fnet.FNet`, with the same defaults
    (768 wide, 12 layers, dropout 0.1, eps 1e-12) except ``max_sequence_length``.

    Parameters
    ----------
    max_sequence_length : int
        Longest input (default 1024).
    modes_seq : int, optional
        Fourier modes kept along the sequence (default ``max_sequence_length // 2``).
    modes_hidden : int, optional
        Modes kept along the hidden dimension (default ``hidden_dim // 2``).
    mlp_ratio : float
        Expansion of the MLP applied to the modes (default 2.0).

    Examples
    --------
    >>> model = AFNOModel(vocab_size=30000, hidden_dim=768, num_layers=12,
    ...                   max_sequence_length=1024, num_classes=2,
    ...                   modes_seq=256, modes_hidden=384)
    >>> model(input_ids=torch.randint(0, 30000, (8, 1024))).shape
    torch.Size([8, 2])
    """

    config_class = AFNOModelConfig
    spec_name = "afno"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 1024,
        modes_seq: int | None = None,
        modes_hidden: int | None = None,
        mlp_ratio: float = 2.0,
        num_classes: int | None = None,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        gradient_checkpointing: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: AFNOModelConfig) -> dict[str, Any]:
        return {
            "modes_seq": config.modes_seq or config.sequence_length // 2,
            "modes_hidden": config.modes_hidden or config.hidden_dim // 2,
            "mlp_ratio": config.mlp_ratio,
        }

    @classmethod
    def mixer(cls, config: AFNOModelConfig, family: dict[str, Any]) -> LayerSpec:
        return layer_spec("afno", family, argument="modes_seq/modes_hidden/mlp_ratio")

    @classmethod
    def config_arguments(cls, config: AFNOModelConfig) -> dict[str, Any]:  # type: ignore[override]
        """``n_modes`` stands for ``modes_seq``; with it, ``modes_hidden`` defaults to
        ``int(n_modes * compression_ratio)``."""
        data = super().config_arguments(config)
        n_modes = data.pop("n_modes")
        ratio = data.pop("compression_ratio")
        if n_modes is not None:
            data["modes_seq"] = data["modes_seq"] or n_modes
            data["modes_hidden"] = data["modes_hidden"] or max(1, int(n_modes * ratio))
        return data


class AFNOEncoder(AFNOModel):
    """AFNO without a head: returns the final hidden states.

    Examples
    --------
    >>> encoder = AFNOEncoder(hidden_dim=768, num_layers=12, max_sequence_length=4096,
    ...                       modes_seq=512, modes_hidden=384)
    >>> encoder(inputs_embeds=torch.randn(8, 4096, 768)).shape
    torch.Size([8, 4096, 768])
    """

    spec_name = "afno_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 1024,
        modes_seq: int | None = None,
        modes_hidden: int | None = None,
        mlp_ratio: float = 2.0,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        gradient_checkpointing: bool = False,
        *,
        vocab_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))
