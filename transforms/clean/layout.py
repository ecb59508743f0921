"""Laying a page out: the title, the article's run of lines, the byline and the date.

Given the described lines (``clean_lines.describe_page``), give every line a value, its words
for prose and a penalty for short, link-like or boilerplate lines (heavy for comment forms
and footers), and take the run of lines with the largest sum, the way Body Text Extraction
finds the densest stretch of text; the run starts after the headline (the copy of the
page's <title> or of the doubled title nearest the article) and stops before the comments;
a list right after the run (tour dates, ingredients) joins it. Keep the prose and the lone
subheadings inside the run, and give every other line a reason code from ``REASONS``.
"""
from __future__ import annotations

from dataclasses import dataclass

from transforms.clean.limits import LIMITS
from transforms.clean.lines import Line, describe_page, line_fingerprint
from transforms.clean.model import CONSUMED, apply_line_model, load_line_model
from transforms.clean.patterns import RULES, Rules
from transforms.clean.results import CleanResult, RemovedLine
from transforms.clean.text import ends_with_period, line_key, normalise_lines

# --------------------------------------------------------------------------------------
# Title

_SITE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " : ", " · ", " « ", " » ")


def strip_site_name(title: str) -> str:
    """Remove trailing site names: 'Headline | News | Site.com' -> 'Headline'.

    A name is cut when it is short (at most ``LIMITS.site_name_max_chars`` characters and
    ``LIMITS.site_name_max_spaces`` spaces) and no longer than what stays; at most
    ``LIMITS.max_site_parts`` names are cut, and only from a title-sized text.
    """
    if len(title) > LIMITS.title_line_max:
        return title
    for _ in range(LIMITS.max_site_parts):
        index, sep = max((title.rfind(sep), sep) for sep in _SITE_SEPARATORS)
        if index <= 0:
            return title
        head, tail = title[:index], title[index + len(sep):]
        if (not tail or len(tail) > LIMITS.site_name_max_chars
                or tail.count(" ") > LIMITS.site_name_max_spaces or len(head) < len(tail)):
            return title
        title = head
    return title


def headline_like(line: Line) -> bool:
    """True for a line that could be a headline: a few words, not boilerplate."""
    return (LIMITS.headline_min_words <= line.words <= LIMITS.headline_max_words
            and len(line.text) <= LIMITS.title_max and line.boilerplate is None and line.has_text)


def _title_words(text: str) -> set[str]:
    """The set of lower-cased words of a title."""
    return set(line_key(text).split())


def _title_candidates(lines: list[Line], source: str, first: int) -> list[int]:
    """Indexes (from ``first`` on) of headline-like lines that repeat ``source``, the page's
    <title> line or the title hint.

    A line repeats the source when it is a large part of it ('Headline' in
    'Headline | Site') or shares most of its words ('Homemade Spiced Pear Jam for the
    Holidays' for 'Spiced Pear Jam Recipe | Site').
    """
    if len(source) > LIMITS.title_line_max:
        return []
    stripped = strip_site_name(source)
    wanted = _title_words(stripped)
    found = []
    for index in range(first, min(len(lines), LIMITS.title_search)):
        line = lines[index]
        if not headline_like(line):
            continue
        if line.text in source and len(line.text) >= LIMITS.title_part_share * len(stripped):
            found.append(index)
        elif (len(wanted) >= LIMITS.title_min_words
              and line.words <= LIMITS.title_word_ratio * len(wanted) + LIMITS.title_extra_words
              and not line.sentence):
            shared = len(wanted & _title_words(line.text))
            if shared >= LIMITS.title_shared_share * len(wanted):
                found.append(index)
    return found


def _glued_headlines(lines: list[Line], limit: int) -> list[int]:
    """Indexes, before ``limit``, of headline-like lines that a line shortly before repeats,
    alone or glued to a breadcrumb or a site name ('Home > News > Headline', 'Headline |
    Site' followed by 'Headline')."""
    found = []
    for index in range(1, min(limit, len(lines), LIMITS.title_search)):
        line = lines[index]
        if not headline_like(line) or line.words < LIMITS.glued_min_words or ends_with_period(line.text):
            continue
        for other in lines[max(0, index - LIMITS.glue_window):index]:
            if len(other.text) <= LIMITS.title_line_max and line.text in other.text:
                found.append(index)
                break
    return found


def pick_title(lines: list[Line], body_start: int,
               hint: str | None) -> tuple[str | None, int | None, int | None]:
    """Return (title, index of the line consumed as the title, index of the headline line).

    The headline line is the copy of the page's first line (its <title>) or of the hint
    closest before the body, else a headline that a nearby line repeats. The title is
    the hint without its site name when there is a hint, else the headline line, else
    the first line without its site name.
    """
    if hint is not None:
        source = " ".join(normalise_lines(hint))
        candidates = _title_candidates(lines, source, 0)
        # The first line is usually the page's <title>: a later copy is the headline.
        candidates = [index for index in candidates if index > 0] or candidates
    elif lines:
        source = lines[0].text
        candidates = _title_candidates(lines, source, 1)
    else:
        return None, None, None
    candidates = candidates or _glued_headlines(lines, body_start + 1)
    before = [index for index in candidates if index <= body_start]
    headline = before[-1] if before else (candidates[0] if candidates else None)
    if hint is not None:
        title = strip_site_name(source) or None
        consumed = headline if headline is not None and lines[headline].text == title else None
        return title, consumed, headline
    if headline is not None:
        return lines[headline].text, headline, headline
    if headline_like(lines[0]) and not ends_with_period(lines[0].text):
        return strip_site_name(lines[0].text), 0, 0
    return None, None, None


def _title_copy_reason(line: str, title: str, inside: bool) -> str | None:
    """'breadcrumb' or 'repeated_title' when ``line`` is another copy of the title; inside
    the article only an exact copy counts."""
    if line == title:
        return "repeated_title"
    if (inside or len(title) < LIMITS.title_copy_min_chars
            or title.count(" ") < LIMITS.title_copy_min_spaces
            or len(line) > len(title) + LIMITS.title_copy_extra_chars):
        return None
    index = line.find(title)
    if index < 0:
        return None
    if index > 0 and line.endswith(title) and line[:index].rstrip()[-1:] not in "|:-–—·":
        return "breadcrumb"
    return "repeated_title"


# --------------------------------------------------------------------------------------
# The main run of prose

_BARRIER_REASONS = frozenset({"comment_form", "footer", "cookie_notice"})
_WIDGET_REASONS = frozenset({"widget_heading", "subscribe", "promo"})
_IN_BODY_REASONS = frozenset({"caption", "ad_marker"})
# Lines that interrupt an article in the middle ('See also ...' boxes, ad labels): the article runs
# on across them, so they cost little and do not isolate the paragraphs around them.
_INTERRUPTION_REASONS = frozenset({"see_also", "ad_marker"})
_LIST_BREAKERS = frozenset({"widget_heading", "see_also", "subscribe", "promo"}) | _BARRIER_REASONS


def line_value(line: Line) -> float:
    """How much a line argues for being inside the article: prose words, or a penalty."""
    if line.boilerplate in _BARRIER_REASONS:
        return -LIMITS.barrier
    if line.boilerplate in _WIDGET_REASONS:
        return -LIMITS.widget_penalty
    if line.boilerplate in _INTERRUPTION_REASONS:
        return -LIMITS.interruption_penalty
    if line.boilerplate is not None or line.meta or line.repeated:
        return -LIMITS.short_penalty
    if line.prose:
        return line.words - LIMITS.line_cost
    if line.sentence and line.words >= LIMITS.sentence_min_words and not line.list_like:
        return 0.0
    return -LIMITS.short_penalty


def _heading(line: Line) -> bool:
    """A short line of plain text that could be a subheading: no boilerplate, byline, date, list
    or repetition, and at most ``LIMITS.heading_max_words`` words."""
    return (line.has_text and line.boilerplate is None and not line.meta and not line.repeated
            and not line.list_like and not line.prose and line.words <= LIMITS.heading_max_words)


def line_values(lines: list[Line]) -> list[float]:
    """``line_value`` of every line; a prose line with no prose line next to it (a teaser
    between a headline and a date) counts for only ``LIMITS.isolated_share`` of its words, and a
    short plain line right before a prose line (a subheading, a lead-in) costs only
    ``LIMITS.heading_penalty``, so an article's sections stay one run."""
    values = [line_value(line) for line in lines]
    for index in range(len(lines) - 1):
        if values[index] == -LIMITS.short_penalty and values[index + 1] > 0 and _heading(lines[index]):
            values[index] = -LIMITS.heading_penalty

    def neighbour(index: int, step: int) -> bool:
        index += step
        while 0 <= index < len(lines) and lines[index].boilerplate in _INTERRUPTION_REASONS:
            index += step
        return 0 <= index < len(lines) and values[index] >= 0

    for index, line in enumerate(lines):
        if values[index] <= 0:
            continue
        before = neighbour(index, -1)
        after = neighbour(index, 1)
        if not before and not after:
            values[index] *= LIMITS.isolated_share
    return values


def densest_run(values: list[float], lo: int = 0, hi: int | None = None) -> tuple[int, int, float]:
    """Return (start, end, sum) of the slice of ``values[lo:hi]`` with the largest sum.

    ``end`` is exclusive; when no slice has a positive sum the run is empty: (lo, lo, 0).
    """
    hi = len(values) if hi is None else hi
    best, best_start, best_end = 0.0, lo, lo
    total, start = 0.0, lo
    for index in range(lo, hi):
        if total <= 0:
            total, start = 0.0, index
        total += values[index]
        if total > best:
            best, best_start, best_end = total, start, index + 1
    return best_start, best_end, best


def _comments_start(lines: list[Line], values: list[float], after: int) -> int:
    """Index of the comment section that follows the article, or len(lines).

    A comment marker ('Comments', '12 comments', a comment form) ends the article once
    enough prose has been seen after the title.
    """
    prose = 0.0
    for index in range(after, len(lines)):
        prose += max(values[index], 0.0)
        if lines[index].boilerplate == "comment_form" and prose >= LIMITS.comments_after:
            return index
    return len(lines)


def main_run(lines: list[Line], values: list[float], headline: int | None) -> tuple[int, int]:
    """(start, end) of the article's run of lines.

    The run is looked for after the headline and before the comment section; when that
    run holds less than ``LIMITS.near_share`` of the prose of the page's densest run, the
    headline was probably a copy in a list, and the densest run of the whole page is used.
    A run that starts within ``LIMITS.first_run_lines`` after the headline and ends before the
    densest run after it wins when it holds ``LIMITS.first_run_share`` of that run's prose.
    """
    after = 0 if headline is None else headline + 1
    stop = _comments_start(lines, values, after)
    start, end, score = densest_run(values, 0, stop)
    near_start, near_end, near_score = densest_run(values, after, stop)
    if near_score >= LIMITS.near_share * score:
        if headline is not None and near_start > after + LIMITS.first_run_lines:
            # A block of prose right after the headline, apart from a denser one further down (a
            # forum, a comment thread, another article's teaser), is the article.
            first_start, _, _ = densest_run(values, after, min(stop, after + LIMITS.first_run_lines))
            first_start, first_end, first_score = _run_from(values, first_start, near_start)
            if first_start < first_end <= near_start and first_score >= LIMITS.first_run_share * near_score:
                return first_start, first_end
        return near_start, near_end
    return start, end


def _run_from(values: list[float], start: int, stop: int) -> tuple[int, int, float]:
    """(start, end, sum) of the run that starts at ``start`` and ends where its sum is largest."""
    best, best_end, total = 0.0, start, 0.0
    for index in range(start, stop):
        total += values[index]
        if total > best:
            best, best_end = total, index + 1
    return start, best_end, best


def _content_list(lines: list[Line], lo: int, hi: int) -> bool:
    """True when the short lines ``lines[lo:hi]`` read like a list of the article (tour
    dates, ingredients, steps) rather than links: no widget heading or 'see also' among
    them, no line the page repeats, and items of ``LIMITS.list_words`` words or more on
    average."""
    words = []
    for line in lines[lo:hi]:
        if line.boilerplate in _LIST_BREAKERS or line.repeated:
            return False
        if line.boilerplate is None and line.has_text:
            words.append(line.words)
    return bool(words) and sum(words) / len(words) >= LIMITS.list_words


def _link_list_lines(lines: list[Line], values: list[float], start: int, end: int) -> set[int]:
    """Indexes of lines inside the run that belong to runs of short lines that are links."""
    found: set[int] = set()
    index = start
    while index < end:
        if values[index] > 0:
            index += 1
            continue
        stop = index
        while stop < end and values[stop] <= 0:
            stop += 1
        if stop - index > LIMITS.max_short_run and not _content_list(lines, index, stop):
            found.update(range(index, stop))
        index = stop
    return found


def _list_after(lines: list[Line], values: list[float], end: int) -> int:
    """New end of the run when a list of the article follows its last paragraph."""
    stop = end
    while stop < len(lines) and values[stop] <= 0:
        line = lines[stop]
        if line.boilerplate in _IN_BODY_REASONS:
            stop += 1
            continue
        if not line.has_text or line.boilerplate is not None or line.meta or line.repeated:
            break
        stop += 1
    if stop - end >= LIMITS.list_after_min_lines and _content_list(lines, end, stop):
        return stop
    return end


def _reason_anywhere(line: Line) -> str | None:
    """Reason to remove a line wherever it stands: no text, boilerplate, an extra byline or date."""
    if not line.has_text:
        return "no_text"
    if line.boilerplate is not None:
        return line.boilerplate
    if line.author is not None:
        return "byline_extra"
    if line.date is not None:
        return "dateline"
    return None


def _reason_inside(line: Line, in_link_list: bool, seen: set[str]) -> str | None:
    """Reason to remove a line inside the main run, or None to keep it as a paragraph."""
    reason = _reason_anywhere(line)
    if reason is not None:
        return reason
    if line.text in seen:
        return "duplicate"
    if in_link_list:
        return "link_list"
    return None


def _reason_outside(line: Line) -> str:
    """Reason to remove a line outside the main run."""
    reason = _reason_anywhere(line)
    if reason is not None:
        return reason
    if line.prose:
        return "outside_main_text"
    return "navigation"


# --------------------------------------------------------------------------------------
# Byline and date

def _pick_meta(lines: list[Line], headline: int | None, end: int) -> tuple[int | None, int | None]:
    """Indexes of the byline and of the date line kept: the first after the headline and
    before ``end`` (the end of the article), else the last before the headline."""
    start = 0 if headline is None else headline

    def pick(indexes: list[int]) -> int | None:
        after = [index for index in indexes if start <= index < end and index != headline]
        before = [index for index in indexes if index < start]
        return after[0] if after else (before[-1] if before else None)

    by_index = pick([i for i, line in enumerate(lines) if line.author is not None])
    date_index = pick([i for i, line in enumerate(lines) if line.date is not None])
    return by_index, date_index


def _author_reason(text: str, byline: str | None, rules: Rules) -> str | None:
    """'byline_extra' for another copy of the byline name, 'author_bio' for a line that
    introduces the author ('Jane Doe is a reporter for ...'), else None."""
    if (byline is None or byline.count(" ") < LIMITS.author_name_min_spaces
            or not text.startswith(byline)):
        return None
    rest = text[len(byline):].split(maxsplit=1)
    if not rest:
        return "byline_extra"
    return "author_bio" if rest[0].lower() in rules.bio_verbs else None


# --------------------------------------------------------------------------------------
# Putting it together

@dataclass(frozen=True)
class Layout:
    """Where the parts of a page are: indexes into its normalised lines."""

    title: str | None
    title_index: int | None   # the line consumed as the title
    headline: int | None      # the headline line (the title's copy nearest the article)
    start: int                # the article's run of lines: lines[start:end]
    end: int
    byline_index: int | None
    date_index: int | None
    link_lists: frozenset[int]
    values: tuple[float, ...] = ()  # line_values of every line


def lay_out(lines: list[Line], title_hint: str | None) -> Layout:
    """Find the title, the article's run of lines, the byline and the date of a page."""
    values = line_values(lines)
    first_guess, _, _ = densest_run(values)
    title, title_index, headline = pick_title(lines, first_guess, title_hint)
    start, end = main_run(lines, values, headline)
    byline_index, date_index = _pick_meta(lines, headline, end)
    end = _list_after(lines, values, end)
    link_lists = frozenset(_link_list_lines(lines, values, start, end))
    return Layout(title, title_index, headline, start, end, byline_index, date_index, link_lists,
                  tuple(values))


def line_reasons(lines: list[Line], layout: Layout, byline: str | None,
                 rules: Rules = RULES) -> list[str | None]:
    """The rules' reason for every line: None for a paragraph, 'title', 'byline' or 'date' for the
    lines consumed as those, else a ``REASONS`` code."""
    reasons: list[str | None] = []
    seen: set[str] = set()
    consumed = {layout.title_index: "title", layout.byline_index: "byline", layout.date_index: "date"}
    for index, line in enumerate(lines):
        if index in consumed:
            reasons.append(consumed[index])
            continue
        inside = layout.start <= index < layout.end
        if line.recurring:
            reasons.append("recurring_in_source")
            continue
        reason = _title_copy_reason(line.text, layout.title, inside) if layout.title else None
        reason = reason or ("repeated_title" if index == layout.headline else None)
        reason = reason or _author_reason(line.text, byline, rules)
        if reason is None and inside:
            reason = _reason_inside(line, index in layout.link_lists, seen)
        elif reason is None:
            reason = _reason_outside(line)
        if reason is None:
            seen.add(line.text)
        reasons.append(reason)
    return reasons


def place_lines(lines: list[Line], reasons: list[str | None]) -> tuple[list[str], list[RemovedLine]]:
    """Sort the lines that are not the title, byline or date into paragraphs and removed."""
    paragraphs: list[str] = []
    removed: list[RemovedLine] = []
    for line, reason in zip(lines, reasons):
        if reason in CONSUMED:
            continue
        if reason is None:
            paragraphs.append(line.text)
        else:
            removed.append(RemovedLine(line.text, reason))
    return paragraphs, removed


def clean_page(text: str, title_hint: str | None = None,
               recurring: frozenset[str] = frozenset(), rules: Rules = RULES,
               line_model: bool = True) -> CleanResult:
    """Split a scraped news page into title, byline, date, body paragraphs and removed lines.

    ``title_hint`` is a title known from elsewhere (the page's <title>, a feed); it wins
    over the title found in the page, without its site name. ``recurring`` holds the
    fingerprints (``line_fingerprint``) of lines known to recur across many pages of the
    page's source; they are removed first, as ``recurring_in_source``. ``rules`` are the
    words and phrases to use (those of the shipped phrase files by default). With
    ``line_model`` (the default) the shipped line model (``clean_model``) decides again on
    every line the rules did not consume or learn; without it the rules alone decide. Never raises
    on a ``str``. Every non-blank line of the normalised page ends up in exactly one place:
    the title, the byline, the date, the paragraphs or ``removed``.
    """
    lines, layout, byline, reasons = read_page(text, title_hint, recurring, rules)
    published = lines[layout.date_index].date if layout.date_index is not None else None
    if line_model:
        reasons = apply_line_model(load_line_model(), lines, layout.values, reasons, layout.start, layout.end)
    paragraphs, removed = place_lines(lines, reasons)
    return CleanResult(layout.title, tuple(paragraphs), byline, published, tuple(removed))


def read_page(text: str, title_hint: str | None = None, recurring: frozenset[str] = frozenset(),
              rules: Rules = RULES) -> tuple[list[Line], Layout, str | None, list[str | None]]:
    """What the rules alone make of a page (``clean_page`` before the line model): its described
    lines, their layout, the byline's author and every line's reason (``line_reasons``)."""
    lines = describe_page(normalise_lines(text), rules)
    if recurring:
        for line in lines:
            if line_key(line.text) and line_fingerprint(line.text) in recurring:
                _mark_recurring(line)
    layout = lay_out(lines, title_hint)
    byline = lines[layout.byline_index].author if layout.byline_index is not None else None
    return lines, layout, byline, line_reasons(lines, layout, byline, rules)


def _mark_recurring(line: Line) -> None:
    """A line learnt as the source's boilerplate is never body, title, byline or date, but it stays
    in the layout: a comment form or footer that recurs still ends the article, and a recurring
    line still breaks a list (so a list of teasers after it does not join the body)."""
    line.recurring = True
    line.author = line.date = None
    if line.boilerplate not in _BARRIER_REASONS:
        line.boilerplate = "recurring_in_source"
