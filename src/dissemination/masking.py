"""Masking: withheld subjects and withheld spans never leak through the text a reader sees.

Structured redaction removes a withheld subject from a view's `subjects`; the
shown text may still name it ("the driver uses phone +44 7700 900123"). Here
every mention of a withheld subject in a shown text (the title at `sanitised`
and `full`, every shown portion, the grading conditions) is replaced by a mask
that says what was removed without revealing it (`[WITHHELD phone]`), and
every inline span (`dissemination.spans`) above the reader's vetting by
`[WITHHELD]`. Spans the reader passes are shown with their markers removed.

Where it happens, both steps pure:

1. `decide` calls `plan_masks`, which finds the mentions and spans and returns
   a `MaskPlan`: for each shown text, the edits (offsets and replacements,
   never the masked value) and the reasons ("a withheld phone was masked in
   portion p2"). The decision carries the edits in `Decision.masks`.
2. the renderers (`dissemination.redaction`) apply them with `masked_text`,
   in the JSON document and the plain text alike.

Fail closed:

- a shown subject whose own identifier mentions a withheld subject (the same
  vehicle entered twice, once with a marking) is withheld too; otherwise the
  structured `subjects` list would show what the text masks;
- when two mentions overlap, the union of their stretches is masked;
- a text that carries span markers but has no edits in the decision (a
  decision made by hand, or for another item) has every span masked.

An item with no withheld subject and no span markers costs two substring
searches per shown text, and nothing else.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dissemination.mentions import Finder, Matcher, Prepared, mention_finder, subject_texts
from dissemination.models import Item
from dissemination.spans import Span, has_spans, parse_spans
from dissemination.vocabulary import View, Vocabulary

__all__ = [
    "CONDITIONS",
    "PORTION",
    "SPAN_MASK",
    "TITLE",
    "Edit",
    "MaskPlan",
    "TextMask",
    "apply_mask",
    "index_masks",
    "masked_text",
    "plan_masks",
    "subject_mask",
]

SPAN_MASK = "[WITHHELD]"
"""What a reader reads in place of an inline span above their vetting."""

TITLE = "title"
"""`TextMask.part` of the item's title."""

PORTION = "portion"
"""`TextMask.part` of a portion's text."""

CONDITIONS = "conditions"
"""`TextMask.part` of the grading conditions."""


def subject_mask(types: Sequence[str]) -> str:
    """What a reader reads in place of a mention of a withheld subject.

    Args:
        types: the subject types of the mentions masked at this place (one,
            or more when mentions of several subjects overlap).

    Returns:
        `[WITHHELD vehicle]`, or `[WITHHELD person/vehicle]` for overlaps.
    """
    return f"[WITHHELD {'/'.join(sorted(set(types)))}]"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `text[start:end]` with `replacement` (a mask, or nothing for a span marker).

    Attributes:
        start: the first character replaced.
        end: just after the last character replaced.
        replacement: `[WITHHELD ...]`, or `""` for a span marker the reader passes.
    """

    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class TextMask:
    """The edits to one shown text: offsets and masks, never the masked value.

    Attributes:
        part: `title`, `portion` or `conditions`.
        id: the portion id (empty for the title and the conditions).
        length: the length of the text the edits are for (a guard against
            applying them to another text).
        edits: in order, not overlapping.
        subject_types: the types of the withheld subjects masked in the text.
        spans: how many inline spans above the reader's vetting were masked.
    """

    part: str
    id: str
    length: int
    edits: tuple[Edit, ...]
    subject_types: tuple[str, ...] = ()
    spans: int = 0

    @property
    def where(self) -> str:
        """The place, in a reader's words: `the title`, `portion p2`, `the conditions`."""
        return f"portion {self.id}" if self.part == PORTION else f"the {self.part}"


@dataclass(frozen=True, slots=True)
class MaskPlan:
    """What masking changes in a decision.

    Attributes:
        masks: the edits for each shown text that needs any.
        hidden: positions of subjects the decision showed that must be
            withheld, because their own identifier mentions a withheld subject.
    """

    masks: tuple[TextMask, ...] = ()
    hidden: tuple[int, ...] = ()

    def reasons(self) -> tuple[tuple[str, str], ...]:
        """The reasons to add to the decision: (rule, words), with no trace of any value.

        Returns:
            `mask.subject` and `mask.span` reasons, in the order of the texts.
        """
        reasons: list[tuple[str, str]] = []
        for mask in self.masks:
            types = mask.subject_types
            if len(types) == 1:
                reasons.append(
                    ("mask.subject", f"a withheld {types[0]} was masked in {mask.where}")
                )
            elif types:
                reasons.append(
                    (
                        "mask.subject",
                        f"withheld subjects ({', '.join(types)}) were masked in {mask.where}",
                    )
                )
            if mask.spans:
                passage = "a passage" if mask.spans == 1 else "passages"
                verb = "was" if mask.spans == 1 else "were"
                reasons.append(
                    ("mask.span", f"{passage} above your vetting {verb} masked in {mask.where}")
                )
        return tuple(reasons)


_EMPTY_PLAN = MaskPlan()

Labelled = tuple[Finder, str]
"""A withheld subject's mention finder and its type (the mask's label)."""


# -- planning (called by decide) -------------------------------------------------------------


def plan_masks(
    item: Item,
    *,
    view: View,
    portions: Sequence[str],
    subjects: Sequence[int],
    conditions: bool,
    rank: int,
    vocabulary: Vocabulary,
) -> MaskPlan:
    """Find what must be masked in the texts a decision shows.

    Args:
        item: the item decided on.
        view: the decision's view (the title is shown from `sanitised` up).
        portions: the ids of the portions shown.
        subjects: the positions of the subjects shown; every other subject is
            withheld and its mentions are masked.
        conditions: whether the grading conditions are shown.
        rank: the reader's vetting rank (`facts.reader_rank`), for inline spans.
        vocabulary: the profile's vocabulary, for the levels of inline spans.

    Returns:
        The plan (empty when nothing needs masking).
    """
    if view < View.GIST:
        return _EMPTY_PLAN
    texts: list[tuple[str, str, str, bool]] = []  # (part, id, text, spans allowed)
    if view >= View.SANITISED:
        texts.append((TITLE, "", item.title, True))
    shown_portions = set(portions)
    texts.extend(
        (PORTION, portion.id, portion.text, True)
        for portion in item.portions
        if portion.id in shown_portions
    )
    if conditions and item.grading is not None and item.grading.conditions:
        texts.append((CONDITIONS, "", item.grading.conditions, False))

    shown_subjects = set(subjects)
    withheld = [index for index in range(len(item.subjects)) if index not in shown_subjects]
    if not withheld and not any(spans and has_spans(text) for _, _, text, spans in texts):
        return _EMPTY_PLAN  # the hot path: nothing withheld, no marker

    finders: list[Labelled] = [
        (mention_finder(item.subjects[i]), item.subjects[i].type) for i in withheld
    ]
    hidden, matcher = _hidden_subjects(item, subjects, finders)
    parsed = [parse_spans(text) if spans_allowed else () for _, _, text, spans_allowed in texts]
    # Texts without spans are searched together, in one pass (`_find_together`).
    plain = [index for index, spans in enumerate(parsed) if not spans]
    found: dict[int, list[tuple[int, int, str]]] = {}
    if matcher is not None:
        together = _find_together(matcher, [texts[index][2] for index in plain])
        found = dict(zip(plain, together, strict=True))
    masks = []
    for index, (part, key, text, _) in enumerate(texts):
        mask = _mask_text(
            part,
            key,
            text,
            matcher,
            spans=parsed[index],
            found=found.get(index, ()),
            rank=rank,
            vocabulary=vocabulary,
        )
        if mask is not None:
            masks.append(mask)
    return MaskPlan(tuple(masks), hidden)


_JOINER = "\n" + "\x00" * 6 + "\n"
"""What stands between two texts searched together: more than any gap of a form allows
(up to 4 characters), and nothing a decoding, a spelled-out `at` or a name's extension
reads across, so no mention spans two texts."""


def _find_together(matcher: Matcher, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """The mentions in each of several texts, found in one pass over them joined.

    One fold and one automaton pass for all of a decision's texts instead of
    one per text: the fixed cost per text is gone, which is most of the cost of
    an item of many short portions.

    Args:
        matcher: the withheld subjects' matcher.
        texts: the texts (without inline spans).

    Returns:
        For each text, its mentions (start, end, label) in its own offsets.
    """
    if not texts:
        return []
    starts: list[int] = []
    position = 0
    for text in texts:
        starts.append(position)
        position += len(text) + len(_JOINER)
    per_text: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    for start, end, label in matcher.find(Prepared(_JOINER.join(texts))):
        index = max(bisect.bisect_right(starts, start) - 1, 0)
        while index < len(texts) and starts[index] < end:  # clipped to every text it touches
            base = starts[index]
            first, last = max(start, base) - base, min(end - base, len(texts[index]))
            if first < last:
                per_text[index].append((first, last, label))
            index += 1
    return per_text


def _hidden_subjects(
    item: Item, shown: Sequence[int], finders: list[Labelled]
) -> tuple[tuple[int, ...], Matcher | None]:
    """Shown subjects whose identifier mentions a withheld one (they are withheld too).

    Repeated until nothing changes, since a subject withheld this way may in
    turn be mentioned by another. `finders` gains the hidden subjects' finders.

    Returns:
        The hidden subjects' positions, and the matcher of every finder
        (withheld and hidden); None when there is none.
    """
    everything = Matcher(finders) if finders else None
    # Each round searches every remaining shown subject's texts, together in
    # one pass, for the finders added since the last (a subject not hidden by
    # the earlier finders will not be by them again).
    remaining = {index: subject_texts(item.subjects[index]) for index in shown}
    hidden: list[int] = []
    checked = 0
    while checked < len(finders) and remaining:
        matcher = everything if checked == 0 and everything else Matcher(finders[checked:])
        checked = len(finders)
        owners = [index for index, texts in remaining.items() for _ in texts]
        joined = [text for texts in remaining.values() for text in texts]
        mentioned = {owners[at] for at, hits in enumerate(_find_together(matcher, joined)) if hits}
        for index in sorted(mentioned):
            del remaining[index]
            hidden.append(index)
            subject = item.subjects[index]
            finders.append((mention_finder(subject), subject.type))
    if hidden:
        everything = Matcher(finders)
    return tuple(sorted(hidden)), everything


class _Display:
    """A text as the reader would read it after its spans: withheld ones masked, markers gone.

    Mentions are searched in this text (so a mention split by a marker is
    found), and its offsets are mapped back to the original text.
    """

    __slots__ = ("raw_ends", "raw_starts", "replaced", "starts", "text")

    def __init__(self, text: str, spans: Sequence[Span], passes: Sequence[bool]) -> None:
        pieces: list[str] = []
        self.starts: list[int] = []  # display offset where each segment starts
        self.raw_starts: list[int] = []
        self.raw_ends: list[int] = []
        self.replaced: list[bool] = []
        length = 0
        position = 0

        def segment(raw_start: int, raw_end: int, shown: str, replaced: bool) -> None:
            nonlocal length
            if not shown:
                return
            pieces.append(shown)
            self.starts.append(length)
            self.raw_starts.append(raw_start)
            self.raw_ends.append(raw_end)
            self.replaced.append(replaced)
            length += len(shown)

        for span, passed in zip(spans, passes, strict=True):
            segment(position, span.start, text[position : span.start], replaced=False)
            if passed:
                segment(span.body, span.close, text[span.body : span.close], replaced=False)
            else:
                segment(span.start, span.end, SPAN_MASK, replaced=True)
            position = span.end
        segment(position, len(text), text[position:], replaced=False)
        self.text = "".join(pieces)

    def raw(self, start: int, end: int) -> tuple[int, int]:
        """The stretch of the original text that display `[start, end)` came from."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, end - 1) - 1
        raw_start = (
            self.raw_starts[first]
            if self.replaced[first]
            else self.raw_starts[first] + start - self.starts[first]
        )
        raw_end = (
            self.raw_ends[last]
            if self.replaced[last]
            else self.raw_starts[last] + end - self.starts[last]
        )
        return raw_start, raw_end


def _span_passes(span: Span, rank: int, vocabulary: Vocabulary) -> bool:
    level = vocabulary.canonical_vetting(span.level)
    return level is not None and rank >= vocabulary.vetting_rank(level)  # unknown: fail closed


def _mask_text(
    part: str,
    key: str,
    text: str,
    matcher: Matcher | None,
    spans: Sequence[Span],
    *,
    found: Sequence[tuple[int, int, str]] = (),
    rank: int,
    vocabulary: Vocabulary,
) -> TextMask | None:
    """The edits for one text, or None when it is shown as it is.

    `found`: the mentions in a text without spans, found with the others
    (`_find_together`); a text with spans is searched here, as its reader reads it.
    """
    # Stretches of the original text: (start, end, subject type, or "" for a
    # withheld span, or None for a marker the reader passes).
    stretches: list[tuple[int, int, str | None]] = []
    passes = [_span_passes(span, rank, vocabulary) for span in spans]
    for span, passed in zip(spans, passes, strict=True):
        if passed:
            stretches.append((span.start, span.body, None))
            stretches.append((span.close, span.end, None))
        else:
            stretches.append((span.start, span.end, ""))
    if matcher is not None and spans:
        display = _Display(text, spans, passes)
        for start, end, label in matcher.find(Prepared(display.text)):
            raw_start, raw_end = display.raw(start, end)
            stretches.append((raw_start, raw_end, label))
    stretches.extend(found)
    if not stretches:
        return None
    edits, types = _merge(stretches)
    return TextMask(
        part=part,
        id=key,
        length=len(text),
        edits=edits,
        subject_types=types,
        spans=passes.count(False),
    )


def _merge(
    stretches: list[tuple[int, int, str | None]],
) -> tuple[tuple[Edit, ...], tuple[str, ...]]:
    """Merge overlapping stretches into non-overlapping edits; a mention's mask wins."""
    stretches.sort(key=lambda stretch: (stretch[0], -stretch[1]))
    edits: list[Edit] = []
    all_types: set[str] = set()
    start, end, label = stretches[0]
    labels = {label}
    for next_start, next_end, next_label in stretches[1:]:
        if next_start < end:
            end = max(end, next_end)
            labels.add(next_label)
            continue
        edits.append(Edit(start, end, _replacement(labels, all_types)))
        start, end, labels = next_start, next_end, {next_label}
    edits.append(Edit(start, end, _replacement(labels, all_types)))
    return tuple(edits), tuple(sorted(all_types))


def _replacement(labels: set[str | None], all_types: set[str]) -> str:
    types = [label for label in labels if label]
    if types:
        all_types.update(types)
        return subject_mask(types)
    if "" in labels:
        return SPAN_MASK
    return ""  # a span marker the reader passes


# -- applying (called by the renderers) ------------------------------------------------------------


def apply_mask(text: str, mask: TextMask) -> str:
    """Apply a text's edits.

    Args:
        text: the original text (a title, a portion's text, the conditions).
        mask: its edits, from the decision.

    Returns:
        The text as the reader reads it.

    Raises:
        ValueError: the edits are for a text of another length (the decision
            was made for another item).
    """
    if len(text) != mask.length:
        raise ValueError("the decision's masks are for another text: decide again for this item")
    pieces: list[str] = []
    position = 0
    for edit in mask.edits:
        pieces.append(text[position : edit.start])
        pieces.append(edit.replacement)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


MaskIndex = Mapping[tuple[str, str], TextMask]
"""A decision's masks by (part, portion id): a renderer looks each text's up once."""


def index_masks(masks: Sequence[TextMask]) -> MaskIndex:
    """A decision's masks by the text they are for, so rendering n texts costs n lookups.

    Args:
        masks: `Decision.masks`.

    Returns:
        The masks by `(part, id)`.
    """
    return {(mask.part, mask.id): mask for mask in masks}


def masked_text(masks: Sequence[TextMask] | MaskIndex, part: str, key: str, text: str) -> str:
    """A shown text as the reader reads it, given a decision's masks.

    Args:
        masks: `Decision.masks`, or their `index_masks` (the renderers').
        part: `title`, `portion` or `conditions`.
        key: the portion id (empty for the title and the conditions).
        text: the original text.

    Returns:
        The masked text; the text itself when nothing in it is masked.

    Raises:
        ValueError: the masks are for another text (see `apply_mask`).
    """
    found = (
        masks.get((part, key))
        if isinstance(masks, Mapping)
        else next((mask for mask in masks if mask.part == part and mask.id == key), None)
    )
    if found is not None:
        return apply_mask(text, found)
    if part != CONDITIONS and has_spans(text):
        # Markers with no edits: the decision was not made for this text. Fail
        # closed: every span is masked (unparseable markers: the whole text).
        try:
            spans = parse_spans(text)
        except ValueError:
            return SPAN_MASK
        edits = tuple(Edit(span.start, span.end, SPAN_MASK) for span in spans)
        return apply_mask(text, TextMask(part, key, len(text), edits, spans=len(spans)))
    return text
