"""Language: langdetect on the cleaned body, checked by two more detectors, deterministic and thread-safe.

langdetect (the primary detector) reads the first ``max_chars`` characters of the body (default
1,000): its cost grows with the text it reads, and the start of an article tells its language as
well as the whole. Every detector reads the body without its invisible format characters
(zero-width spaces, soft hyphens, bidi marks: :func:`transforms.text.remove_invisible`), which
between letters break the n-grams they count (a body with a zero-width space after every letter
read as Welsh). Its module-level detector is shared and random unless seeded, so the stage builds
a private ``DetectorFactory`` (profiles loaded in sorted order, seed fixed). Each detection makes its
own ``Detector``, which draws from its own ``random.Random`` seeded from the factory: the same body
gets the same answer on any runner, with any number of threads.

langdetect knows 55 languages and answers one of them for any text. Two detectors that ship their
models on PyPI vote beside it, on up to ``vote_chars`` characters of the body:

* CLD2 (``pycld2``), which knows about 80 languages more, says when it is reliable and, for a
  mixed text, gives each language's share of it.
* py3langid (a langid.py model), which gives a probability.

The rules, in order (:func:`decide`):

1. langdetect has no answer (too few letters, or no language reaches ``min_probability``): ``und``.
2. CLD2 is reliable and names a language langdetect does not know: that language if py3langid
   agrees; langdetect's answer if py3langid agrees with langdetect with at least
   ``keep_probability``; otherwise the detectors disagree and the answer is ``und``.
3. CLD2 is reliable and py3langid agrees with it on another language langdetect knows (for a mixed
   article, the language of most of it when langdetect read the start in another): theirs.
4. CLD2 has no answer and py3langid names, with at least ``keep_probability``, a language langdetect
   does not know: py3langid's.
5. Otherwise langdetect's answer.

py3langid is asked only when CLD2 is unsure or disagrees with langdetect: when CLD2 is reliable and
agrees, no rule needs it (most articles; on 600 BBC bodies it would add 0.9 ms to the 1.7 ms an
article the stage takes).

Codes are ISO 639-1; a language without one (CLD2 and py3langid know some) gives ``und``.
Norwegian is written ``nb`` (Bokmål, the usual written standard) or ``nn`` (Nynorsk, when the rules
above find it). ``language_probability`` is the probability of a detector that gave the answer:
langdetect's (at least ``min_probability``), or py3langid's when CLD2 and py3langid agreed against
it, which can be lower: their agreement is the confidence then. ``other_languages`` lists the other
languages that CLD2 finds in at least ``other_share`` of the text.
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from typing import NamedTuple, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from transforms.config import LanguageConfig, RunConfig
from transforms.records import UNDETERMINED, Article
from transforms.rejects import REJECTED, DeadLetterDoFn, StageOutput, mark_stage_error
from transforms.text import remove_invisible

STAGE = "language"
SEED = 0
# langdetect reports Chinese as zh-cn / zh-tw; ISO 639-1 has one code for it.
_LANGDETECT_CHINESE = {"zh-cn": "zh", "zh-tw": "zh"}
# The detectors' own spellings of a language, to ISO 639-1: langdetect's Chinese and no, CLD2's
# iw, jw, zh-Hant and sr-ME.
_TO_ISO_639_1 = {**_LANGDETECT_CHINESE, "zh-Hant": "zh", "no": "nb", "iw": "he", "jw": "jv", "sr-ME": "sr"}


def normal_code(code: Optional[str]) -> Optional[str]:
    """A detector's code in the spelling this module uses: ISO 639-1 where the language has a
    two-letter code, else the detector's own (CLD2's 'haw', py3langid's 'nso'); None for unknown."""
    if not code or code == "un":
        return None
    return _TO_ISO_639_1.get(code, code)


def iso_639_1(code: Optional[str]) -> Optional[str]:
    """A detector's code as ISO 639-1, or None (unknown, or a language without a two-letter code)."""
    code = normal_code(code)
    return code if code and len(code) == 2 and code.isalpha() and code.islower() else None


def build_detector_factory(seed: int = SEED):
    """A private, seeded langdetect factory with every shipped profile, loaded in sorted order."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    profiles = []
    for name in sorted(os.listdir(PROFILES_DIRECTORY)):
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
            profiles.append(handle.read())
    factory.load_json_profile(profiles)
    factory.seed = seed
    return factory


class Detectors:
    """The three detectors of one worker process; read-only once built, so threads share them.

    py3langid's model (0.45 s and 73 MiB) loads the first time an article needs it: most articles
    never ask it (CLD2 is sure and agrees with langdetect), so a small run may never load it."""

    def __init__(self, seed: int = SEED):
        self.langdetect = build_detector_factory(seed)
        # What langdetect knows, in the codes this module writes (nb for its Norwegian).
        self.known = frozenset(iso_639_1(code) for code in self.langdetect.get_lang_list())
        self._langid = None
        self._lock = threading.Lock()

    @property
    def langid(self):
        if self._langid is None:
            with self._lock:
                if self._langid is None:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    self._langid = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._langid


# Chinese, Japanese and Korean letters: one carries about as much as a short word.
_WIDE = re.compile("[\u3040-\u309a\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                   "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]")
# Vowel signs and other combining marks of the Indic scripts (Devanagari to Sinhala).
_INDIC_MARKS = re.compile("[\u0900-\u0dff]")


def letter_count(text: str, enough: int) -> int:
    """How much text there is to tell a language from: letters, plus the vowel signs of Indic
    scripts (combining marks, which ``str.isalpha`` leaves out), with each Chinese, Japanese or
    Korean letter counted three times. Counts exactly only up to ``enough``."""
    letters = sum(map(str.isalpha, text))
    if letters >= enough:
        return letters
    marks = sum(1 for ch in _INDIC_MARKS.findall(text) if unicodedata.category(ch) in ("Mn", "Mc"))
    return letters + marks + 2 * len(_WIDE.findall(text))


def supported_languages(factory) -> frozenset[str]:
    """The languages langdetect can answer, as it names them (``no`` for Norwegian), zh for Chinese."""
    return frozenset(_LANGDETECT_CHINESE.get(code, code) for code in factory.get_lang_list())


class Detected(NamedTuple):
    language: str
    probability: float
    other_languages: tuple[str, ...] = ()


class Votes(NamedTuple):
    """What each detector said: langdetect (code, probability), CLD2 (the language of most of the
    text, and whether it is reliable), py3langid (code, probability); codes as :func:`normal_code`
    gives them."""

    langdetect: Optional[str]
    langdetect_probability: float
    cld2: Optional[str]
    cld2_reliable: bool
    langid: Optional[str]
    langid_probability: float


def decide(votes: Votes, known: frozenset, config: LanguageConfig = LanguageConfig()) -> tuple[str, float]:
    """The rules of the module docstring: (language, probability)."""
    ld, cld2, langid = votes.langdetect, votes.cld2, votes.langid
    if ld is None:
        return UNDETERMINED, 0.0
    answer = (ld, votes.langdetect_probability)
    if cld2 is not None and votes.cld2_reliable and cld2 not in known:
        if langid == cld2:
            answer = (cld2, votes.langid_probability)
        elif langid != ld or votes.langid_probability < config.keep_probability:
            answer = (UNDETERMINED, 0.0)
    elif cld2 is not None and votes.cld2_reliable and langid == cld2 and cld2 != ld:
        answer = (cld2, votes.langid_probability)
    elif cld2 is None and langid is not None and langid not in known \
            and votes.langid_probability >= config.keep_probability:
        answer = (langid, votes.langid_probability)
    language = iso_639_1(answer[0])  # a language without a two-letter code: 'und'
    if language is None or answer[1] <= 0:
        return UNDETERMINED, 0.0
    return language, round(float(answer[1]), 6)


def _langdetect(factory, sample: str, config: LanguageConfig) -> tuple[Optional[str], float]:
    from langdetect.lang_detect_exception import LangDetectException

    detector = factory.create()
    detector.n_trial = config.trials
    detector.append(sample)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return None, 0.0
    if best.prob < config.min_probability:
        return None, 0.0
    return iso_639_1(best.lang), best.prob


def cld2_shares(text: str) -> tuple[bool, dict[str, float]]:
    """CLD2 on ``text``: whether it is reliable, and the share of the text (CLD2 counts bytes) of each
    language it names (:func:`normal_code`), most first; at most three; what it cannot tell is left
    out."""
    import pycld2

    data = text.encode("utf-8", "replace")  # lone surrogates become '?': CLD2 takes valid UTF-8 only
    try:
        reliable, _, details = pycld2.detect(data)
    except pycld2.error:  # e.g. control characters CLD2 refuses: no answer from it
        return False, {}
    shares: dict[str, float] = {}
    for _, code, percent, _ in details:
        code = normal_code(code)
        if code is not None and percent > 0:  # zh and zh-Hant are one language: add their shares
            shares[code] = shares.get(code, 0.0) + percent / 100
    return bool(reliable), dict(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))


def detect_language(detectors: Detectors, text: str, config: LanguageConfig = LanguageConfig()) -> Detected:
    """The language of ``text`` (ISO 639-1, or 'und' when it cannot be told), its probability, and
    the other languages of a mixed text."""
    text = remove_invisible(text)
    sample = text[: config.max_chars]
    if letter_count(sample, config.min_letters) < config.min_letters:
        return Detected(UNDETERMINED, 0.0)
    ld, ld_probability = _langdetect(detectors.langdetect, sample, config)
    if ld is None:
        return Detected(UNDETERMINED, 0.0)
    voted = text[: config.vote_chars]
    reliable, shares = cld2_shares(voted)
    top = next(iter(shares), None)
    langid, langid_probability = None, 0.0
    if not (reliable and top == ld):  # when CLD2 is sure and agrees with langdetect, no rule asks py3langid
        ranked = detectors.langid.rank(voted)
        if ranked:
            langid, langid_probability = normal_code(ranked[0][0]), float(ranked[0][1])
    language, probability = decide(Votes(ld, ld_probability, top, reliable, langid, langid_probability),
                                   detectors.known, config)
    if language == UNDETERMINED:
        return Detected(UNDETERMINED, 0.0)
    # the other languages of a mixed text; CLD2's first, when the answer is another, is a disagreement
    others = tuple(code for code, share in shares.items()
                   if code not in (language, top) and iso_639_1(code) and share >= config.other_share)
    return Detected(language, probability, others)


class _Holder:
    """The shared object: a holder, since Shared keeps weak references to what it shares."""

    def __init__(self):
        self.detectors = Detectors()


class _Detect(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, config: LanguageConfig, payload_limit: int):
        super().__init__(payload_limit)
        self._config = config
        self._shared = Shared()  # pickled with the DoFn: every copy in a process finds the same detectors
        self._holder = None  # held here: Shared keeps only a weak reference

    def setup(self):
        self._holder = self._shared.acquire(_Holder)

    def handle(self, article: Article):
        found = detect_language(self._holder.detectors, article.body, self._config)
        Metrics.counter(STAGE, f"articles_{found.language}").inc()
        yield article.model_copy(update={"language": found.language, "language_probability": found.probability,
                                         "other_languages": found.other_languages})

    def on_fault(self, article: Article, exc: BaseException) -> list:
        Metrics.counter(STAGE, f"articles_{UNDETERMINED}").inc()
        return [mark_stage_error(STAGE, exc, article).model_copy(
            update={"language": UNDETERMINED, "language_probability": 0.0})]


class DetectLanguage(beam.PTransform):
    """Article -> Article with ``language`` and ``language_probability`` set."""

    def __init__(self, config: Optional[RunConfig] = None):
        super().__init__()
        self._config = config or RunConfig()

    def expand(self, articles):
        out = articles | "Detect Body Language" >> beam.ParDo(
            _Detect(self._config.language, self._config.payload_limit)).with_outputs(REJECTED, main="articles")
        return StageOutput(out.articles, out[REJECTED])
