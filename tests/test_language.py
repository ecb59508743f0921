import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.language import DetectLanguage, LanguageConfig, build_detector_factory, detect_language
from transforms.records import Article

SENTENCES = {
    "en": "The city council approved the new budget on Tuesday after a long debate about schools and roads.",
    "fr": "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur les écoles et les routes.",
    "de": "Der Stadtrat hat am Dienstag nach einer langen Debatte über Schulen und Straßen den neuen Haushalt beschlossen.",
    "es": "El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate sobre escuelas y carreteras.",
}


@pytest.fixture(scope="module")
def factory():
    return build_detector_factory()


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_detects_language_with_probability(factory, code):
    lang, prob = detect_language(factory, SENTENCES[code])
    assert lang == code and prob > 0.9


@pytest.mark.parametrize("text", ["", "12345 67890 2024-01-01", "https://x.org/1/2/3", "🙂🙂🙂🙂", "Ok."])
def test_no_letters_or_too_little_text_is_und(factory, text):
    assert detect_language(factory, text) == ("und", 0.0)


def test_same_answer_every_time_and_across_factories(factory):
    mixed = "Hello bonjour hallo hola ciao " * 3
    first = detect_language(factory, mixed)
    assert all(detect_language(factory, mixed) == first for _ in range(5))
    assert detect_language(build_detector_factory(), mixed) == first


def test_chinese_is_iso_639_1(factory):
    assert detect_language(factory, "北京市政府周二宣布将在明年扩建地铁网络，新增三条线路连接机场和新城区。")[0] == "zh"


def test_config_is_validated():
    with pytest.raises(ValueError, match="min_probability"):
        LanguageConfig(min_probability=2)


def test_detect_language_transform(runner_options):
    arts = [Article(article_id=k, source_file="f", text=v, content_hash=k, paragraphs=(v,)) for k, v in SENTENCES.items()]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(arts) | DetectLanguage()
        assert_that(out.articles | beam.Map(lambda a: (a.article_id, a.language)),
                    equal_to([(k, k) for k in SENTENCES]))


def test_every_thread_of_a_worker_shares_one_detector_factory(monkeypatch):
    import threading

    from apache_beam.internal import pickler

    from transforms import language

    built = []
    real = language.build_detector_factory

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(language, "build_detector_factory", counting)
    dofn = language._Detect(LanguageConfig(), 4096)
    copies = [pickler.loads(pickler.dumps(dofn)) for _ in range(3)]
    threads = [threading.Thread(target=c.setup) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    body = "The central bank raised interest rates again on Thursday, citing persistent inflation."
    article = Article(article_id="a", source_file="f", text=body, content_hash="h", paragraphs=(body,))
    answers = [next(iter(c.process(article))).language for c in copies]
    assert answers == ["en", "en", "en"]


def test_supported_languages_are_iso_639_1(factory):
    from transforms.language import supported_languages

    codes = supported_languages(factory)
    assert {"en", "fr", "de", "zh", "ko", "hi"} <= codes
    assert "zh-cn" not in codes and "zh-tw" not in codes
    assert all(len(c) == 2 for c in codes)


@pytest.mark.parametrize("code,text", [
    ("hi", "आज मौसम अच्छा है।"),          # 9 letters by str.isalpha: the vowel signs are marks
    ("zh", "今天天气很好。"),              # six characters
    ("ko", "오늘 날씨가 좋네요."),
])
def test_short_sentences_in_indic_and_cjk_scripts_get_a_language(factory, code, text):
    assert detect_language(factory, text)[0] == code


def test_letter_count_counts_indic_vowel_signs_and_cjk_letters():
    from transforms.language import letter_count

    assert letter_count("abc def", 100) == 6
    assert sum(map(str.isalpha, "आज मौसम अच्छा है।")) == 9
    assert letter_count("आज मौसम अच्छा है।", 100) == 13
    assert letter_count("今天天气很好。", 100) == 18  # six letters, three each; the full stop is none
    assert letter_count("・゛", 100) == 0  # Japanese punctuation is not text
    assert letter_count("cafe\u0301", 100) == 4  # a Latin accent written as a combining mark adds nothing
