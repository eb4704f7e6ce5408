"""mmwsss's own registry (CAM methods). Models, datasets, metrics and hooks register into the
downstream registries (mmpretrain, mmseg, mmengine) instead."""
from mmengine.registry import Registry

CAM_METHODS = Registry('cam method', locations=['mmwsss.cam'])
