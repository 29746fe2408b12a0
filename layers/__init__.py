"""layers: the Modules built on minigrad (Linear, Embedding, ..., RNNs, attention, Transformer)."""
from .linear import Linear
from minigrad.nn import ReLU, GELU, Tanh, Sigmoid, Softmax, LogSoftmax, Identity, Flatten
from .embedding import Embedding
from .dropout import Dropout
from .container import Sequential
from .attention import scaled_dot_product_attention, attention, attention_composed
from .efficient_attention import memory_efficient_attention, sliding_window_mask
from .norm import LayerNorm, layer_norm_composed
from .positional import (sinusoidal_table, PositionalEncoding, LearnedPositionalEmbedding,
                         apply_rotary, RotaryEmbedding, alibi_slopes, alibi_bias)
from .feedforward import PositionwiseFeedForward
from .multihead import MultiheadAttention
from .transformer import (TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
                          TransformerDecoder, Transformer, generate_square_subsequent_mask)
from .seq2seq import Seq2SeqTransformer
from .kv_cache import KVCache, DecoderCache
from .language_model import TransformerLM
from .decoding import greedy_decode, beam_search
from .rnn import RNNCell
from .lstm import LSTMCell
from .gru import GRUCell
from .recurrent import RNN, LSTM, GRU
from .tbptt import chunks, tbptt_windows, detach_state, train_tbptt
from .sequence_loss import sequence_mask, sequence_cross_entropy, sequence_mse
from .linear_recurrence import linear_recurrence, linear_recurrence_composed, LinearRecurrence
from .min_rnn import MinGRU, MinLSTM
from .selective_scan import selective_scan, selective_scan_composed
from .mamba import Mamba
from .linear_attention import CausalLinearAttention
