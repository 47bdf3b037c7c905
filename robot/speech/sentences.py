"""Whole sentences out of text that is still being written, so that the first can be spoken while the rest is made.

A sentence is complete once its end mark (. ! ? … or 。！？) is followed by more text: a full stop at the very
end may yet be a decimal point ("3." of "3.5") or an abbreviation's, so it waits for what follows, or for the
text to be final.
"""

from __future__ import annotations

import re

# an end mark (with any closing quotes or brackets) then white space; a Chinese end mark needs no space after it
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*\s+|[。！？]+["'”’）」』]*""")


def complete_sentences(text: str, final: bool) -> tuple[str, int]:
    """The complete sentences at the start of `text` (stripped) and how many characters of it they take.

    With `final`, the text is all there is: everything is complete.
    """
    if final:
        return text.strip(), len(text)
    end = 0
    for boundary in _BOUNDARY.finditer(text):
        if boundary.end() < len(text):  # something follows: the mark really ended a sentence
            end = boundary.end()
    return text[:end].strip(), end


class SentenceCutter:
    """The sentences of one growing text, each handed out once: `take` gives those completed since its last call
    (with `final`, all that is left), "" when there are none yet."""

    def __init__(self) -> None:
        self.taken = 0  # characters of the text handed out

    def take(self, text: str, final: bool = False) -> str:
        sentences, taken = complete_sentences(text[self.taken:], final)
        self.taken += taken
        return sentences
