"""Example texts from a model card's ## Examples section."""
from __future__ import annotations

from lstm_core import card_examples
from lstm_core.examples import MAX_CHARS, MAX_EXAMPLES

CARD = """# m

## Data
```text
not an example: another section
```

## Examples
Texts the model knows.

```text
First Citizen:
    Before we proceed
```

```
(()).
```

```text
```

## Reproduce
```
python -m app train ...
```
"""


def test_each_fenced_block_of_the_examples_section_is_one_example():
    assert card_examples(CARD) == ["First Citizen:\n    Before we proceed", "(())."]


def test_a_card_without_examples_or_with_oversized_ones_gives_what_fits():
    assert card_examples("# m\n\n## Data\nsome text\n") == []
    assert card_examples("") == []
    big = "## Examples\n" + "".join(f"```\nexample {k}\n```\n" for k in range(20))
    assert card_examples(big) == [f"example {k}" for k in range(MAX_EXAMPLES)]
    long = "## Examples\n```\n" + "x" * (MAX_CHARS + 1) + "\n```\n```\nshort\n```\n"
    assert card_examples(long) == ["short"]
    assert card_examples("## Examples\n```\nnever closed\n") == []
