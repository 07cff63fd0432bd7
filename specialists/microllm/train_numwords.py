"""`micromarket train numwords`: a from-scratch micro-LLM reading English number words as integers.

"one thousand two hundred and five" -> 1205, "nineteen eighty-four" -> 1984, "a hundred and ten" -> 110.
Number words 0-999,999 with style variants ("and", hyphens, "a hundred", commas) and year-style readings
(1100-2099); the generators, wrappers and held-out wrapper sentences are train_roman.py's.
Evaluation splits (all on numbers never seen in training):
  unseen_numbers       training styles and wrappers
  unseen_combinations  style combinations excluded from training
  heldout_templates    wrapper sentences never used in training; none of their words is ever generated
Out-of-domain inputs (Roman numerals, dates, arithmetic, noise) must give "UNKNOWN".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from micromarket.specialists.microllm.train_roman import (
    HELDOUT_STYLES,
    WORD_STYLES,
    RomanTask,
    casing,
    ood_text,
    render_roman,
    render_words,
    sample_number,
    words,
    wrap,
)
from micromarket.specialists.microllm.train_app import make_app
from micromarket.specialists.microllm.trainer import Example

TRAIN_STYLES = [s for s in WORD_STYLES if s not in HELDOUT_STYLES]


@dataclass
class NumberWordsTask(RomanTask):
    name: str = "numwords"
    specialist_id: str = "microllm-numwords"
    capability: str = "number_words_to_integer"
    description: str = (
        "Read an English number written in words ('one thousand two hundred and five', 'nineteen eighty-four', "
        "'a hundred and ten') and give the integer. A character-level micro-LLM trained from scratch."
    )
    examples: list[str] = field(default_factory=lambda: ["one thousand two hundred and five", "nineteen eighty-four",
                                                         "what is forty-two thousand and seven in digits?", "a hundred and ten"])
    domains: list[str] = field(default_factory=lambda: ["numbers", "number words"])
    split_names: tuple[str, ...] = ("unseen_numbers", "unseen_combinations", "heldout_templates")
    # single-token number words: off, as for dates (measured slower than characters there; numwords with them: 82 % at 3,750 steps)
    words: tuple[str, ...] = ()
    instruction: str = "Write the number spelled out in words in the text as an integer in digits. Reply UNKNOWN if it holds none."

    def render(self, rng: random.Random, test: bool, val: bool = False) -> Example:
        return render_words(rng, test, TRAIN_STYLES, val)

    def ood(self, rng: random.Random, heldout: bool = False) -> str:
        if rng.random() < 0.25:  # Roman numerals belong to the roman task
            return render_roman(rng, False)[0]
        return ood_text(rng, heldout)

    def eval_sets(self, rng: random.Random, n: int) -> dict[str, list[Example]]:
        sets = super().eval_sets(rng, n)
        combos = []
        for _ in range(n):
            num = sample_number(rng, True, 1000, 1999) if rng.random() < 0.5 else sample_number(rng, True, 100, 999_999)
            combos.append((wrap(casing(words(num, rng.choice(sorted(HELDOUT_STYLES))), rng), rng), str(num)))
        return {"unseen_numbers": sets["unseen_numbers"], "unseen_combinations": combos, "heldout_templates": sets["heldout_templates"], "ood": sets["ood"]}


app = make_app(NumberWordsTask, "Train the number-words micro-LLM (number_words_to_integer) from scratch, evaluate it and write its card.")

if __name__ == "__main__":
    app()
