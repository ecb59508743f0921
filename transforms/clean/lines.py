"""Describing lines: what the rules know about each line of a page, taken alone.

For every normalised line: its length in words, whether it ends like a sentence, whether it
is a list ('A | B | C', tag clouds), a boilerplate label or phrase (and which ``REASONS``
code), a breadcrumb, a caption, a byline or a date line; ``describe_page`` adds whether the
page repeats it. The words and phrases come from ``Rules`` (``clean_patterns.RULES`` unless
given); the numbers from ``LIMITS``. Phrase, label and date checks only look at the first
few hundred characters of a line.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from transforms.clean.limits import LIMITS
from transforms.clean.patterns import RULES, Rules
from transforms.clean.text import CLOSERS, ends_sentence, line_key, normalise_lines, word_count

_BREADCRUMB_SEPARATORS = ">»›"
_GLUED_WORDS = re.compile(r"[a-zß-ÿ][A-ZÀ-Þ]")  # 'HomeTop StoriesThe US': links glued together
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_PUNCTUATION = frozenset(".,;:!?。，、；：！？")
# Every date the date pattern knows has a four-digit year or a d/m/y group: look for those first.
_YEAR_LIKE = re.compile(r"(?:19|20)\d\d|\d[./-]\d{1,2}[./-]\d")


# --------------------------------------------------------------------------------------
# Dates, bylines and names

def find_date(line: str, rules: Rules = RULES) -> str | None:
    """Return the first date written in ``line`` (as written), or None."""
    head = line[:LIMITS.date_scan]
    for year in _YEAR_LIKE.finditer(head):
        window = max(0, year.start() - LIMITS.date_before_year)
        match = rules.date.search(head, window, year.end() + LIMITS.date_after_year)
        if match:
            return match.group(0)
    return None


def _name_tokens(text: str, rules: Rules) -> list[str] | None:
    """Return the tokens of a person's or agency's name at the start of ``text``, or None.

    A name is one to ``LIMITS.name_max_tokens`` words that start with a capital letter
    (joiners such as 'and', 'van', 'de' allowed inside), stopping at the first separator or
    lower-case word.
    """
    stop = rules.name_stop.search(text)
    head = text[:stop.start()] if stop else text
    tokens = []
    for token in head.split():
        if token.endswith(":"):
            break
        if token[0].isupper() or token[0] in "@":
            tokens.append(token)
        elif token.lower() in rules.name_joiners and tokens:
            tokens.append(token)
        else:
            break
    while tokens and tokens[-1].lower() in rules.name_joiners:
        tokens.pop()
    if not 1 <= len(tokens) <= LIMITS.name_max_tokens:
        return None
    if any(any(ch.isdigit() for ch in t) for t in tokens):
        return None
    return tokens


def find_byline(line: str, rules: Rules = RULES) -> str | None:
    """Return the author named by a line such as 'By Jane Doe', 'Par Jean Dupont', or None."""
    if len(line) > LIMITS.meta_max:
        return None
    n_words = len(line.split())
    if n_words > LIMITS.byline_max_words or (
            n_words > LIMITS.byline_sentence_words and ends_sentence(line)):
        return None
    start = rules.byline_start.match(line)
    if not start:
        return None
    tokens = _name_tokens(line[start.end():], rules)
    return " ".join(tokens).rstrip(".:") if tokens else None


def looks_like_name(line: str, rules: Rules = RULES) -> bool:
    """True for a short line that is only a name ('Sarah E. Needleman')."""
    if len(line) > LIMITS.name_line_max:
        return False
    tokens = _name_tokens(line, rules)
    return (bool(tokens) and len(tokens) == len(line.split())
            and len(tokens) >= LIMITS.name_line_min_tokens)


# --------------------------------------------------------------------------------------
# Boilerplate

def is_breadcrumb(line: str, words: float, rules: Rules = RULES) -> bool:
    """True for a navigation trail: 'Home > News > World', 'Accueil › Monde', 'HomeWorld'."""
    if words > LIMITS.breadcrumb_max_words or ends_sentence(line):
        return False
    separators = sum(line.count(sep) for sep in _BREADCRUMB_SEPARATORS)
    if rules.breadcrumb_start.match(line):
        return (separators >= LIMITS.breadcrumb_home_min_separators
                or len(_GLUED_WORDS.findall(line)) >= LIMITS.breadcrumb_min_glued)
    return separators >= LIMITS.breadcrumb_min_separators and words <= LIMITS.breadcrumb_bare_max_words


def _label_reason(line: str, words: float, rules: Rules) -> str | None:
    """Reason code when a short line is a boilerplate label ('Share', '12 Comments'), a
    breadcrumb, or starts like one ('See also ...', 'Share via email', 'Follow us on')."""
    if len(line) > LIMITS.prefix_line_max:
        return None
    key = line_key(line)
    if not key:
        return None
    if is_breadcrumb(line, words, rules):
        return "breadcrumb"
    if len(line) <= LIMITS.label_max:
        for reason, labels in rules.labels:
            if key in labels:
                return reason
    return _prefix_reason(line, key, words, rules)


def _prefix_reason(line: str, key: str, words: float, rules: Rules) -> str | None:
    """Reason code for a short line that starts like a label (``key`` is ``line_key``)."""
    bare = line.rstrip(CLOSERS)
    unfinished = bare[-1:] not in ".!?" or bare.endswith("..")
    lowered = line.lower()
    if (words <= LIMITS.see_also_words and unfinished
            and (rules.see_also.match(key) or rules.see_also_site.match(lowered))):
        return "see_also"
    if unfinished and ((words <= LIMITS.more_prefix_words and rules.more_prefix.match(key))
                       or (words <= LIMITS.widget_prefix_words and rules.widget_prefix.match(key))):
        return "widget_heading"
    if words <= LIMITS.share_prefix_words and unfinished and rules.share_prefix.match(key):
        return "share"
    if rules.gallery_counter.match(line):
        return "caption"
    if words <= LIMITS.newsletter_words and any(word in key for word in rules.newsletter_words):
        return "subscribe"
    if words <= LIMITS.follow_words and rules.follow_prefix.match(lowered):
        return "promo"
    about = rules.about_prefix.match(line)
    if words <= LIMITS.about_words and about and looks_like_name(line[about.end():], rules):
        return "author_bio"
    tokens = key.split()
    if len(tokens) >= LIMITS.social_min_tokens and all(token in rules.social_words for token in tokens):
        return "share"
    if words <= LIMITS.comment_count_words and rules.comment_count.search(lowered):
        return "comment_form"
    return None


def boilerplate_reason(line: str, words: float | None = None, rules: Rules = RULES) -> str | None:
    """Reason code from ``REASONS`` when ``line`` is a boilerplate phrase, else None."""
    if words is None:
        words = word_count(line)
    reason = _label_reason(line, words, rules)
    if reason:
        return reason
    head = line[:LIMITS.scan].lower()
    match = rules.phrases_any_line.search(head)
    if match is None and words <= LIMITS.short_phrase_words:
        match = rules.phrases_short_line.search(head)
    if match is not None:
        return match.lastgroup
    if len(line) <= LIMITS.title_max and (
            rules.caption_start.match(head) or rules.caption_anywhere.search(head)):
        return "caption"
    return None


def looks_like_list(line: str, words: float, sentence: bool) -> bool:
    """True for a line of items rather than prose: 'A | B | C', 'tag, tag, tag, tag',
    or ``LIMITS.long_words`` words or more without a single punctuation mark (a tag
    cloud). Separators only count when they are dense: prose uses ' - ' as a dash now and
    then."""
    head = line[:LIMITS.scan]
    head_words = min(words, head.count(" ") + 1)
    bars = head.count(" | ") + head.count(" • ") + head.count(" · ")
    if bars >= LIMITS.list_min_bars and head_words <= LIMITS.list_words_per_bar * (bars + 1):
        return True
    dashes = head.count(" - ")
    if dashes >= LIMITS.list_min_dashes and head_words <= LIMITS.list_words_per_dash * (dashes + 1):
        return True
    commas = head.count(",")
    if (not sentence and commas >= LIMITS.list_min_commas
            and min(words, LIMITS.list_comma_words_cap) <= LIMITS.list_words_per_comma * commas):
        return True
    return words >= LIMITS.long_words and not any(ch in _PUNCTUATION for ch in head)


# --------------------------------------------------------------------------------------
# Describing lines

@dataclass
class Line:
    """What the rules know about one normalised line of the page."""

    text: str
    words: float
    sentence: bool
    boilerplate: str | None
    has_text: bool
    list_like: bool = False
    repeated: bool = False
    author: str | None = None
    date: str | None = None
    recurring: bool = False  # found on many pages of the page's source (learnt from the run)

    @property
    def prose(self) -> bool:
        """True for a line that reads like a paragraph of running text."""
        return self.has_text and not self.list_like and (
            (self.sentence and self.words >= LIMITS.prose_words) or self.words >= LIMITS.long_words)

    @property
    def meta(self) -> bool:
        """True for a byline or a date line."""
        return self.author is not None or self.date is not None


def _is_date_line(line: str, date: str | None) -> bool:
    """True when a short line is mostly a date ('Reuters November 18, 2019 11:03 PM')."""
    if date is None or len(line) > LIMITS.meta_max:
        return False
    return len(line_key(line.replace(date, " ")).split()) <= LIMITS.date_line_other_words


# What describe_line found for short lines with the default rules: menus, footers and labels recur on
# every page of a site, so each is described once per process. Only values that describe_page and
# clean_page never change are kept; every call gets a fresh Line.
_REMEMBERED: dict[str, tuple] = {}


def forget_described_lines() -> None:
    """Empty the memory of described lines (for timing the rules from a cold start)."""
    _REMEMBERED.clear()


def describe_line(line: str, rules: Rules = RULES) -> Line:
    """Compute the features of one normalised line."""
    if rules is not RULES or len(line) > LIMITS.remembered_line_max:
        return _describe_line(line, rules)
    fields = _REMEMBERED.get(line)
    if fields is None:
        described = _describe_line(line, rules)
        fields = (described.words, described.sentence, described.boilerplate, described.has_text,
                  described.list_like, described.author, described.date)
        if len(_REMEMBERED) >= LIMITS.remembered_lines:
            _REMEMBERED.clear()
        _REMEMBERED[line] = fields
        return described
    words, sentence, boilerplate, has_text, list_like, author, date = fields
    return Line(text=line, words=words, sentence=sentence, boilerplate=boilerplate, has_text=has_text,
                list_like=list_like, author=author, date=date)


def _describe_line(line: str, rules: Rules) -> Line:
    words = word_count(line)
    sentence = ends_sentence(line)
    described = Line(
        text=line,
        words=words,
        sentence=sentence,
        boilerplate=boilerplate_reason(line, words, rules),
        has_text=_LETTER_OR_DIGIT.search(line) is not None,
        list_like=looks_like_list(line, words, sentence),
    )
    if len(line) <= LIMITS.meta_max:
        described.author = find_byline(line, rules)
        date = find_date(line, rules)
        if described.author is not None or _is_date_line(line, date):
            described.date = date
    return described


def describe_page(lines: list[str], rules: Rules = RULES) -> list[Line]:
    """Describe every line, marking repeated lines and names on the line after a lone 'By'."""
    described = [describe_line(line, rules) for line in lines]
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    for index, line in enumerate(described):
        line.repeated = counts[line.text] > 1
        if (line.text.lower() in rules.lone_by_words and index + 1 < len(described)
                and looks_like_name(described[index + 1].text, rules)):
            line.boilerplate = "byline_extra"
            described[index + 1].author = described[index + 1].text
    return described


# --------------------------------------------------------------------------------------
# Fingerprints of lines, for lines that recur across the pages of a source

def line_fingerprint(line: str) -> str:
    """A short, stable fingerprint of a normalised line, for counting lines across pages."""
    return hashlib.blake2b(line_key(line).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def page_fingerprints(text: str) -> frozenset[str]:
    """The distinct line fingerprints of one page (lines without words are left out)."""
    return frozenset(line_fingerprint(line) for line in normalise_lines(text) if line_key(line))
