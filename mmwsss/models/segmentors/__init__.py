from .logit_adjusted_encoder_decoder import LogitAdjustedEncoderDecoder, loss_class_weights

__all__ = ['LogitAdjustedEncoderDecoder', 'loss_class_weights']
