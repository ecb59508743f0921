"""Record models: the one contract every stage and the Parquet schema agree on.

Every model here is importable by worker processes (``multi_processing`` and portable runners
import this module fresh), and the Arrow schemas written to Parquet are derived from the
``*Row`` models by :mod:`transforms.schema`, never written a second time.

Models move *between* stages as values only. Stages that group records key them by plain
strings (hashes, canonical URLs): the pickled form of a pydantic object is not a deterministic
key.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

InputFormat = Literal["txt", "jsonl", "parquet"]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def has_lone_surrogates(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def replace_lone_surrogates(text: str) -> str:
    """JSON escapes such as "\\ud800" decode to lone surrogates, which no UTF-8 file can hold:
    every string that reaches Parquet passes through here (U+FFFD takes their place)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


UNDETERMINED = "und"  # Article.language when no language could be told (ISO 639-2's code for it)
INDEX_TABLE = "dedupe_index"  # the lake's table of IndexRow: what later dates match their copies against


class RawRecord(BaseModel):
    """One input record as read, before validation: where it came from and its payload.

    ``payload`` is the whole file for ``.txt``, the line for ``.jsonl`` and the row re-encoded as
    a JSON object for ``.parquet``, always decoded to ``str`` (see ``text_encoding``).
    """

    model_config = ConfigDict(frozen=True)

    source_file: str
    source_line: Optional[int] = None  # 1-based line (jsonl) or row (parquet); None for txt
    format: InputFormat
    payload: str
    text_encoding: str = "utf-8"  # 'utf-8', or the fallback that decoded it: 'cp1252', 'latin-1'


class ArticleInput(BaseModel):
    """The fields a ``.jsonl`` line or ``.parquet`` row may carry. ``text`` is required."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    text: StrictStr
    id: Optional[StrictStr] = None
    url: Optional[StrictStr] = None
    title: Optional[StrictStr] = None
    source: Optional[StrictStr] = None
    published_at: Optional[datetime] = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_may_be_a_number(cls, value):
        # Integer ids are common in exports; booleans are not ids. pandas writes an integer column
        # with gaps as float64 (1.0, 2.0, NaN): an integral float is that integer, NaN is no id;
        # 1.5 and infinities are no ids and stay the wrong type.
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value

    @field_validator("published_at", mode="before")
    @classmethod
    def _dates_are_iso_strings(cls, value):
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError(f"must be an ISO 8601 string, not a {type(value).__name__}")
        if isinstance(value, str) and not _ISO_DATE_START.match(value.strip()):
            # pydantic would also read "1700000000" as a Unix time; the contract is ISO 8601
            raise ValueError("must be an ISO 8601 date or date-time (YYYY-MM-DD...)")
        return value

    @field_validator("published_at")
    @classmethod
    def _naive_dates_are_utc(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:  # 0001-01-01T00:30+01:00 has no UTC time in datetime's range
            raise ValueError("is outside the representable range of dates once converted to UTC") from None


class Entity(BaseModel):
    """One entity mention: offsets are character offsets into the article's cleaned ``body``;
    ``canonical`` is the article's name for the entity ("Jake Sullivan" for a later "Sullivan",
    "White House" for "the White House"), ``text`` itself unless given."""

    model_config = ConfigDict(frozen=True)

    text: str
    label: str
    start: int
    end: int
    canonical: str = ""

    @model_validator(mode="after")
    def _canonical_defaults_to_text(self):
        if not self.canonical:
            object.__setattr__(self, "canonical", self.text)
        return self


class LineRemoval(BaseModel):
    """A page line the cleaner removed, and why (a reason code of transforms.clean.rules.REASONS)."""

    model_config = ConfigDict(frozen=True)

    text: str
    reason: str


class Article(BaseModel):
    """An article as it travels through the stages; later stages fill the later fields."""

    article_id: str
    source_file: str
    source_line: Optional[int] = None
    format: InputFormat = "txt"
    given_id: Optional[str] = None  # the record's own id, unique only within its publisher (no identity without one)
    url: Optional[str] = None
    canonical_url: Optional[str] = None
    source: Optional[str] = None
    given_title: Optional[str] = None
    published_at: Optional[datetime] = None
    text: str
    text_encoding: str = "utf-8"
    content_hash: str
    # Clean
    title: Optional[str] = None
    paragraphs: tuple[str, ...] = ()
    byline: Optional[str] = None
    published_text: Optional[str] = None
    removed_line_count: int = 0
    removed_lines: tuple[LineRemoval, ...] = ()  # only with keep_removed_lines
    # Dedupe
    cluster_id: Optional[str] = None  # article_id of the story's canonical article (its own when unique)
    copies: int = 0  # input records that collapsed into this article
    # Language
    language: Optional[str] = None
    language_probability: Optional[float] = None
    other_languages: tuple[str, ...] = ()
    # Entities
    entity_status: Optional[str] = None
    entities: tuple[Entity, ...] = ()
    # Faults of the stages after Dedupe, which keep the article: "stage: Type: message"
    stage_errors: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


class ArticleRow(BaseModel):
    """One row of ``articles/``: a kept article, cleaned and annotated.

    ``language`` is the Hive partition (``articles/language=xx/``) and is not stored inside the
    files; readers with Hive partitioning (DuckDB, Polars, pandas/pyarrow, Spark) restore it.
    """

    article_id: str = Field(description="Stable id, unique in the table: 'i' + hash of (publisher, the input's id), else "
                                        "'u' + hash of the canonical URL, else 'c' + hash of the content (an id without "
                                        "a publisher, neither source nor URL, is no identity).")
    given_id: Optional[str] = Field(None, description="The input's own id, as given (unique only within its publisher; "
                                                      "an integral float id such as 1.0 as 1).")
    source_file: str = Field(description="Input file the article was read from.")
    source_line: Optional[int] = Field(None, description="1-based line (jsonl) or row (parquet) in that file; null for .txt.")
    url: Optional[str] = Field(None, description="URL as given.")
    canonical_url: Optional[str] = Field(None, description="URL normalised for dedupe.")
    source: Optional[str] = Field(None, description="Publisher/source as given, else the URL's host.")
    title: Optional[str] = Field(None, description="Given title, else the title found in the page text.")
    byline: Optional[str] = Field(None, description="Author found in the page text ('By ...').")
    published_at: Optional[datetime] = Field(None, description="Publication time given in the input, UTC.")
    published_text: Optional[str] = Field(None, description="Date line found in the page text, as written.")
    body: str = Field(description="Cleaned article body; paragraphs separated by a blank line.")
    language: str = Field(description="ISO 639-1 code (langdetect, checked by CLD2 and py3langid), or 'und'. Hive "
                                      "partition column.")
    language_probability: float = Field(description="Probability of a detector that gave that language: langdetect's, or "
                                                    "py3langid's when CLD2 and py3langid overruled it (0 for 'und').")
    other_languages: list[str] = Field(default_factory=list, description="Other languages of a mixed body, each in at "
                                       "least 10% of the text (CLD2), most first.")
    entity_status: str = Field(description="'tagged', 'no_model' (no NER model for the language) or 'undetermined_language'.")
    entities: list[Entity] = Field(default_factory=list, description="Entity mentions with offsets into body.")
    char_count: int = Field(description="Characters in body.")
    word_count: int = Field(description="Whitespace-separated words in body.")
    paragraph_count: int = Field(description="Paragraphs in body.")
    removed_line_count: int = Field(description="Page lines removed as boilerplate.")
    entity_count: int = Field(description="Entity mentions in body.")
    text_encoding: str = Field(description="'utf-8', or the fallback that decoded the input: 'cp1252', 'latin-1'.")
    content_hash: str = Field(description="sha256 of the normalised page text.")
    cluster_id: str = Field(description="The story: article_id of its canonical article, which is this row "
                                        "(duplicates/ holds the copies that name it).")
    copies: int = Field(description="Input records that collapsed into this article (rows of duplicates/ naming it).")
    stage_errors: list[str] = Field(default_factory=list, description="Faults of Detect Language or Extract Entities "
                                    "on this article ('stage: Type: message'); the article is kept without that "
                                    "annotation.")


class RemovedLineRow(BaseModel):
    """One row of ``removed_lines/`` (written with ``--keep-removed-lines``): why a page line went."""

    article_id: str
    source: Optional[str] = None
    ordinal: int  # position among the article's removed lines
    text: str
    reason: str  # a reason code of transforms.clean.rules.REASONS


class EntityRow(BaseModel):
    """One row of ``entities/``: one entity of an article (its canonical name and label), with its
    mention count, the offset of its first mention and the forms it was written in."""

    article_id: str
    language: str
    text: str  # the canonical name ("Jake Sullivan" for "Sullivan", "White House" for "the White House")
    label: str
    mentions: int
    first_start: int
    forms: list[str] = Field(default_factory=list)  # as written in the body, in order of first use


class DuplicateRow(BaseModel):
    """One row of ``duplicates/``: an input record dropped as a copy of a kept article."""

    article_id: str
    given_id: Optional[str] = None
    duplicate_of: str  # the canonical article it collapsed into: always a row of articles/
    duplicate_of_dt: Optional[str] = None  # in a lake: the earlier date whose articles/ holds it (None: this run)
    cluster_id: str  # the story (the canonical article's article_id, as in articles/)
    method: str  # content | url | id | near: how it was matched
    # same_content | superseded (an earlier version of the same URL or id) | near_duplicate |
    # republished (the same URL or id as an article of an earlier date, with another body)
    reason: str
    similarity: Optional[float] = None  # estimated Jaccard similarity of its body to the kept article (None: too short)
    source_file: str
    source_line: Optional[int] = None
    url: Optional[str] = None
    source: Optional[str] = None  # publisher: as given, else the URL's host
    published_at: Optional[datetime] = None
    content_hash: str


class IndexRow(BaseModel):
    """One row of ``dedupe_index/`` (dated runs only): what later dates match their copies against,
    one row per input record that Dedupe decided on, without its text."""

    record_key: str  # unique per input record (transforms.dedupe.rules.record_key)
    article_id: str
    cluster_id: str  # the article of articles/ it is (its own id) or is a copy of
    cluster_dt: Optional[str] = None  # the date holding that article when it is an earlier one
    body_hash: str  # SHA-256 of the normalised body
    canonical_url: Optional[str] = None
    published_at: Optional[datetime] = None
    body_chars: int
    source_file: str
    source_line: Optional[int] = None
    minhash: str  # the MinHash settings of the signature: 'shingles/permutations/bands'
    signature: Optional[bytes] = None  # MinHash signature (None: too few words)
    shingles: int  # distinct shingles of the body
    # For a copy (cluster_id names another record): that article's body hash, canonical URL,
    # signature and shingles, so later copies are related to the article itself.
    cluster_body_hash: Optional[str] = None
    cluster_url: Optional[str] = None
    cluster_signature: Optional[bytes] = None
    cluster_shingles: Optional[int] = None


class RejectedRow(BaseModel):
    """One row of ``rejected/``: a record that could not be used, with enough to replay it."""

    stage: str  # read | validate | clean | language | entities
    reason: str  # a reason code, e.g. malformed_json, missing_text, bad_date, binary_content
    detail: str  # a human-readable sentence (exception type and message for faults)
    source_file: str
    source_line: Optional[int] = None
    format: Optional[str] = None
    article_id: Optional[str] = None
    payload: str  # the raw record, truncated to payload_limit characters
    payload_truncated: bool
    payload_chars: int  # length of the untruncated payload (characters; bytes for undecodable input)


class PartialRead(BaseModel):
    """An input file whose reading ended on a fault: the records after it were never read.

    Listed in ``run.json`` (``partial_files``) and in the run's summary line.
    """

    model_config = ConfigDict(frozen=True)

    source_file: str
    records_read: int  # records of the file accounted for before the fault
    reason: str  # truncated_file | unreadable_file | decompressed_too_large
    detail: str
