"""Transformer layers, stacks and models: gradchecks at tiny sizes, masks, a training run."""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck
from layers import Embedding, Linear
from layers.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                TransformerEncoder, TransformerEncoderLayer,
                                generate_square_subsequent_mask)
from layers.seq2seq import Seq2SeqTransformer
from layer_testing import fill_

E, NH, FF, N, T, S = 4, 2, 6, 2, 3, 4


def _x(rng, shape):
    return minigrad.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)


def _double(module):
    module = module.to(dtype="float64")
    for p in module.parameters():                  # non-trivial norms and biases
        fill_(p, np.random.default_rng(p.numel()).standard_normal(p.shape) * 0.5)
    return module


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_gradcheck(rng, norm_first, batch_first, activation):
    layer = _double(TransformerEncoderLayer(E, NH, FF, dropout=0.0, activation=activation,
                                            batch_first=batch_first, norm_first=norm_first))
    x = _x(rng, (N, T, E) if batch_first else (T, N, E))
    padding = minigrad.tensor(np.array([[False, False, True], [False, False, False]]))
    checked = [layer.self_attn.in_proj_weight, layer.linear1.weight, layer.linear1.bias,
               layer.norm1.weight, layer.norm2.bias]
    gradcheck(lambda x, *_: layer(x, src_key_padding_mask=padding, is_causal=True),
              [x] + checked)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_gradcheck(rng, norm_first):
    layer = _double(TransformerDecoderLayer(E, NH, FF, dropout=0.0, batch_first=True,
                                            norm_first=norm_first))
    tgt, memory = _x(rng, (N, T, E)), _x(rng, (N, S, E))
    memory_padding = minigrad.tensor(np.array([[False] * 3 + [True], [False] * 4]))
    checked = [layer.multihead_attn.in_proj_weight, layer.self_attn.out_proj.weight,
               layer.norm3.weight]
    gradcheck(lambda t, m, *_: layer(t, m, tgt_mask=generate_square_subsequent_mask(
        T, dtype="float64"), memory_key_padding_mask=memory_padding), [tgt, memory] + checked)


def test_state_dict_keys_are_pytorchs():
    layer = TransformerDecoderLayer(E, NH, FF)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "multihead_attn.in_proj_weight",
        "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight",
        "multihead_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        "norm3.weight", "norm3.bias"]
    model = Transformer(E, NH, 2, 1, FF)
    keys = list(model.state_dict())
    assert "encoder.layers.1.norm2.bias" in keys and "decoder.layers.0.multihead_attn" \
        ".in_proj_weight" in keys and "encoder.norm.weight" in keys and "decoder.norm.bias" in keys


def test_stacks_apply_every_layer_then_the_norm(rng):
    from layers.norm import LayerNorm
    layer = TransformerEncoderLayer(E, NH, FF, dropout=0.0, batch_first=True)
    stack = TransformerEncoder(layer, 2, norm=LayerNorm(E)).eval()
    x = minigrad.tensor(rng.standard_normal((N, T, E)).astype(np.float32))
    want = stack.norm(stack.layers[1](stack.layers[0](x)))
    np.testing.assert_allclose(stack(x).detach().numpy(), want.detach().numpy(), rtol=1e-6)
    assert stack.layers[0] is not stack.layers[1]
    dec = TransformerDecoder(TransformerDecoderLayer(E, NH, FF, 0.0, batch_first=True), 2)
    memory = minigrad.tensor(rng.standard_normal((N, S, E)).astype(np.float32))
    want = dec.layers[1](dec.layers[0](x, memory, tgt_is_causal=True), memory,
                         tgt_is_causal=True)
    np.testing.assert_allclose(dec(x, memory, tgt_is_causal=True).detach().numpy(),
                               want.detach().numpy(), rtol=1e-6)


def test_square_subsequent_mask_is_finite():
    mask = generate_square_subsequent_mask(3).numpy()
    low = np.finfo(np.float32).min
    np.testing.assert_array_equal(mask, [[0, low, low], [0, 0, low], [0, 0, 0]])
    assert Transformer.generate_square_subsequent_mask(2).shape == (2, 2)


def test_causal_flag_equals_the_causal_mask(rng):
    layer = TransformerDecoderLayer(E, NH, FF, dropout=0.0).eval()
    tgt = minigrad.tensor(rng.standard_normal((T, N, E)).astype(np.float32))
    memory = minigrad.tensor(rng.standard_normal((S, N, E)).astype(np.float32))
    by_flag = layer(tgt, memory, tgt_is_causal=True).detach().numpy()
    by_mask = layer(tgt, memory, tgt_mask=generate_square_subsequent_mask(T)).detach().numpy()
    np.testing.assert_allclose(by_flag, by_mask, rtol=1e-6)
    # a causal decoder's first position cannot see the later ones
    changed = tgt.numpy().copy()
    changed[1:] += 1.0
    again = layer(minigrad.tensor(changed), memory, tgt_is_causal=True).detach().numpy()
    np.testing.assert_allclose(again[0], by_flag[0], rtol=1e-6)


def test_seq2seq_shapes_and_embedding_scale(rng):
    model = Seq2SeqTransformer(7, 9, d_model=8, nhead=2, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
    src = minigrad.tensor(rng.integers(0, 7, (2, 5)))
    tgt = minigrad.tensor(rng.integers(0, 9, (2, 4)))
    logits = model(src, tgt)
    assert logits.shape == (2, 4, 9)
    memory = model.encode(src)
    np.testing.assert_allclose(model.generator(model.decode(tgt, memory)).detach().numpy(),
                               logits.detach().numpy(), rtol=1e-6)


def test_one_layer_encoder_learns_to_copy_the_first_token():
    """Every position must output the token at position 0: only attention can do it."""
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    V, D, L = 5, 16, 6

    class Model(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = Embedding(V, D)
            self.position = Embedding(L, D)
            self.encoder = TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True)
            self.head = Linear(D, V)

        def forward(self, tokens):
            x = self.embed(tokens) + self.position(minigrad.arange(L)).reshape(1, L, D)
            return self.head(self.encoder(x))

    model = Model()
    optimizer = minigrad.optim.Adam(model.parameters(), lr=0.01)
    for step in range(150):
        tokens = rng.integers(0, V, (32, L))
        targets = np.repeat(tokens[:, :1], L, axis=1)
        logits = model(minigrad.tensor(tokens))
        loss = F.cross_entropy(logits.reshape(-1, V), minigrad.tensor(targets.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = rng.integers(0, V, (64, L))
    predicted = model(minigrad.tensor(tokens)).detach().numpy().argmax(-1)
    accuracy = (predicted == tokens[:, :1]).mean()
    assert accuracy > 0.9, f"accuracy {accuracy:.2f} after training, loss {loss.item():.3f}"
