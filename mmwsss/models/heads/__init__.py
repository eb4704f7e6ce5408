from .fgbp_cam_head import FGBPCAMHead

__all__ = ['FGBPCAMHead']
