"""Question-and-answer pages (a page of kind `faq`): the body is Markdown in which each question is a heading line
(`## How do I renew?`, or `###`), and everything down to the next question is its answer. Text before the first
question is the page's introduction.

Editors write one text, as on any page; the page shows a list of the questions, then each question as a heading
with an anchor made from its words (`#how-do-i-renew`), so a question can be linked to on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.site.service import slugify

_QUESTION = re.compile(r"^#{2,3}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
#: Ids the page around the questions already uses: a question never takes one.
TAKEN_IDS = frozenset({"main", "site-menu-list", "in-section-title", "faq-questions", "faq-questions-title"})


@dataclass(frozen=True)
class Question:
    anchor: str
    question: str
    #: Markdown, shown through the site's renderer.
    answer: str


@dataclass(frozen=True)
class Faq:
    introduction: str
    questions: list[Question]


def _anchor(question: str, used: set[str]) -> str:
    base = slugify(question) or "question"
    anchor, n = base, 1
    while anchor in used or anchor in TAKEN_IDS:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def parse(body: str) -> Faq:
    """Split a FAQ page's text into its introduction and its questions (a heading inside a fenced code block
    is not a question). The same question twice gets `-2` on its second anchor."""
    intro: list[str] = []
    found: list[tuple[str, list[str]]] = []
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
        match = None if fenced else _QUESTION.match(line)
        if match:
            found.append((match.group(1).strip(), []))
        elif found:
            found[-1][1].append(line)
        else:
            intro.append(line)
    used: set[str] = set()
    questions = [
        Question(anchor=_anchor(question, used), question=question, answer="\n".join(lines).strip())
        for question, lines in found
    ]
    return Faq(introduction="\n".join(intro).strip(), questions=questions)
