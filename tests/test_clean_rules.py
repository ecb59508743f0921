"""Tests for transforms.clean.rules: the pure line rules behind the CleanText stage.

The fixture pages are written inline (nothing is read from ../shared): one modelled on the
user's sample page, one French and one German page, and a few small ones for single rules.
"""
from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.clean.rules import (
    PHRASE_DIR,
    REASONS,
    RULES,
    CleanResult,
    RemovedLine,
    boilerplate_reason,
    clean_page,
    compile_rules,
    find_byline,
    find_date,
    load_phrasebook,
    normalise_lines,
    strip_site_name,
)
from transforms.clean.lines import line_fingerprint
from transforms.clean.phrasebook import REASON_SECTIONS, SECTIONS

# --------------------------------------------------------------------------------------
# Fixture pages

SAMPLE_TITLE = "The US warns North Korea about supplying arms to Russia"
SAMPLE_FIRST = (
    "White House national security adviser Jake Sullivan on Tuesday warned North Korea "
    "against supplying weapons to Russia during the war against Ukraine. He said Pyongyang "
    "“will pay a price” if it goes through with a possible deal.")
SAMPLE_LAST = (
    "“We will continue to call on North Korea to honor its public commitments not to supply "
    "Russia with weapons that will ultimately kill Ukrainians,” he said.")
SAMPLE_PAGE = f"""HomeTop Stories{SAMPLE_TITLE}

{SAMPLE_TITLE}

{SAMPLE_FIRST}

Sullivan told reporters that discussions between North Korea and Russia over Pyongyang’s military support are “actively progressing,” moving towards possible top-leader-level talks.

“The Russians imbued them with greater intensity,” Sullivan said of the discussions.

Sullivan also warned that North Korea will face consequences from the international community if it decides to hand over arms to Russia.

US officials said North Korean leader Kim Jong-un may travel to Russia to meet with Russian President Vladimir Putin.

See also  Judge rules YSL lawyer's laptop can be searched after defendant caught on Instagram

The officials also said Russia would buy munitions from North Korea in exchange for supplying food and critical technology to Pyongyang.

North Korea has a robust defense production base for artillery shells, which could benefit Russian forces engaged in a heavy war in Ukraine.

Concerns about a developing military alliance between the two countries have increased since Russian Defense Minister Sergei Shoigu traveled to North Korea in July.

See also  WATCH LIVE: Roxbury Unity Parade

In recent weeks, Washington has begun to warn that this could change. Sullivan promised that the US and its allies will continue to try to dissuade North Korea from making a deal, and said the White House will report publicly on developments.

{SAMPLE_LAST}

For the latest news, weather, sports and streaming video, visit The Hill.

- Advertisement -


Please enter your comment!
Please enter your name here

Most Popular

Recent Comments"""

FRENCH_TITLE = "Grève à la SNCF : les contrôleurs maintiennent leur préavis"
FRENCH_PAGE = f"""{FRENCH_TITLE} | Le Quotidien
Accueil
Politique
Économie
Monde
Accueil > Économie > Transports
{FRENCH_TITLE}
Par Jean Dupont
Publié le 20 novembre 2019 à 10h15
Partager
Les contrôleurs de la SNCF ont confirmé mercredi leur préavis de grève pour le week-end, malgré une dernière réunion avec la direction mardi soir.
Selon le syndicat, près de la moitié des trains à grande vitesse pourraient être supprimés samedi et dimanche sur les grands axes.
Lire aussi : Les prix des billets de TGV en hausse cette année
Publicité
Le ministre des Transports a appelé les deux parties à reprendre le dialogue et a demandé à la SNCF de mieux informer les voyageurs.
Les voyageurs dont le train est annulé pourront échanger ou se faire rembourser leur billet sans frais.
Abonnez-vous à notre newsletter
Laisser un commentaire
Votre adresse e-mail ne sera pas publiée.
Les plus lus
Nous utilisons des cookies pour améliorer votre expérience de navigation.
© 2019 Le Quotidien. Tous droits réservés."""

GERMAN_TITLE = "Hochwasser in Passau: Pegel der Donau steigt weiter"
GERMAN_PAGE = f"""{GERMAN_TITLE} - Die Zeitung
Startseite
Politik
Panorama
Startseite › Panorama › Unwetter
{GERMAN_TITLE}
Von Anna Schmidt
20. November 2019
Artikel teilen
Die Donau in Passau ist am Mittwoch weiter gestiegen, die Stadt hat für mehrere Viertel an der Altstadt den Katastrophenfall ausgerufen.
Nach Angaben des Hochwassernachrichtendienstes erreichte der Pegel am Mittag einen Stand von mehr als neun Metern.
Lesen Sie auch: Wie sich Städte an der Donau gegen Überschwemmungen schützen
Anzeige
Oberbürgermeister Jürgen Dupper bat die Bewohner, Keller und Tiefgaragen zu meiden und den Anweisungen der Feuerwehr zu folgen.
Der Deutsche Wetterdienst erwartet erst zum Wochenende ein Ende der Regenfälle.
Kommentar schreiben
Meistgelesen
Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten. Mehr in unserer Datenschutzerklärung.
Impressum
Datenschutz
Alle Rechte vorbehalten"""


def reasons_of(result: CleanResult) -> dict[str, str]:
    """The removed lines of a result as {text: reason}."""
    return {line.text: line.reason for line in result.removed}


def assert_accounted_for(text: str, result: CleanResult) -> None:
    """Every normalised line is a paragraph, a removed line, or the title/byline/date line."""
    lines = normalise_lines(text)
    placed = list(result.paragraphs) + [line.text for line in result.removed]
    leftover = list(lines)
    for line in placed:
        leftover.remove(line)  # raises if a paragraph or removed line is not a page line
    assert len(leftover) <= 3
    for line in leftover:
        assert any(part and part in line for part in (result.title, result.byline, result.published))


def assert_paragraphs_are_page_lines_in_order(text: str, result: CleanResult) -> None:
    lines = iter(normalise_lines(text))
    for paragraph in result.paragraphs:
        assert any(paragraph == line for line in lines), paragraph


# --------------------------------------------------------------------------------------
# The user's sample page

@pytest.fixture(scope="module")
def sample() -> CleanResult:
    return clean_page(SAMPLE_PAGE)


def test_sample_title_is_the_doubled_headline(sample):
    assert sample.title == SAMPLE_TITLE


def test_sample_body_keeps_first_and_last_paragraph(sample):
    assert sample.paragraphs[0] == SAMPLE_FIRST
    assert sample.paragraphs[-1] == SAMPLE_LAST
    assert len(sample.paragraphs) == 10


@pytest.mark.parametrize("line, reason", [
    ("HomeTop StoriesThe US warns North Korea about supplying arms to Russia", "breadcrumb"),
    ("See also Judge rules YSL lawyer's laptop can be searched after defendant caught on Instagram",
     "see_also"),
    ("See also WATCH LIVE: Roxbury Unity Parade", "see_also"),
    ("- Advertisement -", "ad_marker"),
    ("Please enter your comment!", "comment_form"),
    ("Please enter your name here", "comment_form"),
    ("Most Popular", "widget_heading"),
    ("Recent Comments", "widget_heading"),
    ("For the latest news, weather, sports and streaming video, visit The Hill.", "promo"),
])
def test_sample_boilerplate_removed_with_reason(sample, line, reason):
    assert reasons_of(sample)[line] == reason
    assert line not in sample.body


def test_sample_title_not_in_body_and_every_line_accounted_for(sample):
    assert SAMPLE_TITLE not in sample.body
    assert_accounted_for(SAMPLE_PAGE, sample)
    assert all(line.reason in REASONS for line in sample.removed)


def test_body_is_paragraphs_joined_by_blank_lines(sample):
    assert sample.body == "\n\n".join(sample.paragraphs)
    assert "\n\n\n" not in sample.body


def test_title_hint_is_used_without_site_name():
    result = clean_page(SAMPLE_PAGE, title_hint=f"{SAMPLE_TITLE} | The Hill")
    assert result.title == SAMPLE_TITLE
    assert result.paragraphs[0] == SAMPLE_FIRST
    assert_accounted_for(SAMPLE_PAGE, result)


# --------------------------------------------------------------------------------------
# French and German pages

def test_french_page():
    result = clean_page(FRENCH_PAGE)
    assert result.title == FRENCH_TITLE
    assert result.byline == "Jean Dupont"
    assert result.published == "20 novembre 2019 à 10h15"
    assert result.paragraphs[0].startswith("Les contrôleurs de la SNCF ont confirmé mercredi")
    assert result.paragraphs[-1].startswith("Les voyageurs dont le train est annulé")
    assert len(result.paragraphs) == 4
    reasons = reasons_of(result)
    assert reasons["Accueil > Économie > Transports"] == "breadcrumb"
    assert reasons[f"{FRENCH_TITLE} | Le Quotidien"] == "repeated_title"
    assert reasons["Lire aussi : Les prix des billets de TGV en hausse cette année"] == "see_also"
    assert reasons["Publicité"] == "ad_marker"
    assert reasons["Partager"] == "share"
    assert reasons["Abonnez-vous à notre newsletter"] == "subscribe"
    assert reasons["Laisser un commentaire"] == "comment_form"
    assert reasons["Votre adresse e-mail ne sera pas publiée."] == "comment_form"
    assert reasons["Les plus lus"] == "widget_heading"
    assert reasons["Nous utilisons des cookies pour améliorer votre expérience de navigation."] == "cookie_notice"
    assert reasons["© 2019 Le Quotidien. Tous droits réservés."] == "footer"
    assert_accounted_for(FRENCH_PAGE, result)


def test_german_page():
    result = clean_page(GERMAN_PAGE)
    assert result.title == GERMAN_TITLE
    assert result.byline == "Anna Schmidt"
    assert result.published == "20. November 2019"
    assert result.paragraphs[0].startswith("Die Donau in Passau ist am Mittwoch weiter gestiegen")
    assert result.paragraphs[-1] == "Der Deutsche Wetterdienst erwartet erst zum Wochenende ein Ende der Regenfälle."
    assert len(result.paragraphs) == 4
    reasons = reasons_of(result)
    assert reasons["Startseite › Panorama › Unwetter"] == "breadcrumb"
    assert reasons["Lesen Sie auch: Wie sich Städte an der Donau gegen Überschwemmungen schützen"] == "see_also"
    assert reasons["Anzeige"] == "ad_marker"
    assert reasons["Artikel teilen"] == "share"
    assert reasons["Kommentar schreiben"] == "comment_form"
    assert reasons["Meistgelesen"] == "widget_heading"
    assert reasons["Alle Rechte vorbehalten"] == "footer"
    assert reasons["Impressum"] == "footer"
    assert reasons[
        "Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten. "
        "Mehr in unserer Datenschutzerklärung."] == "cookie_notice"
    assert_accounted_for(GERMAN_PAGE, result)


# --------------------------------------------------------------------------------------
# Single rules

@pytest.mark.parametrize("raw, expected", [
    ("New York State Attorney General investigating WeWork and former CEO | VentureBeat",
     "New York State Attorney General investigating WeWork and former CEO"),
    ("Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play - WSJ",
     "Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play"),
    ("Hong Kong chaos: China deploys troops | World | News | Express.co.uk",
     "Hong Kong chaos: China deploys troops"),
    ("Dare to Play 3 / October pack – Vortex Cannon Entertainment", "Dare to Play 3 / October pack"),
    ("Brexit - what happens next", "Brexit - what happens next"),  # the tail is not shorter
    ("No separator here", "No separator here"),
])
def test_strip_site_name(raw, expected):
    assert strip_site_name(raw) == expected


@pytest.mark.parametrize("line, name", [
    ("By Jane Doe", "Jane Doe"),
    ("by Bryan DeArdo", "Bryan DeArdo"),
    ("By Justine Coleman - 11/18/19 11:04 PM EST", "Justine Coleman"),
    ("Par Jean Dupont", "Jean Dupont"),
    ("Von Anna Schmidt", "Anna Schmidt"),
    ("Por María García", "María García"),
    ("Posted by Michael David Smith on November 19, 2019", "Michael David Smith"),
    ("By submitting this form you agree to our terms", None),
    ("Von den 20 Menschen im Saal waren alle zufrieden.", None),
    ("Par exemple, la ville a fermé trois écoles mardi matin.", None),
])
def test_find_byline(line, name):
    assert find_byline(line) == name


@pytest.mark.parametrize("line, date", [
    ("November 20, 2019", "November 20, 2019"),
    ("Reuters November 18, 2019 11:03 PM", "November 18, 2019 11:03 PM"),
    ("2019-11-20", "2019-11-20"),
    ("20 novembre 2019", "20 novembre 2019"),
    ("20. November 2019", "20. November 2019"),
    ("Publicado el 20 de noviembre de 2019", "20 de noviembre de 2019"),
    ("Nov. 19, 2019 8:03 am ET", "Nov. 19, 2019 8:03 am"),
    ("Opublikowano 20 listopada 2019", "20 listopada 2019"),
    ("No date in 1 / 9 here", None),
])
def test_find_date(line, date):
    assert find_date(line) == date


def test_byline_and_date_from_one_page():
    page = ("Some headline about the budget | Site\nSome headline about the budget\n"
            "Reuters November 18, 2019 11:03 PM\nBy Jane Doe\n"
            + "\n".join(f"The budget paragraph number {n} explains what the ministers agreed today."
                        for n in range(5)))
    result = clean_page(page)
    assert (result.title, result.byline, result.published) == (
        "Some headline about the budget", "Jane Doe", "November 18, 2019 11:03 PM")
    assert len(result.paragraphs) == 5


def test_menu_and_footer_outside_the_article_are_removed():
    menu = "\n".join(["News", "Sport", "Business", "Culture", "Weather", "Video"])
    body = "\n".join(f"Paragraph {n} of the report says the river rose again overnight, officials said."
                     for n in range(6))
    page = f"{menu}\n{body}\nRelated stories\nRiver levels fall in the south\nPrivacy Policy\n"
    result = clean_page(page)
    assert len(result.paragraphs) == 6 and result.paragraphs[0].startswith("Paragraph 0")
    reasons = reasons_of(result)
    assert reasons["Sport"] == "navigation"
    assert reasons["Related stories"] == "widget_heading"
    assert reasons["Privacy Policy"] == "footer"


def test_normalisation_nfc_and_whitespace():
    decomposed = "Cafe\u0301   au\tlait\u00a0 ist  lecker, sagt der Koch in seinem langen Bericht heute."
    result = clean_page(f"{decomposed}\n{decomposed.upper()}")
    lines = normalise_lines(decomposed)
    assert lines == ["Café au lait ist lecker, sagt der Koch in seinem langen Bericht heute."]
    assert all(unicodedata.is_normalized("NFC", p) for p in result.paragraphs)
    assert all("  " not in line.text for line in result.removed)


# --------------------------------------------------------------------------------------
# Never raises

@pytest.mark.parametrize("text", [
    "", " ", "\n\n\n", "\t \u00a0\u2028", "\x00\x01\x02\x1f\x7f", "\ufeff", "\u200b",
    "🙂" * 50, "مرحبا بالعالم. هذا نص تجريبي طويل بما يكفي ليكون فقرة كاملة في المقال.",
    "\u202eevil RTL override\u202c", "\ud800", "a\rb\r\nc\x0bd\x0ce\x1cf\x85g",
    "By", "By\nJane Doe", "Home", "©", "| | |", "1 / 9", "Advertisement\n" * 30,
])
def test_never_raises_on_odd_text(text):
    result = clean_page(text)
    assert isinstance(result, CleanResult)
    assert_accounted_for(text, result)


LINE_PARTS = st.sampled_from([
    "By Jane Doe", "Par Jean Dupont", "November 20, 2019", "20. November 2019", "Home", "Share",
    "See also ", "Advertisement", "Most Popular", "© 2019 Site", "Please enter your comment!",
    "The minister said the plan would cut costs for households across the country.",
    "Read more", "|", " › ", "Lire aussi : ", ". ", ", ", "“", "”", "12 Comments", "Photo: ",
    "Von den", "HomeTop Stories", " - ", "…", "\u00a0", "\t",
])
PAGES = st.lists(
    st.one_of(st.text(max_size=80), st.lists(LINE_PARTS, max_size=6).map("".join)),
    max_size=40,
).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(), PAGES), hint=st.one_of(st.none(), st.text(max_size=60)))
def test_property_never_raises_and_paragraphs_are_lines_in_order(text, hint):
    result = clean_page(text, title_hint=hint)
    assert_paragraphs_are_page_lines_in_order(text, result)
    assert all(isinstance(line, RemovedLine) and line.reason in REASONS for line in result.removed)
    assert_accounted_for(text, result)


# --------------------------------------------------------------------------------------
# One-megabyte lines made of the characters the rules look for

MEGA = 10**6


@pytest.mark.parametrize("line", [
    "-" * MEGA,
    "|" * MEGA,
    "»" * MEGA,
    "." * MEGA,
    "©" * MEGA,
    "a." * (MEGA // 2),
    "a " * (MEGA // 2),
    "1/" * (MEGA // 2),
    "2019-11-20 " * (MEGA // 11),
    "By " + "Jane " * (MEGA // 5),
    "Home > " * (MEGA // 7),
    "cookie " * (MEGA // 7),
    "Nov. 19, " * (MEGA // 9),
    "”" * MEGA,
    ".”" * (MEGA // 2),
    "." * (MEGA // 2) + "”" * (MEGA // 2) + "x",
])
def test_one_megabyte_line_is_cleaned(line):
    result = clean_page(line)
    normalised = normalise_lines(line)
    assert len(normalised) <= 1
    assert_accounted_for(line, result)
    assert len(result.paragraphs) + len(result.removed) <= 1


def test_one_megabyte_paragraph_is_kept_whole():
    line = "The council approved the new budget after a long debate, officials said. " * (MEGA // 74)
    result = clean_page("Budget approved | City News\n" + line)
    assert result.paragraphs == (line.strip(),)
    assert result.title == "Budget approved"


def test_many_short_lines_page():
    page = "\n".join(f"Menu item {n}" for n in range(20000))
    result = clean_page(page)
    assert result.paragraphs == ()
    assert len(result.removed) + (result.title is not None) == 20000


# --------------------------------------------------------------------------------------
# Scripts and languages beyond the Latin-script eight: Chinese, Arabic, Polish.

CHINESE_PAGE = """首页 > 新闻 > 国际
北京宣布扩建地铁网络
北京宣布扩建地铁网络
2024年3月12日 10:15 来源：新华社
分享到微信
北京市政府周二宣布，将在明年扩建地铁网络，新增三条线路连接机场和新城区。
官员表示，新线路预计每天可以服务超过一百万名乘客，并将大大缩短通勤时间。
专家认为，这项计划有助于缓解城市交通拥堵，但也提醒建设成本可能会继续上升。
市民对此普遍表示欢迎，许多人希望新线路能够尽快开通。
相关新闻
上海发布新的公交计划
广州地铁客流创新高
版权所有 © 2024 新闻网
"""

ARABIC_PAGE = """الرئيسية > أخبار > اقتصاد
الحكومة تعلن خطة جديدة لدعم الشركات الصغيرة
الحكومة تعلن خطة جديدة لدعم الشركات الصغيرة
أعلنت الحكومة يوم الثلاثاء عن خطة جديدة لدعم الشركات الصغيرة والمتوسطة في جميع أنحاء البلاد.
وقال وزير الاقتصاد إن الخطة تشمل قروضا ميسرة وتخفيضات ضريبية للشركات الناشئة.
اقرأ أيضا: ارتفاع أسعار النفط في الأسواق العالمية
ويرى خبراء أن هذه الخطوة قد تساعد على خلق آلاف الوظائف خلال السنوات المقبلة.
شارك على فيسبوك
جميع الحقوق محفوظة © 2024
"""

POLISH_PAGE = """Strona główna > Wiadomości > Kraj
Rząd zapowiada nowe inwestycje w kolej
Rząd zapowiada nowe inwestycje w kolej
Autor: Jan Kowalski
12 marca 2024, 10:15
Rząd ogłosił we wtorek plan inwestycji w kolej o wartości kilkunastu miliardów złotych.
Minister infrastruktury powiedział, że pierwsze prace rozpoczną się jeszcze w tym roku.
Zobacz także: Nowe pociągi na trasie Warszawa - Kraków
Eksperci uważają, że inwestycje skrócą czas podróży między największymi miastami.
Udostępnij
Reklama
Wszelkie prawa zastrzeżone
"""


def test_chinese_page():
    result = clean_page(CHINESE_PAGE)
    assert result.title == "北京宣布扩建地铁网络"
    assert result.published == "2024年3月12日 10:15"
    assert result.paragraphs[0].startswith("北京市政府周二宣布")
    assert result.paragraphs[-1].startswith("市民对此普遍表示欢迎")
    reasons = {r.text: r.reason for r in result.removed}
    assert reasons["相关新闻"] == "widget_heading"
    assert reasons["版权所有 © 2024 新闻网"] == "footer"
    assert "上海发布新的公交计划" in reasons and "分享到微信" in reasons


def test_arabic_page_keeps_the_paragraph_after_a_read_also_box():
    result = clean_page(ARABIC_PAGE)
    assert result.title == "الحكومة تعلن خطة جديدة لدعم الشركات الصغيرة"
    assert len(result.paragraphs) == 3
    assert result.paragraphs[-1].startswith("ويرى خبراء")
    reasons = {r.text: r.reason for r in result.removed}
    assert reasons["اقرأ أيضا: ارتفاع أسعار النفط في الأسواق العالمية"] == "see_also"
    assert reasons["شارك على فيسبوك"] == "share"
    assert reasons["جميع الحقوق محفوظة © 2024"] == "footer"


def test_polish_page_keeps_the_paragraph_after_a_see_also_box():
    result = clean_page(POLISH_PAGE)
    assert (result.byline, result.published) == ("Jan Kowalski", "12 marca 2024, 10:15")
    assert result.paragraphs[-1].startswith("Eksperci uważają")
    assert {r.reason for r in result.removed} >= {"see_also", "share", "ad_marker", "footer", "breadcrumb"}


# --------------------------------------------------------------------------------------
# 'On CNN.com: ...': a link to an article on another site, named by its domain

SITE_LINK_PAGE = """Central bank cuts rates for the first time in four years | Daily Wire
Central bank cuts rates for the first time in four years
The central bank cut its key interest rate by a quarter of a point on Wednesday, the first cut in four years, citing slowing growth and weaker hiring.
Policymakers voted seven to two for the cut, and the governor said further reductions would depend on how quickly inflation falls back towards the target.
On CNN.com: Markets rally as investors cheer the rate cut...
On Monday the governor had warned lawmakers that the economy was losing momentum faster than the bank had expected in the spring.
Sur lemonde.fr : La BCE face à la tentation de baisser ses taux
Economists said the decision would lower mortgage payments for millions of households within weeks, although savers would see smaller returns.
"""


def test_line_linking_to_an_article_on_another_site_is_see_also():
    result = clean_page(SITE_LINK_PAGE)
    reasons = reasons_of(result)
    assert reasons["On CNN.com: Markets rally as investors cheer the rate cut..."] == "see_also"
    assert reasons["Sur lemonde.fr : La BCE face à la tentation de baisser ses taux"] == "see_also"
    assert result.paragraphs[0].startswith("The central bank cut its key interest rate")
    assert any(p.startswith("On Monday the governor had warned") for p in result.paragraphs)
    assert result.paragraphs[-1].startswith("Economists said the decision")
    assert len(result.paragraphs) == 4
    assert_accounted_for(SITE_LINK_PAGE, result)


@pytest.mark.parametrize("line, reason", [
    ("On CNN.com: Markets rally as investors cheer the rate cut...", "see_also"),
    ("Sur lemonde.fr : La BCE face à la tentation de baisser ses taux", "see_also"),
    ("Auf Spiegel.de: Was die Zinswende für Sparer bedeutet", "see_also"),
    ("On Monday the governor had warned lawmakers", None),
    ("On U.S. soil the troops were welcomed", None),
    ("At 3.30 pm: the vote", None),
    ("On CNN.com: Markets rally as investors cheer the rate cut.", None),  # a finished sentence
])
def test_see_also_site_line(line, reason):
    assert boilerplate_reason(line) == reason


@pytest.mark.parametrize("line, reason", [
    # German and Spanish blog and news furniture (WordPress defaults among them)
    ("Ähnliche Beiträge", "widget_heading"),
    ("Das könnte Dich auch interessieren:", "widget_heading"),
    ("Hinterlasse eine Antwort", "comment_form"),
    ("Kommentare insgesamt: 0", "comment_form"),
    ("Jetzt registrieren", "subscribe"),
    ("Lesen Sie hier: Spielabbruch in der Kreisliga", "see_also"),
    ("Puedes ver: Los resultados de la jornada electoral en Lima", "see_also"),
    ("Infórmate más", "read_more"),
    ("We ask that comments are civil and stay on the topic under discussion.", "comment_form"),
    ("Wir respektieren es voll und ganz, wenn Sie Cookies ablehnen möchten.", "cookie_notice"),
    ("APA/Georg Hochmuth", "caption"),  # an agency's photo credit
    ("dpa/Michael Kappeler", "caption"),
    # prose that shares words with them stays
    ("Ähnliche Fälle hat es in der Region schon öfter gegeben, sagte der Sprecher der Polizei am Montag.", None),
    ("Puedes verlo en el museo hasta el domingo, explicó la directora.", None),
])
def test_more_languages_furniture(line, reason):
    assert boilerplate_reason(line) == reason


# --------------------------------------------------------------------------------------
# Phrase files: one per language, loaded from a folder

def _copy_shipped_phrase_files(folder):
    folder.mkdir()
    for item in PHRASE_DIR.iterdir():
        if item.name.endswith(".json"):
            (folder / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.mark.parametrize("data, line, reason", [
    ({"labels": {"ad_marker": ["zzreklamzz"]}}, "– Zzreklamzz –", "ad_marker"),
    ({"see_also_prefixes": ["zzlees ook"]}, "Zzlees ook: De rente daalt weer", "see_also"),
    ({"phrase_starts": {"caption": ["zzbild:"]}}, "Zzbild: die Zentrale der Bank in Frankfurt", "caption"),
])
def test_a_new_language_file_is_picked_up(tmp_path, data, line, reason):
    without = _copy_shipped_phrase_files(tmp_path / "shipped")
    assert boilerplate_reason(line, rules=compile_rules(load_phrasebook(without))) != reason
    with_new = _copy_shipped_phrase_files(tmp_path / "with_xx")
    (with_new / "xx.json").write_text(json.dumps(data), encoding="utf-8")
    book = load_phrasebook(with_new)
    assert "xx" in book.languages
    rules = compile_rules(book)
    assert boilerplate_reason(line, rules=rules) == reason
    page = ("Rates fall again as the central bank acts | Zeitung\n"
            + "\n".join(f"Paragraph {n} of the report says the bank cut its rate again on Thursday." for n in range(3))
            + f"\n{line}\n"
            + "\n".join(f"Paragraph {n} of the report says savers will earn less this year." for n in range(3, 6)))
    result = clean_page(page, rules=rules)
    assert reasons_of(result)[line] == reason
    assert len(result.paragraphs) == 6


def test_shipped_phrase_files_are_valid():
    files = sorted((item for item in PHRASE_DIR.iterdir() if item.name.endswith(".json")), key=lambda i: i.name)
    assert {"common", "en", "fr", "de", "es", "it", "pt", "pl", "nl"} <= {i.name[:-5] for i in files}
    for item in files:
        data = json.loads(item.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and data, item.name
        for section, value in data.items():
            assert section in SECTIONS or section in REASON_SECTIONS, (item.name, section)
            lists = value.items() if section in REASON_SECTIONS else [(None, value)]
            for reason, entries in lists:
                assert reason is None or reason in REASONS, (item.name, section, reason)
                assert isinstance(entries, list) and entries, (item.name, section, reason)
                assert all(isinstance(e, str) and e.strip() for e in entries), (item.name, section, reason)
                assert len(set(entries)) == len(entries), (item.name, section, reason)
    book = load_phrasebook()  # raises ValueError on anything the loader rejects
    assert book.languages == tuple(i.name[:-5] for i in files)


@pytest.mark.parametrize("text, message", [
    ('{"labels": {"no_such_reason": ["x"]}}', "no_such_reason"),
    ('{"labels": {"ad_marker": [""]}}', "empty"),
    ('{"labels": {"ad_marker": ["Werbung"]}}', "lower-case"),
    ('{"labels": {"ad_marker": ["ad-label"]}}', "line key"),
    ('{"phrases": {"share": ["x"]}}', "share"),
    ('{"months": ["mai", "mai"]}', "twice"),
    ('{"monthz": ["mai"]}', "unknown section"),
    ('{"labels": {"footer": ["advertisement"]}}', "two reasons"),
    ('["not", "an", "object"]', "object"),
])
def test_phrase_loader_rejects_bad_files(tmp_path, text, message):
    folder = _copy_shipped_phrase_files(tmp_path / "phrases")
    (folder / "xx.json").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_phrasebook(folder)


def test_phrase_files_load_the_same_in_any_listing_order(tmp_path):
    folder = _copy_shipped_phrase_files(tmp_path / "phrases")

    class Reversed:
        def iterdir(self):
            return reversed(sorted(folder.iterdir()))

    book = load_phrasebook(Reversed())
    assert book == load_phrasebook(folder) == load_phrasebook()
    assert compile_rules(book) == RULES


def _sentence(i, topic):
    return (f"The {topic} sentence number {i} says what happened in the town on Monday, who said it and "
            f"why the council thinks the plan for the bridge will cost more than anyone expected at first.")


def test_the_article_right_after_the_headline_beats_a_denser_forum_further_down():
    article = [" ".join(_sentence(i * 3 + k, "article") for k in range(2)) for i in range(3)]
    forum = [" ".join(_sentence(i * 5 + k, "forum") for k in range(3)) for i in range(4)]  # twice the prose
    page = "\n".join(["Council delays vote on the bridge | Town News", "Home", "News", "Sport",
                      "Council delays vote on the bridge", *article, "Share", "Print", "More from the forum",
                      "Latest", "Top", "Popular", "Archive", "Contact", "Jobs", "Weather", "Events", *forum])
    result = clean_page(page)
    assert result.paragraphs == tuple(article)
    assert_accounted_for(page, result)


def test_subheadings_keep_a_short_first_paragraph_in_the_article():
    # A one-sentence lead, then sections under subheadings: a subheading costs less than a menu
    # item, so the lead stays in the run instead of being cut off by the first subheading.
    lead = "Die neue Brücke über den Fluss wurde am Samstag nach vier Jahren Bauzeit von der Bürgermeisterin eröffnet."
    sections = [" ".join(_sentence(i * 2 + k, "bridge") for k in range(2)) for i in range(2)]
    page = "\n".join(["Neue Brücke über den Fluss eröffnet | Stadtnachrichten", "Startseite", "Politik", "Chronik",
                      "Neue Brücke über den Fluss eröffnet", lead,
                      "Lange Bauzeit", sections[0], "Kosten höher als geplant", sections[1],
                      "Impressum", "Datenschutz", "Kontakt"])
    result = clean_page(page)
    assert result.paragraphs == (lead, "Lange Bauzeit", sections[0], "Kosten höher als geplant", sections[1])
    assert_accounted_for(page, result)


def test_a_menu_line_is_not_a_subheading():
    # The rules' penalties alone: the line model brings back a prose line right after the headline
    # (usually the article's lead on real pages), so it is left out here.
    teaser = "Ein Teaser auf einen anderen Artikel über das Stadtfest am nächsten Wochenende mit Musik und Essen."
    body = [" ".join(_sentence(i * 2 + k, "menu") for k in range(2)) for i in range(2)]
    page = "\n".join(["Council delays vote on the bridge | Town News", "Council delays vote on the bridge", teaser,
                      "News | Sport | Weather | Travel", *body])
    assert clean_page(page, line_model=False).paragraphs == tuple(body)


def test_a_line_remembered_from_one_page_is_described_afresh_on_the_next():
    # The rules describe a short line once per process; what one page does to its lines (a byline
    # learnt as the source's boilerplate loses its author) must not reach the next page.
    page = "\n".join(["Harbour reopens", "By Jane Doe", *[_sentence(i, "harbour") for i in range(3)]])
    learnt = clean_page(page, recurring=frozenset({line_fingerprint("By Jane Doe")}))
    assert learnt.byline is None and ("By Jane Doe", "recurring_in_source") in [(r.text, r.reason) for r in learnt.removed]
    assert clean_page(page).byline == "Jane Doe"
    assert clean_page(page, recurring=frozenset()).byline == "Jane Doe"
