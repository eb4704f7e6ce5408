from .channels_last_hook import ChannelsLastHook
from .iterative_refine_hook import IterativeRefineHook
from .prediction_change_hook import PredictionChangeHook
from .train_progress_hook import TrainProgressHook

__all__ = ['ChannelsLastHook', 'IterativeRefineHook', 'PredictionChangeHook', 'TrainProgressHook']
