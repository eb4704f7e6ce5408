from .pseudo_label_review import read_confidence, write_review

__all__ = ['read_confidence', 'write_review']
