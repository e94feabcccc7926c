"""colorcore: automatic photo colorization: Lab colour math, a model zoo, the
inference pipeline, weights, training and metrics."""
from .io import ImageError, load_image
from .hub import WeightsCorrupt, WeightsNotFound
from .pipeline import Colorizer, list_models, load_colorizer

__all__ = ["Colorizer", "ImageError", "WeightsCorrupt", "WeightsNotFound", "list_models", "load_colorizer",
           "load_image"]
__version__ = "0.1.0"
