"""Entities: spaCy NER, one model per language, on the cleaned body.

Only the ``tok2vec`` and ``ner`` components are loaded, and ``tok2vec`` is dropped again when no
component listens to it: in the small English and French models ``ner`` embeds the text itself, so
the shared ``tok2vec`` would only cost time (a third of NER's; the entities are the same without
it). Models load once per worker process, lazily, the first time a language needs one, into one
:class:`Models` shared by every thread's DoFn instance through
:class:`apache_beam.utils.shared.Shared` (nothing heavy is pickled), and articles go through
``nlp.pipe`` in batches built by ``beam.BatchElements``.

``entity_status`` says what happened: ``tagged``, ``no_model`` (no model for that language) or
``undetermined_language``.
"""
from __future__ import annotations

import threading
from typing import Iterable, Mapping, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from transforms.config import DEFAULT_NER_MODELS, EntityConfig, RunConfig
from transforms.entity_links import Mention, link, ner_view
from transforms.progress import Progress
from transforms.records import UNDETERMINED, Article, Entity
from transforms.rejects import (REJECTED, DeadLetterDoFn, StageFailure, StageOutput, fault_detail, mark_stage_error,
                                per_record_fault)

STAGE = "entities"
TAGGED, NO_MODEL, UNDETERMINED_LANGUAGE, FAILED = "tagged", "no_model", "undetermined_language", "failed"
KEEP_PIPES = ("tok2vec", "ner")
_USUAL_PIPES = ("tagger", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer",
                "trainable_lemmatizer", "entity_ruler", "entity_linker", "textcat", "textcat_multilabel")

DEFAULT_MODELS = DEFAULT_NER_MODELS


def load_model(name: str):
    """Load a spaCy model package with only ner, and tok2vec when ner listens to it."""
    import spacy

    nlp = spacy.load(name, exclude=[p for p in _USUAL_PIPES if p not in KEEP_PIPES])
    for pipe in list(nlp.pipe_names):
        if pipe not in KEEP_PIPES:
            nlp.remove_pipe(pipe)
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


def entities_of(body: str, doc) -> tuple[Entity, ...]:
    """The model's mentions in ``doc`` (which read :func:`ner_view` of ``body``), linked across the
    article (:func:`transforms.entity_links.link`), with offsets into and text from ``body``."""
    mentions = [Mention(e.start_char, e.end_char, e.label_) for e in doc.ents]
    return tuple(Entity(text=m.text, label=m.label, start=m.start, end=m.end, canonical=m.canonical)
                 for m in link(body, mentions, view=doc.text))


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
        docs = nlp.pipe((ner_view(articles[i].body) for i in indexes), batch_size=batch_size)
        for i, doc in zip(indexes, docs):
            out[i] = articles[i].model_copy(update={"entity_status": TAGGED,
                                                    "entities": entities_of(articles[i].body, doc)})
    return [out[i] for i in range(len(articles))]


class Models:
    """The NER models of one worker process, loaded on first use, one language at a time.

    One instance is shared by every thread (see :class:`_Tag`); the lock makes a model load once
    even when two threads ask for it together. A model that cannot load fails the stage."""

    def __init__(self, names: Mapping[str, str]):
        self._names = dict(names)
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, lang: str):
        """The model for ``lang``, or None when the run has none for it."""
        name = self._names.get(lang)
        if not name:
            return None
        model = self._loaded.get(lang)
        if model is None:
            with self._lock:
                model = self._loaded.get(lang)
                if model is None:
                    try:
                        model = self._loaded[lang] = load_model(name)
                    except Exception as exc:  # every article of the language would fail: fail the run
                        raise StageFailure(f"the NER model {name!r} for language {lang!r} cannot be loaded: "
                                           f"{fault_detail(exc)}") from exc
        return model


class _Tag(DeadLetterDoFn):
    """Tags a batch of articles. A model that cannot load, or a batch in which every article fails
    on its own too, is a failure of the stage (the run fails); one article that fails is kept with
    ``entity_status = 'failed'`` and the fault in ``stage_errors``."""

    stage = STAGE

    def __init__(self, config: EntityConfig, payload_limit: int):
        super().__init__(payload_limit)
        self._config = config
        self._shared = Shared()  # pickled with the DoFn: every copy in a process finds the same models
        self._models: Optional[Models] = None

    def setup(self):
        models = self._config.models
        self._models = self._shared.acquire(lambda: Models(models))
        self._progress = Progress(STAGE, "articles tagged")

    def _model_for(self, lang: str):
        return self._models.get(lang)

    def handle(self, batch):
        try:
            tagged = tag_batch(batch, self._model_for, self._config.batch_size)
        except Exception as exc:
            if not per_record_fault(exc):
                raise
            tagged = None  # one bad document must not take its batch-mates with it: retry one by one
        if tagged is not None:
            yield from self._emit(tagged)
            return
        results, faults = [], []
        for article in batch:
            try:
                results.append(tag_batch([article], self._model_for, 1)[0])
            except Exception as exc:
                if not per_record_fault(exc):
                    raise
                faults.append(self._failed(article, exc))
        if len(batch) > 1 and len(faults) == len(batch):
            raise StageFailure(f"NER failed on every one of a batch of {len(batch)} articles, so the model itself "
                               f"is failing, not the articles; first error: {faults[0].stage_errors[-1]}")
        yield from self._emit(results + faults)

    def _failed(self, article: Article, exc: BaseException) -> Article:
        return mark_stage_error(STAGE, exc, article).model_copy(update={"entity_status": FAILED, "entities": ()})

    def on_fault(self, batch, exc):
        return [self._failed(article, exc) for article in batch]

    def _emit(self, tagged):
        for article in tagged:
            Metrics.counter(STAGE, f"articles_{article.entity_status}").inc()
            Metrics.counter(STAGE, "mentions").inc(len(article.entities))
            self._progress.add()
            yield article


class ExtractEntities(beam.PTransform):
    """Article -> Article with ``entities`` and ``entity_status``."""

    def __init__(self, config: Optional[RunConfig] = None):
        super().__init__()
        self._config = config or RunConfig()
        self._config.entities.check_installed()  # the models it will load, named if missing

    def expand(self, articles):
        entities = self._config.entities
        out = (
            articles
            | "Batch For NER" >> beam.BatchElements(min_batch_size=1, max_batch_size=entities.batch_size)
            | "Tag Entities" >> beam.ParDo(_Tag(entities, self._config.payload_limit)).with_outputs(
                REJECTED, main="articles")
        )
        return StageOutput(out.articles, out[REJECTED])
