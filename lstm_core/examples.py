"""Example texts a model card declares, for the page to offer as one-click starting points.

A card declares them in a section `## Examples`, one fenced block each (so an example may hold line breaks,
indentation or backticks of its own):

    ## Examples
    ```text
    First Citizen:
    Before we proceed any further, hear me speak.
    ```
"""
from __future__ import annotations

MAX_EXAMPLES = 8  # the page shows them as chips in one row
MAX_CHARS = 2000  # a card comes with any uploaded file: an example must stay a sentence or a paragraph


def card_examples(card: str) -> list[str]:
    """The fenced blocks of the card's `## Examples` section, in order; [] when it has none."""
    examples: list[str] = []
    inside = False  # in the Examples section
    block: list[str] | None = None  # lines of the fenced block being read
    for line in card.splitlines():
        if block is not None:
            if line.strip().startswith("```"):
                text = "\n".join(block)
                if text.strip() and len(text) <= MAX_CHARS:
                    examples.append(text)
                block = None
            else:
                block.append(line)
        elif line.startswith("## "):
            inside = line[3:].strip().lower() == "examples"
        elif inside and line.strip().startswith("```"):
            block = []
    return examples[:MAX_EXAMPLES]
