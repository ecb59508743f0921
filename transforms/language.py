"""Language: langdetect on the cleaned body, made deterministic and thread-safe.

langdetect's module-level detector is shared and random unless seeded. The stage builds a private
``DetectorFactory`` (profiles loaded in sorted order, seed fixed), once per worker process: every
thread's DoFn instance gets the same one through :class:`apache_beam.utils.shared.Shared`. That is
safe because the factory is read-only once loaded and each detection makes its own ``Detector``,
which draws from its own ``random.Random`` seeded from the factory, so the same body gets the same
answer on any runner, with any number of threads.

Only the first ``max_chars`` characters of the body are read (default 1,000): langdetect's cost
grows with the text it reads, and the start of an article tells its language as well as the whole.
"""
from __future__ import annotations

import os
import re
import unicodedata

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from transforms.config import LanguageConfig, RunConfig
from transforms.records import Article
from transforms.rejects import REJECTED, DeadLetterDoFn, StageOutput, mark_stage_error

STAGE = "language"
UNDETERMINED = "und"
SEED = 0
# langdetect reports Chinese as zh-cn / zh-tw; ISO 639-1 has one code for it.
_TO_ISO_639_1 = {"zh-cn": "zh", "zh-tw": "zh"}


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
    """The ISO 639-1 codes the detector can answer."""
    return frozenset(_TO_ISO_639_1.get(code, code) for code in factory.get_lang_list())


def detect_language(factory, text: str, config: LanguageConfig = LanguageConfig()) -> tuple[str, float]:
    """(ISO 639-1 code, probability) for ``text``, or ('und', 0.0) when it cannot be told."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[: config.max_chars]
    if letter_count(sample, config.min_letters) < config.min_letters:
        return UNDETERMINED, 0.0
    detector = factory.create()
    detector.n_trial = config.trials
    detector.append(sample)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return UNDETERMINED, 0.0
    if best.prob < config.min_probability:
        return UNDETERMINED, 0.0
    return _TO_ISO_639_1.get(best.lang, best.lang), round(float(best.prob), 6)


class _Factory:
    """The shared object: a holder, since Shared keeps weak references to what it shares."""

    def __init__(self):
        self.factory = build_detector_factory()


class _Detect(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, config: LanguageConfig, payload_limit: int):
        super().__init__(payload_limit)
        self._config = config
        self._shared = Shared()  # pickled with the DoFn: every copy in a process finds the same factory
        self._holder = None  # held here: Shared keeps only a weak reference

    def setup(self):
        self._holder = self._shared.acquire(_Factory)

    def handle(self, article: Article):
        code, probability = detect_language(self._holder.factory, article.body, self._config)
        Metrics.counter(STAGE, f"articles_{code}").inc()
        yield article.model_copy(update={"language": code, "language_probability": probability})

    def on_fault(self, article: Article, exc: BaseException) -> list:
        Metrics.counter(STAGE, f"articles_{UNDETERMINED}").inc()
        return [mark_stage_error(STAGE, exc, article).model_copy(
            update={"language": UNDETERMINED, "language_probability": 0.0})]


class DetectLanguage(beam.PTransform):
    """Article -> Article with ``language`` and ``language_probability`` set."""

    def __init__(self, config: RunConfig = RunConfig()):
        super().__init__()
        self._config = config

    def expand(self, articles):
        out = articles | "Detect Body Language" >> beam.ParDo(
            _Detect(self._config.language, self._config.payload_limit)).with_outputs(REJECTED, main="articles")
        return StageOutput(out.articles, out[REJECTED])
