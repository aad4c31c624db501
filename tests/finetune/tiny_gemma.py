"""A tiny randomly initialised Gemma 3 and a word-level tokenizer, built in-process so training takes seconds."""
from __future__ import annotations

from ragft.finetune.dataset import Example

FACTS = [
    ("What colour is the sky on Zorb?", "The sky on Zorb is green."),
    ("Who founded Zorb city?", "Zorb city was founded by Mira."),
    ("How many moons does Zorb have?", "Zorb has seven moons."),
    ("What do people on Zorb eat?", "People on Zorb eat blue rice."),
    ("When is the Zorb festival?", "The Zorb festival is in March."),
    ("What is the Zorb river called?", "The Zorb river is called Tal."),
]


def build_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    text = [part for q, a in FACTS for part in Example(prompt=q, completion=a).training_pair()]
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "<eos>", "<bos>", "<unk>"])
    tokenizer.train_from_iterator(text, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>",
                                   bos_token="<bos>", unk_token="<unk>")


def build_tiny_gemma(vocab_size: int, seed: int = 0):
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=256,
        sliding_window=64, layer_types=["sliding_attention", "full_attention"],
        pad_token_id=0, eos_token_id=1, bos_token_id=2,
        initializer_range=0.2, query_pre_attn_scalar=32)   # larger init: logits far from uniform, fast learning
    torch.manual_seed(seed)
    return Gemma3ForCausalLM(config).eval()

