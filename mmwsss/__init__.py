"""mmwsss: weakly supervised segmentation of industrial surface defects for OpenMMLab.

``import mmwsss`` applies the stack shims (:mod:`mmwsss.compat`) and registers every component into the
downstream registries (mmpretrain, mmseg, mmengine).
"""
from .compat import apply_shims

apply_shims()

from . import cam, datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ["__version__", "cam", "datasets", "engine", "evaluation", "models"]
