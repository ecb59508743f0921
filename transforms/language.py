"""Language: langdetect on the cleaned body, made deterministic and thread-safe.

langdetect's module-level detector is shared and random unless seeded. Each DoFn instance builds
its own ``DetectorFactory`` in ``setup`` (once per worker), loads the profiles in sorted order and
fixes the seed, so the same body gets the same answer on any runner.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.records import Article
from transforms.rejects import DEFAULT_PAYLOAD_LIMIT, REJECTED, reject_fault

STAGE = "language"
UNDETERMINED = "und"
SEED = 0
# langdetect reports Chinese as zh-cn / zh-tw; ISO 639-1 has one code for it.
_TO_ISO_639_1 = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass(frozen=True)
class LanguageConfig:
    min_letters: int = 20  # fewer letters than this: too little text to say -> 'und'
    min_probability: float = 0.5  # below this the answer is 'und'
    max_chars: int = 10_000  # langdetect reads at most this much of the body
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT  # characters of a rejected article kept for replay

    def __post_init__(self):
        if self.min_letters < 1:
            raise ValueError("min_letters must be at least 1")
        if not 0 <= self.min_probability <= 1:
            raise ValueError("min_probability must be between 0 and 1")
        if self.max_chars < 100:
            raise ValueError("max_chars must be at least 100 characters")


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


def detect_language(factory, text: str, config: LanguageConfig = LanguageConfig()) -> tuple[str, float]:
    """(ISO 639-1 code, probability) for ``text``, or ('und', 0.0) when it cannot be told."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[: config.max_chars]
    if sum(1 for ch in sample if ch.isalpha()) < config.min_letters:
        return UNDETERMINED, 0.0
    detector = factory.create()
    detector.append(sample)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return UNDETERMINED, 0.0
    if best.prob < config.min_probability:
        return UNDETERMINED, 0.0
    return _TO_ISO_639_1.get(best.lang, best.lang), round(float(best.prob), 6)


class _Detect(beam.DoFn):
    def __init__(self, config: LanguageConfig):
        self._config = config
        self._factory = None

    def setup(self):
        self._factory = build_detector_factory()

    def process(self, article: Article):
        try:
            code, probability = detect_language(self._factory, article.body, self._config)
        except Exception as exc:  # dead-letter, never sink the run
            yield beam.pvalue.TaggedOutput(REJECTED, reject_fault(STAGE, exc, article, self._config.payload_limit))
            return
        Metrics.counter(STAGE, f"articles_{code}").inc()
        yield article.model_copy(update={"language": code, "language_probability": probability})


class DetectLanguage(beam.PTransform):
    """Article -> Article with ``language`` and ``language_probability`` set."""

    def __init__(self, config: LanguageConfig | None = None):
        super().__init__()
        self._config = config or LanguageConfig()

    def expand(self, articles):
        return articles | "Detect Body Language" >> beam.ParDo(_Detect(self._config)).with_outputs(
            REJECTED, main="articles")
