import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.language import (DetectLanguage, Detectors, LanguageConfig, Votes, build_detector_factory, decide,
                                 detect_language)
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


@pytest.fixture(scope="module")
def detectors():
    return Detectors()


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_detects_language_with_probability(detectors, code):
    lang, prob, others = detect_language(detectors, SENTENCES[code])
    assert lang == code and prob > 0.9 and others == ()


@pytest.mark.parametrize("text", ["", "12345 67890 2024-01-01", "https://x.org/1/2/3", "🙂🙂🙂🙂", "Ok."])
def test_no_letters_or_too_little_text_is_und(detectors, text):
    assert detect_language(detectors, text) == ("und", 0.0, ())


def test_same_answer_every_time_and_across_detectors(detectors):
    mixed = "Hello bonjour hallo hola ciao " * 3
    first = detect_language(detectors, mixed)
    assert all(detect_language(detectors, mixed) == first for _ in range(5))
    assert detect_language(Detectors(), mixed) == first


def test_invisible_characters_do_not_change_the_language(detectors):
    english = SENTENCES["en"] + " " + SENTENCES["en"].replace("Tuesday", "Friday")
    for copy in ("\u200b".join(english), english.replace(" ", "\u200b "), "\u00ad".join(english)):
        assert detect_language(detectors, copy)[0] == "en"
    assert detect_language(detectors, "\u200b" * 5000 + english)[0] == "en"  # not a sample of nothing


def test_chinese_is_iso_639_1(detectors):
    assert detect_language(detectors, "北京市政府周二宣布将在明年扩建地铁网络，新增三条线路连接机场和新城区。")[0] == "zh"


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
def test_short_sentences_in_indic_and_cjk_scripts_get_a_language(detectors, code, text):
    assert detect_language(detectors, text)[0] == code


def test_letter_count_counts_indic_vowel_signs_and_cjk_letters():
    from transforms.language import letter_count

    assert letter_count("abc def", 100) == 6
    assert sum(map(str.isalpha, "आज मौसम अच्छा है।")) == 9
    assert letter_count("आज मौसम अच्छा है।", 100) == 13
    assert letter_count("今天天气很好。", 100) == 18  # six letters, three each; the full stop is none
    assert letter_count("・゛", 100) == 0  # Japanese punctuation is not text
    assert letter_count("cafe\u0301", 100) == 4  # a Latin accent written as a combining mark adds nothing


# Languages langdetect does not know, named when CLD2 and py3langid agree; Norwegian as nb or nn.
@pytest.mark.parametrize("code,text", [
    ("is", "Ríkisstjórnin kynnti í gær nýja áætlun um byggingu íbúða fyrir ungt fólk á höfuðborgarsvæðinu og úti á landi."),
    ("eu", "Udalak asteartean onartu zuen aurrekontu berria, eskolei eta errepideei buruzko eztabaida luze baten ondoren."),
    ("nn", "Kommunestyret vedtok tysdag det nye budsjettet etter ein lang debatt om skulane og vegane i bygda."),
    ("nb", "Bystyret vedtok tirsdag det nye budsjettet etter en lang debatt om skolene og veiene i byen."),
])
def test_languages_langdetect_does_not_know(detectors, code, text):
    assert code not in detectors.langdetect.get_lang_list()
    assert detect_language(detectors, text).language == code


def test_mixed_article_gets_the_language_of_most_of_it_and_lists_the_other(detectors):
    english = SENTENCES["en"] + " "
    french = SENTENCES["fr"] + " "
    start_in_english = english * 12 + "\n\n" + french * 30  # langdetect reads only the English start
    assert len(english * 12) > LanguageConfig().max_chars
    found = detect_language(detectors, start_in_english)
    assert found.language == "fr" and found.other_languages == ("en",)
    assert detect_language(detectors, french * 30 + english).other_languages == ()  # one sentence is under 10%


@pytest.mark.parametrize("votes,expected", [
    # langdetect, p, CLD2, reliable, py3langid, p
    (Votes(None, 0.0, "is", True, "is", 0.99), "und"),   # langdetect has no answer
    (Votes("sv", 0.99, "is", True, "is", 0.99), "is"),   # two agree on a language langdetect lacks
    (Votes("hr", 0.99, "bs", True, "hr", 0.90), "hr"),   # py3langid sides with langdetect, and is sure
    (Votes("hr", 0.99, "bs", True, "hr", 0.40), "und"),  # ... but not sure: they disagree
    (Votes("sw", 0.99, "ts", True, "xh", 0.60), "und"),  # three answers
    (Votes("sw", 0.99, "ts", False, "xh", 0.60), "sw"),  # CLD2 unsure: langdetect stands
    (Votes("es", 0.90, "ca", True, "ca", 0.80), "ca"),   # the other two agree on a known language
    (Votes("es", 0.90, "ca", True, "pt", 0.80), "es"),
    (Votes("tr", 0.99, None, False, "kk", 0.95), "kk"),  # CLD2 silent, py3langid sure of an unknown one
    (Votes("tr", 0.99, None, False, "kk", 0.50), "tr"),
])
def test_decision_rules(detectors, votes, expected):
    language, probability = decide(votes, detectors.known)
    assert language == expected
    assert probability == {"und": 0.0, votes.langdetect: votes.langdetect_probability}.get(
        language, votes.langid_probability)


def test_other_languages_reach_the_articles_table(runner_options):
    import pyarrow as pa

    from transforms.schema import arrow_schema
    from transforms.records import ArticleRow
    from transforms.io.rows import article_row

    body = SENTENCES["de"] * 20 + "\n\n" + SENTENCES["en"] * 8
    article = Article(article_id="m", source_file="f", text=body, content_hash="m", paragraphs=tuple(body.split("\n\n")))
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create([article]) | DetectLanguage()
        assert_that(out.articles | beam.Map(lambda a: (a.language, article_row(a).other_languages)),
                    equal_to([("de", ["en"])]))
    assert arrow_schema(ArticleRow).field("other_languages").type == pa.list_(pa.string())


def test_py3langid_is_asked_only_when_cld2_does_not_agree_with_langdetect():
    class Watching(Detectors):
        asked = 0

        @property
        def langid(self):
            self.asked += 1
            return super().langid

    detectors = Watching()
    assert detect_language(detectors, SENTENCES["en"] * 3).language == "en"
    assert detectors.asked == 0  # nor was its model loaded: that happens on first use
    # Icelandic: CLD2 names a language langdetect does not know, so py3langid must vote
    found = detect_language(detectors, "Ríkisstjórnin kynnti í gær nýja áætlun um byggingu íbúða fyrir ungt fólk "
                                       "á höfuðborgarsvæðinu og úti á landi.")
    assert detectors.asked == 1 and found.language == "is"