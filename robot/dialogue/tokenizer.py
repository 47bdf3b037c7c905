"""A byte-level BPE tokenizer trained with `tokenizers`, saved so `AutoTokenizer` loads it, with special
tokens for the roles and a chat template that writes conversations the way the model was trained."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

SYSTEM, USER, ROBOT, END, PAD, EOS = "<|system|>", "<|user|>", "<|robot|>", "<|end|>", "<|pad|>", "<|endoftext|>"
SPECIAL_TOKENS = [PAD, EOS, SYSTEM, USER, ROBOT, END]
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>{% elif m['role'] == 'user' %}<|user|>{% else %}<|robot|>{% endif %}"
    "{{ m['content'] }}<|end|>"
    "{% endfor %}{% if add_generation_prompt %}<|robot|>{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8192) -> PreTrainedTokenizerFast:
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token=PAD, eos_token=EOS, bos_token=None,
                                        unk_token=None, additional_special_tokens=[SYSTEM, USER, ROBOT, END])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
