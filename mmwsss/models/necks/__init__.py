from .region_aware_weighting_neck import RegionAwareWeightingNeck

__all__ = ['RegionAwareWeightingNeck']
