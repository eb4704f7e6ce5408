from .logit_adjusted_encoder_decoder import LogitAdjustedEncoderDecoder, loss_class_weights
from .loss_rejection_encoder_decoder import LossRejectionEncoderDecoder, large_loss_rejection

__all__ = ['LogitAdjustedEncoderDecoder', 'loss_class_weights', 'LossRejectionEncoderDecoder', 'large_loss_rejection']
