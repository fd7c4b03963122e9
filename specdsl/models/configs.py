"""Model configuration classes (torch-free): the documented ``...ModelConfig`` names.

Each config holds the arguments of one model family; ``Model.from_config(config)`` builds
the model, mapping ``sequence_length`` to ``max_sequence_length``. Unknown fields are
errors. The family classes are re-exported by :mod:`specdsl.config`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PositionalEncodingType = Literal["sinusoidal", "learned", "rotary", "alibi", "none"]
OutputHeadType = Literal["classification", "regression", "sequence", "lm", "none"]
TransformLSTType = Literal["dct", "dst", "hadamard", "mixed"]
SpectralType = Literal["fourier", "wavelet", "afno", "gfnet"]
SpatialType = Literal["attention", "spectral_attention", "lst"]
AlternationPattern = Literal["even_spectral", "alternate", "custom"]


class ModelConfig(BaseModel):
    """Arguments every model shares.

    Attributes
    ----------
    model_type : str
        Which model family the config describes.
    hidden_dim, num_layers, sequence_length : int
        Width, number of blocks and longest input (``max_sequence_length``); positive.
    dropout : float
        Dropout probability in ``[0, 1)``; default 0.0.
    vocab_size, num_classes, ffn_hidden_dim : int or None
        Token vocabulary (None: inputs are embeddings), head width, feed-forward width
        (None: ``4 * hidden_dim``).
    use_positional_encoding : bool
        Whether to encode positions; default True.
    positional_encoding_type : str
        ``sinusoidal`` | ``learned`` | ``rotary`` | ``alibi`` | ``none``.
    norm_eps : float
        LayerNorm epsilon; default 1e-12.
    output_type : str
        ``classification`` | ``regression`` | ``sequence`` | ``lm`` | ``none``.
    gradient_checkpointing : bool
        Recompute block activations in the backward pass; default False.
    """

    model_config = ConfigDict(extra="forbid")

    model_type: str = "model"
    hidden_dim: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    sequence_length: int = Field(gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    vocab_size: int | None = Field(default=None, gt=0)
    num_classes: int | None = Field(default=None, gt=0)
    ffn_hidden_dim: int | None = Field(default=None, gt=0)
    use_positional_encoding: bool = True
    positional_encoding_type: PositionalEncodingType = "sinusoidal"
    norm_eps: float = Field(default=1e-12, gt=0.0)
    output_type: OutputHeadType = "classification"
    gradient_checkpointing: bool = False


class FNetModelConfig(ModelConfig):
    """FNet: ``use_real_fft`` selects the real-input FFT form of the same mixing."""

    model_type: str = "fnet"
    use_real_fft: bool = True


class GFNetModelConfig(ModelConfig):
    """GFNet: ``filter_activation`` applied to the learned global filter."""

    model_type: str = "gfnet"
    filter_activation: str = "sigmoid"


class AFNOModelConfig(ModelConfig):
    """AFNO: retained Fourier modes and the spectral MLP's expansion ratio.

    ``n_modes`` is shorthand for ``modes_seq``; when it is given without
    ``modes_hidden``, ``modes_hidden = int(n_modes * compression_ratio)``.
    """

    model_type: str = "afno"
    n_modes: int | None = Field(default=None, gt=0)
    modes_seq: int | None = Field(default=None, gt=0)
    modes_hidden: int | None = Field(default=None, gt=0)
    compression_ratio: float = Field(default=0.5, gt=0.0, le=1.0)
    mlp_ratio: float = Field(default=2.0, gt=0.0)


class LSTModelConfig(ModelConfig):
    """Linear spectral transform models: the transform and its projection bias."""

    model_type: str = "lst"
    transform_type: TransformLSTType = "dct"
    use_conv_bias: bool = True


class SpectralAttentionModelConfig(ModelConfig):
    """Random-feature attention models (``num_features`` None: ``hidden_dim``)."""

    model_type: str = "spectral_attention"
    num_features: int | None = Field(default=None, gt=0)
    kernel_type: str = "gaussian"
    use_orthogonal: bool = True
    num_heads: int = Field(default=8, gt=0)


class FNOTransformerConfig(ModelConfig):
    """Fourier neural operator models; ``use_2d`` views the sequence as a square grid."""

    model_type: str = "fno_transformer"
    modes: int = Field(default=32, gt=0)
    mlp_ratio: float = Field(default=2.0, gt=0.0)
    use_2d: bool = False
    spatial_dim: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _grid(self) -> FNOTransformerConfig:
        if self.use_2d and self.spatial_dim is None:
            raise ValueError("spatial_dim must be specified when use_2d=True")
        if self.use_2d and self.spatial_dim is not None:
            side = self.spatial_dim
            if side * side != self.sequence_length:
                raise ValueError(
                    f"with use_2d=True, max_sequence_length ({self.sequence_length}) must equal"
                    f" spatial_dim**2 ({side}**2 = {side * side})"
                )
        return self


class WaveletTransformerConfig(ModelConfig):
    """Wavelet models: the wavelet, decomposition levels and coefficient mixing."""

    model_type: str = "wavelet_transformer"
    wavelet: str = "db4"
    levels: int = Field(default=3, ge=1, le=10)
    mixing_mode: Literal["pointwise", "channel", "level"] = "pointwise"


class HybridModelConfig(ModelConfig):
    """Hybrid spectral/spatial models.

    ``custom_pattern`` (specdsl addition) is the DSL pattern used when
    ``alternation_pattern="custom"``: one period or the whole stack, where the names
    ``spectral`` and ``spatial`` stand for the configured layers.
    """

    model_type: str = "hybrid"
    spectral_type: SpectralType = "fourier"
    spatial_type: SpatialType = "attention"
    alternation_pattern: AlternationPattern = "even_spectral"
    num_heads: int = Field(default=8, gt=0)
    spectral_config: dict[str, Any] | None = None
    spatial_config: dict[str, Any] | None = None
    custom_pattern: str | None = None

    @model_validator(mode="after")
    def _custom(self) -> HybridModelConfig:
        if self.alternation_pattern == "custom" and not self.custom_pattern:
            raise ValueError(
                "alternation_pattern='custom' needs custom_pattern, a layer pattern such as"
                " 'spectral, spectral, spatial'"
            )
        if self.custom_pattern and self.alternation_pattern != "custom":
            raise ValueError("custom_pattern is only used with alternation_pattern='custom'")
        return self


class AlternatingTransformerConfig(ModelConfig):
    """Two layer types on even and odd blocks (specdsl addition, for ``from_config``)."""

    model_type: str = "alternating"
    layer1_type: str = "fourier"
    layer2_type: str = "attention"
    layer1_config: dict[str, Any] | None = None
    layer2_config: dict[str, Any] | None = None


__all__ = [
    "AFNOModelConfig",
    "AlternatingTransformerConfig",
    "FNOTransformerConfig",
    "FNetModelConfig",
    "GFNetModelConfig",
    "HybridModelConfig",
    "LSTModelConfig",
    "ModelConfig",
    "SpectralAttentionModelConfig",
    "WaveletTransformerConfig",
]
