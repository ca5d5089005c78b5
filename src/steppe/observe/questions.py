"""Questions: how a poll's question turns what a respondent voices (or holds) into an answer.

Real polls ask different questions: "Which side do you support?" (the model's stances), "Do
you support the war?", "Do you agree that ...?" (an indirect measure). Each question is an
observation model of its own: a respondent whose voiced answer is ``a`` (a stance or "don't
know") gives the question's answer ``q`` with probability ``M[a, q]``, where each row of
``M`` sums to 1. Where a row puts all its weight on one answer nothing is drawn; otherwise
one uniform per respondent (from the poll's stream) picks the answer by the row's
cumulative probabilities. A question's rows are its *bias terms*: for example
``neutral = {yes = 0.15, no = "rest"}`` says that 15% of those who would say "neutral" to the
side question say "yes" to support for the war — an assumption to give a range to.

With ``source = "private"`` the question is answered from what the respondent privately
holds (a question that is not sensitive, or answered anonymously); by default it is
answered from what the respondent voices.

The default question of a poll, when it names none, is the model's own: the answer is the
voiced stance (or "don't know"), drawn nothing.

Examples
--------
>>> q = Question(name="support_war", answers=("yes", "no", "dont_know"),
...              map={"russia": {"yes": 1.0}, "neutral": {"yes": 0.2, "no": "rest"},
...                   "ukraine": {"no": 1.0}, "dont_know": {"dont_know": 1.0}})
>>> q.matrix(("ukraine", "neutral", "russia", "dont_know")).tolist()
[[0.0, 1.0, 0.0], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ParameterError

__all__ = ["Question", "ask", "expected_shares", "from_table"]

Weight = Annotated[float, Field(ge=0, le=1)] | Literal["rest"]


class Question(BaseModel):
    """A poll question as an observation model (see the module docstring).

    Attributes
    ----------
    name : str
        How polls refer to it (``question = "<name>"``).
    answers : tuple of str
        The question's answers, in order.
    map : dict
        For each input label (a stance, or "dont_know"), the probability of each answer
        (unlisted answers: 0; one entry may be "rest"). An input label that is also an
        answer and is not listed maps to itself.
    source : {"voiced", "private"}
        Answered from what respondents voice, or from what they hold.
    text : str
        The question as asked (for reports).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field(min_length=1)
    answers: tuple[str, ...] = Field(min_length=1)
    map: dict[str, dict[str, Weight]] = Field(default_factory=dict)
    source: Literal["voiced", "private"] = "voiced"
    text: str = ""

    def __init__(self, **data: Any) -> None:
        if isinstance(data.get("answers"), list):
            data["answers"] = tuple(data["answers"])
        try:
            super().__init__(**data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise ParameterError(err["msg"], field=f"questions.{data.get('name', '?')}.{loc}",
                                 given=err.get("input")) from None
        where = f"questions.{self.name}"
        if len(set(self.answers)) != len(self.answers):
            raise ParameterError("answers must differ", field=f"{where}.answers",
                                 given=list(self.answers))
        for label, row in self.map.items():
            for answer in row:
                if answer not in self.answers:
                    raise ParameterError("unknown answer", field=f"{where}.map.{label}.{answer}",
                                         allowed=", ".join(self.answers), given=answer)
            self._row(label)

    def _row(self, label: str) -> np.ndarray:
        where = f"questions.{self.name}.map.{label}"
        row = self.map[label]
        out = np.zeros(len(self.answers))
        rest = [a for a, v in row.items() if v == "rest"]
        if len(rest) > 1:
            raise ParameterError("only one answer can be the rest", field=where, given=rest)
        for a, v in row.items():
            if v != "rest":
                out[self.answers.index(a)] = float(v)
        if rest:
            left = 1.0 - out.sum()
            if left < -1e-9:
                raise ParameterError("the probabilities exceed 1", field=where,
                                     allowed="a sum of at most 1 besides the rest",
                                     given=dict(row))
            out[self.answers.index(rest[0])] = max(0.0, left)
        if abs(out.sum() - 1.0) > 1e-9:
            raise ParameterError("the probabilities of a row must sum to 1", field=where,
                                 allowed="a sum of 1 (or one answer = \"rest\")",
                                 given=dict(row))
        return out

    def matrix(self, inputs: Sequence[str], never: Sequence[str] = ()) -> np.ndarray:
        """``M[a, q]``: probability of answer ``q`` for input label ``inputs[a]``; labels in
        ``never`` (inputs that cannot occur, e.g. "don't know" as a private stance) may lack
        a row (theirs is then 0).

        Raises
        ------
        ParameterError
            An input label with no row that is not an answer either.
        """
        out = np.zeros((len(inputs), len(self.answers)))
        for i, label in enumerate(inputs):
            if label in self.map:
                out[i] = self._row(label)
            elif label in self.answers:
                out[i, self.answers.index(label)] = 1.0
            elif label in never:
                continue
            else:
                raise ParameterError("the question does not say how this is answered",
                                     field=f"questions.{self.name}.map.{label}",
                                     allowed=f"a row for {label!r}", given=label)
        return out

    def labels_needed(self, stances: Sequence[str], answers: Sequence[str]) -> list[str]:
        """The input labels of this question: the stances (private source) or the voiced
        answers."""
        return list(stances if self.source == "private" else answers)


def ask(matrix: np.ndarray, codes: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Each respondent's answer code from its input code: the row's only answer where a
    row is a point mass, else an inverse-CDF draw (one uniform per respondent, drawn only
    when some row needs it).

    Examples
    --------
    >>> ask(np.eye(2), np.array([1, 0, 1]), np.random.default_rng(0)).tolist()
    [1, 0, 1]
    """
    codes = np.asarray(codes, dtype=np.int64)
    point = (matrix == 1.0).any(axis=1)
    if point.all():
        return np.argmax(matrix, axis=1)[codes]
    cdf = np.cumsum(matrix, axis=1)
    u = gen.random(len(codes))
    out = (u[:, None] >= cdf[codes]).sum(axis=1)
    return np.minimum(out, matrix.shape[1] - 1)


def expected_shares(matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The share of each answer a census would find: ``counts @ M / sum(counts)``."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts @ matrix / total if total > 0 else np.full(matrix.shape[1], np.nan)


def from_table(name: str, table: Mapping[str, Any]) -> Question:
    """A question from a scenario's ``[questions.<name>]`` table."""
    return Question(name=name, **dict(table))
