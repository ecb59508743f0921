"""Line rules that turn scraped news page text into an article body.

Pure functions, standard library only. ``clean_page`` takes the text of a page as a scraper
saw it (one block of text per line: navigation, breadcrumbs, the title, the article, "see
also" boxes, comment forms, footers...) and returns a ``CleanResult``: the title, byline,
publication date, the article's paragraphs (each one line of the page, never rewritten, in
page order) and every other line with the reason it was removed.

How it works:

1. normalise: Unicode NFC, whitespace runs collapsed to one space, blank lines dropped;
2. describe every line (``describe_page``): its length in words, whether it ends like a
   sentence, whether it is a list ('A | B | C', tag clouds), a boilerplate label or phrase
   (share, subscribe, cookies, comments, related, advertisement, copyright, read more...
   in English, French, German, Spanish, Italian, Portuguese, Polish and Dutch), a
   breadcrumb, a caption, a byline or a date line, and whether the page repeats it;
3. lay the page out (``lay_out``): give every line a value, its words for prose and a
   penalty for short, link-like or boilerplate lines (heavy for comment forms and footers),
   and take the run of lines with the largest sum, the way Body Text Extraction finds the
   densest stretch of text; the run starts after the headline (the copy of the page's
   <title> or of the doubled title nearest the article) and stops before the comments;
   a list right after the run (tour dates, ingredients) joins it;
4. keep the prose and the lone subheadings inside the run, and give every other line a
   reason code from ``REASONS``.

No rule is written for a particular site. Every regular expression is linear: alternations
of literals and single-character classes, bounded repeats, no nested quantifiers; phrase,
label and date checks only look at the first few hundred characters of a line.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

REASONS: dict[str, str] = {
    "breadcrumb": "navigation trail before the headline ('Home > News', 'HomeTop Stories...')",
    "repeated_title": "another copy of the headline, or the headline with the site name",
    "see_also": "link to another article inside the body ('See also ...', 'Lire aussi ...')",
    "ad_marker": "advertisement label ('Advertisement', 'Anzeige', 'Publicité')",
    "comment_form": "comment form or comment section text ('Please enter your comment!')",
    "widget_heading": "heading of a sidebar or list widget ('Most Popular', 'Recent Comments')",
    "promo": "self-promotion of the site ('For the latest news ... visit X', 'Follow us')",
    "subscribe": "newsletter, subscription or sign-in prompt",
    "share": "social sharing buttons ('Share', 'Tweet', 'Facebook')",
    "cookie_notice": "cookie or privacy consent banner",
    "footer": "legal footer ('All rights reserved', 'Privacy Policy', '(c) 2019 ...')",
    "read_more": "link to continue reading ('Read more', 'Weiterlesen')",
    "caption": "image caption or photo credit ('Photo: ...', 'Image credit: ...')",
    "dateline": "date line other than the one kept as the publication date",
    "author_bio": "box about the author or the site ('About Jane Doe', 'Jane Doe is a ...')",
    "byline_extra": "author line other than the byline kept, or author details",
    "navigation": "short link-like line outside the article (menus, link lists, tags)",
    "link_list": "line of a run of short lines inside the article (related links, menus)",
    "outside_main_text": "prose outside the article's main run of text (teasers, comments)",
    "no_text": "line with no letters or digits ('***', '|', '•')",
    "duplicate": "second copy of a line already kept in the body",
    "recurring_in_source": "line found on many pages of the same source in this run (menus, promos, footers)",
}


@dataclass(frozen=True)
class RemovedLine:
    """A line of the page that is not part of the article body, with a ``REASONS`` code."""

    text: str
    reason: str


@dataclass(frozen=True)
class CleanResult:
    """What ``clean_page`` found in a page."""

    title: str | None
    paragraphs: tuple[str, ...]
    byline: str | None
    published: str | None
    removed: tuple[RemovedLine, ...]

    @property
    def body(self) -> str:
        """The article body: paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)


# --------------------------------------------------------------------------------------
# Normalisation

_WHITESPACE = re.compile(r"\s+")


def normalise_lines(text: str) -> list[str]:
    """NFC-normalise ``text``, split it into lines, collapse whitespace, drop blank lines."""
    text = unicodedata.normalize("NFC", text)
    lines = []
    for raw in text.splitlines():
        line = _WHITESPACE.sub(" ", raw).strip()
        if line:
            lines.append(line)
    return lines


# --------------------------------------------------------------------------------------
# Limits: expensive checks only look at the start of a line.

_SCAN = 400          # characters of a line searched for boilerplate phrases
_DATE_SCAN = 160     # characters of a line searched for a date
_META_MAX = 160      # a byline or date line is at most this long
_LABEL_MAX = 80      # a menu item, button or widget heading is at most this long
_TITLE_MAX = 300     # a headline is at most this long
_TITLE_SEARCH = 2000  # the title is looked for in this many first lines
_GLUE_WINDOW = 30    # a headline's glued copy is at most this many lines before it


# --------------------------------------------------------------------------------------
# Boilerplate phrase families. A *label* is a whole short line once lower-cased and
# stripped of digits and punctuation ("12 Comments" -> "comments"); a *prefix* starts such
# a key ("See also: ..." -> "see also ..."); a *phrase* may appear anywhere in the first
# _SCAN characters of a line of any length.

def _words(text: str) -> frozenset[str]:
    """Split a '|'-separated list of labels into a frozenset."""
    return frozenset(item.strip() for item in text.split("|") if item.strip())


_LABELS: dict[str, frozenset[str]] = {
    "ad_marker": _words(
        "advertisement|advertisements|advertising|advert|ad|ads|sponsored|sponsored content|"
        "sponsored links|sponsored stories|"
        "paid content|paid post|promoted|promoted content|partner content|anzeige|werbung|"
        "publicité|publicite|publicidad|pubblicità|pubblicita|publicidade|reklama|"
        "advertentie|annonce|sponsorisé|gesponsert|patrocinado|sponsorizzato|"
        "story continues below advertisement|article continues below advertisement|"
        "continue reading below|advertisement continue reading below|"
        "scroll to continue with content|continue reading the main story|"
        "广告|廣告|إعلان|اعلان|реклама"),
    "widget_heading": _words(
        "most popular|most read|most viewed|most shared|most commented|most emailed|popular|"
        "popular posts|popular stories|popular articles|popular now|trending|trending now|"
        "trending stories|recent posts|recent comments|recent articles|recent stories|latest|"
        "latest news|latest posts|latest stories|latest articles|latest headlines|"
        "top stories|top news|editor s picks|editors picks|editor picks|more stories|"
        "more news|related|related articles|related stories|related posts|related news|"
        "related content|related topics|related coverage|you may also like|"
        "you might also like|you may like|recommended|recommended for you|"
        "recommended stories|don t miss|categories|tags|archives|topics|featured|"
        "featured stories|in other news|around the web|from the web|more from the web|"
        "what s hot|read next|up next|next article|previous article|next post|previous post|"
        "next story|previous story|more in|more on this|more on this story|also on|"
        "les plus lus|plus lus|les plus populaires|populaires|à la une|a la une|"
        "derniers articles|dernières actualités|dernieres actualites|dernières infos|"
        "articles récents|commentaires récents|articles similaires|sur le même sujet|"
        "à lire aussi|a lire aussi|vous aimerez aussi|voir aussi|dans la même rubrique|"
        "meistgelesen|meistgelesene artikel|am meisten gelesen|neueste artikel|"
        "neueste beiträge|aktuelle beiträge|neueste kommentare|ähnliche artikel|"
        "verwandte artikel|mehr zum thema|auch interessant|"
        "das könnte sie auch interessieren|top themen|themen|schlagworte|schlagwörter|"
        "lo más leído|lo mas leido|más leídas|más leído|mas leidas|más populares|"
        "últimas noticias|ultimas noticias|noticias relacionadas|artículos relacionados|"
        "entradas recientes|comentarios recientes|te puede interesar|"
        "también te puede interesar|lo último|etiquetas|categorías|"
        "i più letti|più letti|più lette|articoli correlati|articoli recenti|"
        "ultime notizie|commenti recenti|potrebbe interessarti|ti potrebbe interessare|"
        "mais lidas|mais lidos|mais populares|últimas notícias|notícias relacionadas|"
        "posts relacionados|artigos relacionados|posts recentes|comentários recentes|"
        "você também pode gostar|veja também|leia também|categorias|arquivos|"
        "najpopularniejsze|najczęściej czytane|najnowsze|polecane|zobacz też|zobacz także|"
        "czytaj także|czytaj też|podobne artykuły|ostatnie komentarze|tagi|"
        "meest gelezen|populair|laatste nieuws|gerelateerde artikelen|lees ook|meer nieuws|"
        "recente berichten|recente reacties|"
        "相关新闻|相關新聞|相关阅读|相關閱讀|延伸阅读|延伸閱讀|推荐阅读|推薦閱讀|相关文章|相關文章|热门新闻|熱門新聞|热门推荐|热门文章|最新新闻|最新文章|猜你喜欢|热点新闻|"
        "排行榜|الأكثر قراءة|الأكثر مشاهدة|الأكثر تداولا|أخبار ذات صلة|اخبار ذات صلة|مقالات ذات صلة|"
        "مواضيع ذات صلة|آخر الأخبار|اخر الاخبار|أخبار متعلقة|популярное|самое читаемое|"
        "похожие статьи|похожие новости|последние новости|читайте также|новости по теме|по теме"),
    "comment_form": _words(
        "comments|comment|kommentare|kommentar|commentaires|commentaire|comentarios|"
        "comentario|commenti|commento|comentários|comentário|komentarze|komentarz|reacties|"
        "reactie|reply|replies|responses|discussion|antworten|répondre|responder|rispondi|"
        "responda|odpowiedz|reageer|leave a comment|leave a reply|post a comment|"
        "add a comment|add comment|post comment|submit comment|show comments|view comments|"
        "load comments|cancel reply|name|website|your email|your name|"
        "laisser un commentaire|ajouter un commentaire|kommentar schreiben|"
        "deja un comentario|lascia un commento|deixe um comentário|dodaj komentarz|"
        "plaats een reactie|"
        "评论|評論|发表评论|發表評論|网友评论|التعليقات|تعليقات|أضف تعليق|اضف تعليق|комментарии|комментарий|"
        "оставить комментарий"),
    "share": _words(
        "share|shares|share this|share this article|share this story|share this post|"
        "share article|share story|share on facebook|share on twitter|share via email|tweet|"
        "pin|pin it|email|e mail|mail|print|print article|print this article|whatsapp|"
        "facebook|twitter|linkedin|pinterest|reddit|flipboard|pocket|tumblr|telegram|"
        "messenger|sms|copy link|copy url|link copied|get short url|save|saved|"
        "bookmark|teilen|artikel teilen|drucken|partager|partager cet article|imprimer|"
        "compartir|compartir en facebook|imprimir|condividi|stampa|compartilhar|partilhar|"
        "udostępnij|drukuj|delen|afdrukken|text size|order reprints|reprints|"
        "分享|分享到|分享至|打印|شارك|مشاركة|شارك على فيسبوك|شارك على تويتر|طباعة|поделиться|печать"),
    "subscribe": _words(
        "subscribe|subscribe now|subscribe today|subscribers only|sign in|sign up|log in|"
        "login|log out|logout|register|my account|account|newsletter|newsletters|"
        "get the newsletter|join|join now|abonnieren|jetzt abonnieren|anmelden|abmelden|"
        "registrieren|einloggen|abonnement|abonnez vous|je m abonne|s abonner|connexion|"
        "se connecter|inscription|s inscrire|suscribirse|suscríbete|iniciar sesión|"
        "registrarse|suscripción|iscriviti|abbonati|accedi|registrati|assine|assinar|"
        "inscreva se|entrar|cadastre se|zaloguj|zaloguj się|zarejestruj się|subskrybuj|"
        "prenumerata|inloggen|abonneren|aanmelden|registreren|premium"),
    "footer": _words(
        "privacy|privacy policy|privacy notice|terms|terms of use|terms of service|"
        "terms and conditions|terms conditions|cookie policy|cookies policy|cookies|"
        "cookie settings|contact|contact us|about|about us|impressum|datenschutz|"
        "datenschutzerklärung|nutzungsbedingungen|kontakt|agb|mentions légales|"
        "politique de confidentialité|conditions générales|nous contacter|contactez nous|"
        "qui sommes nous|aviso legal|política de privacidad|política de cookies|contacto|"
        "contáctenos|quiénes somos|informativa privacy|privacy policy e cookie|note legali|"
        "contatti|chi siamo|política de privacidade|termos de uso|fale conosco|contato|"
        "quem somos|polityka prywatności|regulamin|o nas|privacybeleid|"
        "algemene voorwaarden|over ons|sitemap|site map|accessibility|ad choices|"
        "your ad choices|adchoices|advertise|advertise with us|careers|jobs|rss|rss feeds|"
        "help|faq|"
        "联系我们|聯繫我們|关于我们|關於我們|隐私政策|隱私政策|免责声明|网站地图|اتصل بنا|من نحن|سياسة الخصوصية|شروط الاستخدام|"
        "контакты|о нас|политика конфиденциальности|пользовательское соглашение"),
    "navigation": _words(
        "back to top|top|skip to content|skip to main content|skip to navigation|"
        "menu|open menu|close|search|suche|recherche|buscar|cerca|pesquisar|szukaj|zoeken|"
        "home|homepage|accueil|startseite|inicio|início|strona główna|back|go back|zurück|"
        "retour|volver|indietro|voltar|powrót|terug|previous|next|zurück zur übersicht|"
        "首页|首頁|返回首页|返回顶部|الرئيسية|الصفحة الرئيسية|главная|поиск"),
    "read_more": _words(
        "read more|continue reading|read the full story|read full story|read full article|"
        "read the full article|read the rest|more|show more|load more|view more|see more|"
        "see all|view all|weiterlesen|mehr lesen|mehr|alle anzeigen|lire la suite|"
        "lire plus|voir plus|en savoir plus|leer más|seguir leyendo|ver más|leer mas|"
        "leggi di più|continua a leggere|leggi tutto|altro|leia mais|continue lendo|"
        "ver mais|saiba mais|czytaj więcej|czytaj dalej|więcej|lees meer|verder lezen|meer"),
}

# A key starting with one of these links to another article ("See also: ...").
_SEE_ALSO = re.compile(
    r"^(?:see also|also see|also on|read also|also read|read more|more from|related|related story|"
    r"related article|recommended|watch|listen|lire aussi|à lire aussi|a lire aussi|"
    r"voir aussi|lire également|lesen sie auch|lesen sie mehr|auch lesen|mehr dazu|"
    r"mehr zum thema|lee también|lea también|ver también|leggi anche|leia também|"
    r"veja também|leia mais|czytaj także|czytaj też|zobacz też|zobacz także|lees ook|"
    r"lees meer|bekijk ook|see more|相关阅读|相關閱讀|延伸阅读|延伸閱讀|推荐阅读|相关新闻|相關新聞|"
    r"اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|إقرأ أيضاً|اقرأ ايضا|читайте также|смотрите также|см также)\b|"
    r"^(?:on|at|from|auf|sur|en|su|em|na|op) [\w-]+(?:\.[\w-]+)*\.[a-z]{2,6} ")

# Short keys starting with these are widget headings ("More Great Stories", "Weitere
# Beiträge zum Thema") or share buttons ("Share via Email").
_MORE_PREFIX = re.compile(
    r"^(?:you (?:may|might|will) (?:also )?(?:like|enjoy|be interested)|"
    r"vous (?:aimerez|pourriez) aussi|das könnte sie|te (?:puede|podría) interesar|"
    r"ti potrebbe|você (?:também )?pode gostar|"
    r"more|weitere|mehr|plus d|autres|más|mas|otras|otros|altri|altre|mais|outras|"
    r"outros|więcej|inne|meer|andere)\b")
_WIDGET_PREFIX = re.compile(
    r"^(?:most|trending|popular|latest|recent|related|recommended|editor s|editors|"
    r"featured|meistgelesen|beliebt|neueste|aktuelle|populaires|derniers|dernières|"
    r"más|últimas|ultime|più|mais|najnowsze|najpopularniejsze|meest|populair)\b")
_SHARE_PREFIX = re.compile(
    r"^(?:share|click to share|teilen|partager|compartir|condividi|compartilhar|partilhar|"
    r"udostępnij|delen)\b")
_GALLERY_COUNTER = re.compile(r"^\d+ ?(?:of|/|von|de|di|z|van|sur) ?\d+(?:$| (?=[A-Z]))")
_FOLLOW_PREFIX = re.compile(
    r"^(?:follow|folgen sie|suivez|síguenos|seguici|siga|obserwuj|volg) ")
_ABOUT_PREFIX = re.compile(
    r"(?:about|über|sobre|à propos de|a proposito di|informazioni su|o|over) (?=[^\W\d_])",
    re.IGNORECASE)

# Phrases that mark a line as boilerplate wherever they appear in it.
_PHRASE_SOURCES: dict[str, str] = {
    "comment_form": (
        r"please enter your (?:comment|name)|you have entered an incorrect|"
        r"enter your (?:comment|name|email)|leave a (?:reply|comment)|cancel reply|"
        r"your email address will not be published|required fields are marked|"
        r"save my name,? email|notify me of (?:new|follow)|comments are closed|"
        r"be the first to comment|view the discussion thread|join the (?:conversation|discussion)|"
        r"(?:log|sign) in to (?:comment|reply)|comment policy|community guidelines|"
        r"comments powered by|add your comment|"
        r"laisser un commentaire|laissez un commentaire|"
        r"votre adresse (?:e-?mail|de messagerie) ne sera pas publiée|"
        r"kommentar (?:schreiben|verfassen)|schreibe einen kommentar|"
        r"(?:ihre|deine) e-mail-adresse wird nicht veröffentlicht|antworten abbrechen|"
        r"deja (?:un comentario|una respuesta)|"
        r"tu dirección de correo electrónico no será publicada|"
        r"cancelar respuesta|lascia (?:un commento|una risposta)|"
        r"il tuo indirizzo (?:e-?mail )?non sarà pubblicato|annulla risposta|"
        r"deixe (?:um comentário|uma resposta)|endereço de e-?mail não será publicado|"
        r"cancelar resposta|dodaj komentarz|zostaw komentarz|"
        r"adres e-?mail nie zostanie opublikowany|laat een reactie achter|plaats een reactie|"
        r"e-?mailadres wordt niet gepubliceerd"),
    "cookie_notice": (
        r"cookie.{0,120}(?:use|accept|consent|agree|settings|policy|browsing|experience|"
        r"verwend|akzept|zustimm|utilis|navigation|navegación|navegação|accett|"
        r"acept|aceit|zgod|gebruik|akkoord|privacy|datenschutz|confidentialité|privacidad)|"
        r"(?:we|nous|wir) (?:use|utilisons|verwenden|nutzen) (?:cookies|des cookies)|"
        r"by (?:continuing|using) (?:to use |to browse )?(?:this|our) (?:site|website)|"
        r"by choosing i accept|we value your privacy|consent to our use|"
        r"utilizamos cookies|usamos cookies|utilizziamo (?:i )?cookie|używamy plików cookie|"
        r"wij gebruiken cookies|we gebruiken cookies"),
    "footer": (
        r"all rights? reserved|tous droits réservés|alle rechte vorbehalten|"
        r"todos los derechos reservados|tutti i diritti riservati|"
        r"todos os direitos reservados|wszelkie prawa zastrzeżone|alle rechten voorbehouden|"
        r"版权所有|版權所有|جميع الحقوق محفوظة|все права защищены|"
        r"^copyright\b|^\(c\) \d{4}|^© ?\d{4}|is a registered trademark|"
        r"(?:this|the) (?:material|content) may not be (?:published|reproduced)|"
        r"is part of [^.]{1,60}, an? [^.]{0,60}(?:media|publish)|"
        r"for personal,? non-commercial use only"),
    "subscribe": (
        r"sign up (?:for|to) (?:our|the)|subscribe to (?:our|the)|"
        r"(?:get|join) our (?:free )?(?:daily |weekly )?newsletter|"
        r"to read the full (?:story|article)|already a subscriber|create a free account|"
        r"subscribe now|sign up now|(?:free|daily|weekly) newsletter|"
        r"\byour inbox\b|\brecaptcha\b|^subscribe to\b|we send newsletters|unsubscribe at any time|"
        r"abonnez-vous|inscrivez-vous à notre|newsletter abonnieren|melden sie sich|"
        r"suscríbete|iscriviti alla|assine a nossa|inscreva-se|zapisz się|schrijf je in|"
        r"meld je aan"),
    "promo": (
        r"^for .{0,120}\bvisit\b|follow us|"
        r"download (?:our|the) (?:free )?app|get the app|get our app|"
        r"^(?:click|tap) here|like us on facebook|share (?:it|this) with|"
        r"support independent journalism|"
        r"support our journalism|turn off your ad ?blocker|ad ?block(?:er|ing)|"
        r"(?:got|have) a (?:news )?tip|folgen sie uns|suivez-nous|síguenos|seguici|siga-nos|"
        r"obserwuj nas|volg ons"),
}


def _family_pattern(*reasons: str) -> re.Pattern[str]:
    """One alternation with a named group per phrase family, so a line is scanned once."""
    return re.compile("|".join(f"(?P<{reason}>{_PHRASE_SOURCES[reason]})" for reason in reasons))


_PHRASES_ANY_LINE = _family_pattern("comment_form", "cookie_notice", "footer")
_PHRASES_SHORT_LINE = _family_pattern("subscribe", "promo")  # lines of 40 words or fewer


# Image captions and credits, matched on the lower-cased start of a line.
_CAPTION_START = re.compile(
    r"(?:photo|photos|image|images|picture|pictures|foto|fotos|bild|bilder|"
    r"illustration|credit|credits|crédit|crédits|above|top|pictured|zdjęcie|fot|"
    r"afbeelding|imagem|imagen|immagine|source|quelle|video)(?: credit| by)? ?:|"
    r"\(?(?:photo|foto|image|bild) ?:|"
    r"(?:photo|photograph|picture|image|foto|bild) (?:by|courtesy|from|via|credit)\b|"
    r"(?:image|photo|picture|media) caption\b|credit\.\.\.|\d{1,3} ?(?:of|/) ?\d{1,3}(?: |$)")
_CAPTION_ANYWHERE = re.compile(
    r"©|getty images|ap photo|\(image: |/afp\b|/reuters\b|credit\.\.\. |"
    r"/ ?associated press\b|via reuters\b|shutterstock|istock|"
    r"\b(?:submitted|file|staff|contributed) photo\b")

_SOCIAL = _words(
    "facebook|twitter|linkedin|pinterest|reddit|flipboard|pocket|tumblr|telegram|whatsapp|"
    "instagram|youtube|email|e mail|mail|print|rss|share|tweet|sms|messenger|snapchat|"
    "tiktok|google|mix|copy|link|xing|vk|viber|line|icon")

_BREADCRUMB_START = re.compile(
    r"^(?:Home|HOME|Homepage|Accueil|ACCUEIL|Startseite|Inicio|INICIO|Início|Strona główna|"
    r"Главная)(?:[\s>»›/|:•-]|(?=[A-Z]))")
_BREADCRUMB_SEPARATORS = ">»›"
_GLUED_WORDS = re.compile(r"[a-zß-ÿ][A-ZÀ-Þ]")  # 'HomeTop StoriesThe US': links glued together


# --------------------------------------------------------------------------------------
# Dates and bylines

_MONTHS = (
    # English
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    # French
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre|janv|févr|avr|juil|déc|"
    # German
    "januar|jänner|februar|märz|juni|juli|oktober|dezember|okt|dez|"
    # Spanish
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|ene|abr|ago|dic|"
    # Italian
    "gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|gen|mag|giu|"
    "lug|set|ott|"
    # Portuguese
    "janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro|fev|out|"
    # Polish (genitive and nominative)
    "stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|"
    "listopada|grudnia|styczeń|luty|marzec|kwiecień|maj|czerwiec|lipiec|sierpień|wrzesień|"
    "październik|listopad|grudzień|"
    # Dutch
    "januari|februari|maart|mei|augustus|mrt|"
    # Russian (genitive)
    "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|"
    "декабря")
_MONTH = "(?:" + "|".join(sorted(set(_MONTHS.split("|")), key=len, reverse=True)) + ")"
_YEAR = r"(?:19|20)\d\d"
_TIME = (r"(?:,? (?:at |à |a las |às |alle |um |om |o |@ ?|- |· |\| )?"
         r"\d{1,2}[:.h]\d\d(?: ?[ap]\.?m\.?)?)?")
_DATE = re.compile(
    r"\b(?:"
    + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?,? " + _YEAR           # November 20, 2019
    + r"|\d{1,2}(?:\.|er|º|°|st|nd|rd|th)? (?:de )?" + _MONTH      # 20 novembre 2019
    + r"\.?,? (?:de )?" + _YEAR                                    # 20. November 2019
    + r"|" + _YEAR + r"-\d\d-\d\d"                                 # 2019-11-20
    + r"|\d{1,2}[./-]\d{1,2}[./-](?:" + _YEAR + r"|\d\d)"          # 20.11.2019, 11/20/19
    + r"|" + _YEAR + r"年\d{1,2}月\d{1,2}日"                        # 2019年11月20日
    + r")\b" + _TIME,
    re.IGNORECASE)

# Every date _DATE knows has a four-digit year or a d/m/y group: look for those first.
_YEAR_LIKE = re.compile(r"(?:19|20)\d\d|\d[./-]\d{1,2}[./-]\d")

_BYLINE_START = re.compile(
    r"^(?:written by|posted by|published by|story by|words by|reporting by|by|par|von|por|"
    r"door|di|autor|autorin|auteur|author|text|texte|tekst|текст|автор)(?: ?:)? ",
    re.IGNORECASE)
_NAME_JOINERS = _words(
    "and|und|et|y|e|i|en|de|van|von|der|den|da|di|du|le|la|del|dos|das|bin|al|&|ten|zu")
_NAME_STOP = re.compile(r"[|,•·/—–;(]| - | on | am | le | el | il | em | w | op ")
_WORD_SPLIT = re.compile(r"[\W\d_]+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_CJK = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


_CLOSERS = "\"'”’»)]"
_TERMINALS = frozenset(".!?…。！？:;")


def ends_sentence(line: str) -> bool:
    """True when ``line`` ends with sentence punctuation, closing quotes aside."""
    return line.rstrip(_CLOSERS)[-1:] in _TERMINALS


def ends_with_period(line: str) -> bool:
    """True when ``line`` ends with a full stop (not an ellipsis), closing quotes aside."""
    bare = line.rstrip(_CLOSERS)
    return bare.endswith(".") and not bare.endswith("..")


def find_date(line: str) -> str | None:
    """Return the first date written in ``line`` (as written), or None."""
    head = line[:_DATE_SCAN]
    for year in _YEAR_LIKE.finditer(head):
        window = max(0, year.start() - 40)
        match = _DATE.search(head, window, year.end() + 30)
        if match:
            return match.group(0)
    return None


def _name_tokens(text: str) -> list[str] | None:
    """Return the tokens of a person's or agency's name at the start of ``text``, or None.

    A name is one to six words that start with a capital letter (joiners such as 'and',
    'van', 'de' allowed inside), stopping at the first separator or lower-case word.
    """
    stop = _NAME_STOP.search(text)
    head = text[:stop.start()] if stop else text
    tokens = []
    for token in head.split():
        if token.endswith(":"):
            break
        if token[0].isupper() or token[0] in "@":
            tokens.append(token)
        elif token.lower() in _NAME_JOINERS and tokens:
            tokens.append(token)
        else:
            break
    while tokens and tokens[-1].lower() in _NAME_JOINERS:
        tokens.pop()
    if not 1 <= len(tokens) <= 6 or any(any(ch.isdigit() for ch in t) for t in tokens):
        return None
    return tokens


def find_byline(line: str) -> str | None:
    """Return the author named by a line such as 'By Jane Doe', 'Par Jean Dupont', or None."""
    n_words = len(line.split()) if len(line) <= _META_MAX else 99
    if n_words > 14 or (n_words > 6 and ends_sentence(line)):
        return None
    start = _BYLINE_START.match(line)
    if not start:
        return None
    tokens = _name_tokens(line[start.end():])
    return " ".join(tokens).rstrip(".:") if tokens else None


_LONE_BY = frozenset({"by", "par", "von", "por", "door", "di", "autor", "author", "auteur"})
_COMMENT_COUNT = re.compile(
    r"\b\d+ (?:comments?|kommentare?|commentaires?|comentarios?|commenti|comentários?|"
    r"komentarz[ey]?|reacties|responses?|replies|reactions|antworten|réponses|respuestas|"
    r"risposte|respostas|odpowiedzi|thoughts)\b|"
    r"^(?:one|no) (?:comment|response|reply|thought)s? (?:on|to)\b|"
    r"^(?:comments|responses|replies|thoughts) (?:on|to)\b")


def looks_like_name(line: str) -> bool:
    """True for a short line that is only a name ('Sarah E. Needleman')."""
    if len(line) > 60:
        return False
    tokens = _name_tokens(line)
    return bool(tokens) and len(tokens) == len(line.split()) and len(tokens) >= 2


# --------------------------------------------------------------------------------------
# Describing lines

_PROSE_WORDS = 8   # a line of at least this many words that ends a sentence is prose
_LONG_WORDS = 20   # a line of at least this many words is prose whatever its end


@dataclass
class _Line:
    """What the rules know about one normalised line of the page."""

    text: str
    words: float
    sentence: bool
    boilerplate: str | None
    has_text: bool
    list_like: bool = False
    repeated: bool = False
    author: str | None = None
    date: str | None = None

    @property
    def prose(self) -> bool:
        """True for a line that reads like a paragraph of running text."""
        return self.has_text and not self.list_like and (
            (self.sentence and self.words >= _PROSE_WORDS) or self.words >= _LONG_WORDS)

    @property
    def meta(self) -> bool:
        """True for a byline or a date line."""
        return self.author is not None or self.date is not None


def word_count(line: str) -> float:
    """Words in ``line``; a Chinese, Japanese or Thai character counts as half a word."""
    spaced = line.count(" ") + 1
    if line.isascii():
        return spaced
    return spaced + len(_CJK.findall(line)) / 2


def line_key(line: str) -> str:
    """Lower-case ``line`` keeping only its words: '12 Comments »' -> 'comments'."""
    return _WORD_SPLIT.sub(" ", line.lower()).strip()


def is_breadcrumb(line: str, words: float) -> bool:
    """True for a navigation trail: 'Home > News > World', 'Accueil › Monde', 'HomeWorld'."""
    if words > 20 or ends_sentence(line):
        return False
    separators = sum(line.count(sep) for sep in _BREADCRUMB_SEPARATORS)
    if _BREADCRUMB_START.match(line):
        return separators >= 1 or len(_GLUED_WORDS.findall(line)) >= 2
    return separators >= 2 and words <= 12


def _label_reason(line: str, words: float) -> str | None:
    """Reason code when a short line is a boilerplate label ('Share', '12 Comments'), a
    breadcrumb, or starts like one ('See also ...', 'Share via email', 'Follow us on')."""
    if len(line) > 200:
        return None
    key = line_key(line)
    if not key:
        return None
    if is_breadcrumb(line, words):
        return "breadcrumb"
    if len(line) <= _LABEL_MAX:
        for reason, labels in _LABELS.items():
            if key in labels:
                return reason
    return _prefix_reason(line, key, words)


def _prefix_reason(line: str, key: str, words: float) -> str | None:
    """Reason code for a short line that starts like a label (``key`` is ``line_key``)."""
    bare = line.rstrip(_CLOSERS)
    unfinished = bare[-1:] not in ".!?" or bare.endswith("..")
    if words <= 30 and unfinished and _SEE_ALSO.match(key):
        return "see_also"
    if unfinished and ((words <= 8 and _MORE_PREFIX.match(key))
                       or (words <= 3 and _WIDGET_PREFIX.match(key))):
        return "widget_heading"
    if words <= 12 and unfinished and _SHARE_PREFIX.match(key):
        return "share"
    if _GALLERY_COUNTER.match(line):
        return "caption"
    if words <= 15 and "newsletter" in key:
        return "subscribe"
    if words <= 20 and _FOLLOW_PREFIX.match(line.lower()):
        return "promo"
    about = _ABOUT_PREFIX.match(line)
    if words <= 6 and about and looks_like_name(line[about.end():]):
        return "author_bio"
    tokens = key.split()
    if len(tokens) >= 2 and all(token in _SOCIAL for token in tokens):
        return "share"
    if words <= 16 and _COMMENT_COUNT.search(line.lower()):
        return "comment_form"
    return None


def boilerplate_reason(line: str, words: float | None = None) -> str | None:
    """Reason code from ``REASONS`` when ``line`` is a boilerplate phrase, else None."""
    if words is None:
        words = word_count(line)
    reason = _label_reason(line, words)
    if reason:
        return reason
    head = line[:_SCAN].lower()
    match = _PHRASES_ANY_LINE.search(head)
    if match is None and words <= 40:
        match = _PHRASES_SHORT_LINE.search(head)
    if match is not None:
        return match.lastgroup
    if len(line) <= _TITLE_MAX and (_CAPTION_START.match(head) or _CAPTION_ANYWHERE.search(head)):
        return "caption"
    return None


_PUNCTUATION = frozenset(".,;:!?。，、；：！？")


def looks_like_list(line: str, words: float, sentence: bool) -> bool:
    """True for a line of items rather than prose: 'A | B | C', 'tag, tag, tag, tag',
    or twenty words or more without a single punctuation mark (a tag cloud). Separators
    only count when they are dense: prose uses ' - ' as a dash now and then."""
    head = line[:_SCAN]
    head_words = min(words, head.count(" ") + 1)
    bars = head.count(" | ") + head.count(" • ") + head.count(" · ")
    if bars >= 2 and head_words <= 6 * (bars + 1):
        return True
    dashes = head.count(" - ")
    if dashes >= 4 and head_words <= 5 * (dashes + 1):
        return True
    commas = head.count(",")
    if not sentence and commas >= 4 and min(words, 60) <= 3 * commas:
        return True
    return words >= _LONG_WORDS and not any(ch in _PUNCTUATION for ch in head)


def _is_date_line(line: str, date: str | None) -> bool:
    """True when a short line is mostly a date ('Reuters November 18, 2019 11:03 PM')."""
    if date is None or len(line) > _META_MAX:
        return False
    return len(line_key(line.replace(date, " ")).split()) <= 6


def _describe(line: str) -> _Line:
    """Compute the features of one normalised line."""
    words = word_count(line)
    sentence = ends_sentence(line)
    described = _Line(
        text=line,
        words=words,
        sentence=sentence,
        boilerplate=boilerplate_reason(line, words),
        has_text=_LETTER_OR_DIGIT.search(line) is not None,
        list_like=looks_like_list(line, words, sentence),
    )
    if len(line) <= _META_MAX:
        described.author = find_byline(line)
        date = find_date(line)
        if described.author is not None or _is_date_line(line, date):
            described.date = date
    return described


def describe_page(lines: list[str]) -> list[_Line]:
    """Describe every line, marking repeated lines and names on the line after a lone 'By'."""
    described = [_describe(line) for line in lines]
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    for index, line in enumerate(described):
        line.repeated = counts[line.text] > 1
        if (line.text.lower() in _LONE_BY and index + 1 < len(described)
                and looks_like_name(described[index + 1].text)):
            line.boilerplate = "byline_extra"
            described[index + 1].author = described[index + 1].text
    return described


# --------------------------------------------------------------------------------------
# Title

_MAX_SITE_PARTS = 4
_SITE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " : ", " · ", " « ", " » ")


def strip_site_name(title: str) -> str:
    """Remove trailing site names: 'Headline | News | Site.com' -> 'Headline'.

    A name is cut when it is short (at most 5 words, 40 characters) and no longer than
    what stays; at most _MAX_SITE_PARTS names are cut, and only from a title-sized text.
    """
    if len(title) > 2 * _TITLE_MAX:
        return title
    for _ in range(_MAX_SITE_PARTS):
        index, sep = max((title.rfind(sep), sep) for sep in _SITE_SEPARATORS)
        if index <= 0:
            return title
        head, tail = title[:index], title[index + len(sep):]
        if not tail or len(tail) > 40 or tail.count(" ") > 4 or len(head) < len(tail):
            return title
        title = head
    return title


def headline_like(line: _Line) -> bool:
    """True for a line that could be a headline: 2 to 30 words, not boilerplate."""
    return (2 <= line.words <= 30 and len(line.text) <= _TITLE_MAX
            and line.boilerplate is None and line.has_text)


def _title_words(text: str) -> set[str]:
    """The set of lower-cased words of a title."""
    return set(line_key(text).split())


def _title_candidates(lines: list[_Line], source: str, first: int) -> list[int]:
    """Indexes (from ``first`` on) of headline-like lines that repeat ``source``, the page's
    <title> line or the title hint.

    A line repeats the source when it is a large part of it ('Headline' in
    'Headline | Site') or shares most of its words ('Homemade Spiced Pear Jam for the
    Holidays' for 'Spiced Pear Jam Recipe | Site').
    """
    if len(source) > 2 * _TITLE_MAX:
        return []
    stripped = strip_site_name(source)
    wanted = _title_words(stripped)
    found = []
    for index in range(first, min(len(lines), _TITLE_SEARCH)):
        line = lines[index]
        if not headline_like(line):
            continue
        if line.text in source and len(line.text) >= 0.4 * len(stripped):
            found.append(index)
        elif len(wanted) >= 3 and line.words <= 2 * len(wanted) + 3 and not line.sentence:
            shared = len(wanted & _title_words(line.text))
            if shared >= 0.75 * len(wanted):
                found.append(index)
    return found


def _glued_headlines(lines: list[_Line], limit: int) -> list[int]:
    """Indexes, before ``limit``, of headline-like lines that a line shortly before repeats,
    alone or glued to a breadcrumb or a site name ('Home > News > Headline', 'Headline |
    Site' followed by 'Headline')."""
    found = []
    for index in range(1, min(limit, len(lines), _TITLE_SEARCH)):
        line = lines[index]
        if not headline_like(line) or line.words < 3 or ends_with_period(line.text):
            continue
        for other in lines[max(0, index - _GLUE_WINDOW):index]:
            if len(other.text) <= 2 * _TITLE_MAX and line.text in other.text:
                found.append(index)
                break
    return found


def _pick_title(lines: list[_Line], body_start: int,
                hint: str | None) -> tuple[str | None, int | None, int | None]:
    """Return (title, index of the line consumed as the title, index of the headline line).

    The headline line is the copy of the page's first line (its <title>) or of the hint
    closest before the body, else a headline that a nearby line repeats. The title is
    the hint without its site name when there is a hint, else the headline line, else
    the first line without its site name.
    """
    if hint is not None:
        source = " ".join(normalise_lines(hint))
        candidates = _title_candidates(lines, source, 0)
        # The first line is usually the page's <title>: a later copy is the headline.
        candidates = [index for index in candidates if index > 0] or candidates
    elif lines:
        source = lines[0].text
        candidates = _title_candidates(lines, source, 1)
    else:
        return None, None, None
    candidates = candidates or _glued_headlines(lines, body_start + 1)
    before = [index for index in candidates if index <= body_start]
    headline = before[-1] if before else (candidates[0] if candidates else None)
    if hint is not None:
        title = strip_site_name(source) or None
        consumed = headline if headline is not None and lines[headline].text == title else None
        return title, consumed, headline
    if headline is not None:
        return lines[headline].text, headline, headline
    if headline_like(lines[0]) and not ends_with_period(lines[0].text):
        return strip_site_name(lines[0].text), 0, 0
    return None, None, None


def _title_copy_reason(line: str, title: str, inside: bool) -> str | None:
    """'breadcrumb' or 'repeated_title' when ``line`` is another copy of the title; inside
    the article only an exact copy counts."""
    if line == title:
        return "repeated_title"
    if inside or len(title) < 15 or title.count(" ") < 2 or len(line) > len(title) + 80:
        return None
    index = line.find(title)
    if index < 0:
        return None
    if index > 0 and line.endswith(title) and line[:index].rstrip()[-1:] not in "|:-–—·":
        return "breadcrumb"
    return "repeated_title"


# --------------------------------------------------------------------------------------
# The main run of prose

_LINE_COST = 6.0          # every line costs this many words: one-sentence teasers do not pay
_SHORT_PENALTY = 8.0      # cost of including a short, link-like line in the main run
_WIDGET_PENALTY = 12.0    # cost of including a widget heading or a subscription prompt
_BARRIER = 60.0           # comment forms, footers: the article does not run across them
_BARRIER_REASONS = frozenset({"comment_form", "footer", "cookie_notice"})
_WIDGET_REASONS = frozenset({"widget_heading", "subscribe", "promo"})
_COMMENTS_AFTER = 40.0    # prose words after the title that make a comment marker final
_ISOLATED_SHARE = 0.5     # weight of a prose line between two non-prose lines
_NEAR_SHARE = 0.1         # the run after the headline must hold this share of the best run
_IN_BODY_REASONS = frozenset({"caption", "ad_marker"})
# Lines that interrupt an article in the middle ('See also ...' boxes, ad labels): the article runs
# on across them, so they cost little and do not isolate the paragraphs around them.
_INTERRUPTION_REASONS = frozenset({"see_also", "ad_marker"})
_INTERRUPTION_PENALTY = 3.0
_LIST_WORDS = 4.0         # a list of the article has items this long on average
_LIST_BREAKERS = frozenset({"widget_heading", "see_also", "subscribe", "promo"}) | _BARRIER_REASONS
_MAX_SHORT_RUN = 2        # longer runs of short lines inside the article are link lists


def line_value(line: _Line) -> float:
    """How much a line argues for being inside the article: prose words, or a penalty."""
    if line.boilerplate in _BARRIER_REASONS:
        return -_BARRIER
    if line.boilerplate in _WIDGET_REASONS:
        return -_WIDGET_PENALTY
    if line.boilerplate in _INTERRUPTION_REASONS:
        return -_INTERRUPTION_PENALTY
    if line.boilerplate is not None or line.meta or line.repeated:
        return -_SHORT_PENALTY
    if line.prose:
        return line.words - _LINE_COST
    if line.sentence and line.words >= 4 and not line.list_like:
        return 0.0
    return -_SHORT_PENALTY


def line_values(lines: list[_Line]) -> list[float]:
    """``line_value`` of every line; a prose line with no prose line next to it (a teaser
    between a headline and a date) counts for only _ISOLATED_SHARE of its words."""
    values = [line_value(line) for line in lines]

    def neighbour(index: int, step: int) -> bool:
        index += step
        while 0 <= index < len(lines) and lines[index].boilerplate in _INTERRUPTION_REASONS:
            index += step
        return 0 <= index < len(lines) and values[index] >= 0

    for index, line in enumerate(lines):
        if values[index] <= 0:
            continue
        before = neighbour(index, -1)
        after = neighbour(index, 1)
        if not before and not after:
            values[index] *= _ISOLATED_SHARE
    return values


def densest_run(values: list[float], lo: int = 0, hi: int | None = None) -> tuple[int, int, float]:
    """Return (start, end, sum) of the slice of ``values[lo:hi]`` with the largest sum.

    ``end`` is exclusive; when no slice has a positive sum the run is empty: (lo, lo, 0).
    """
    hi = len(values) if hi is None else hi
    best, best_start, best_end = 0.0, lo, lo
    total, start = 0.0, lo
    for index in range(lo, hi):
        if total <= 0:
            total, start = 0.0, index
        total += values[index]
        if total > best:
            best, best_start, best_end = total, start, index + 1
    return best_start, best_end, best


def _comments_start(lines: list[_Line], values: list[float], after: int) -> int:
    """Index of the comment section that follows the article, or len(lines).

    A comment marker ('Comments', '12 comments', a comment form) ends the article once
    enough prose has been seen after the title.
    """
    prose = 0.0
    for index in range(after, len(lines)):
        prose += max(values[index], 0.0)
        if lines[index].boilerplate == "comment_form" and prose >= _COMMENTS_AFTER:
            return index
    return len(lines)


def main_run(lines: list[_Line], values: list[float], headline: int | None) -> tuple[int, int]:
    """(start, end) of the article's run of lines.

    The run is looked for after the headline and before the comment section; when that
    run holds less than _NEAR_SHARE of the prose of the page's densest run, the headline
    was probably a copy in a list, and the densest run of the whole page is used.
    """
    after = 0 if headline is None else headline + 1
    stop = _comments_start(lines, values, after)
    start, end, score = densest_run(values, 0, stop)
    near_start, near_end, near_score = densest_run(values, after, stop)
    if near_score >= _NEAR_SHARE * score:
        return near_start, near_end
    return start, end


def _content_list(lines: list[_Line], lo: int, hi: int) -> bool:
    """True when the short lines ``lines[lo:hi]`` read like a list of the article (tour
    dates, ingredients, steps) rather than links: no widget heading or 'see also' among
    them, no line the page repeats, and items of _LIST_WORDS words or more on average."""
    words = []
    for line in lines[lo:hi]:
        if line.boilerplate in _LIST_BREAKERS or line.repeated:
            return False
        if line.boilerplate is None and line.has_text:
            words.append(line.words)
    return bool(words) and sum(words) / len(words) >= _LIST_WORDS


def _link_list_lines(lines: list[_Line], values: list[float], start: int, end: int) -> set[int]:
    """Indexes of lines inside the run that belong to runs of short lines that are links."""
    found: set[int] = set()
    index = start
    while index < end:
        if values[index] > 0:
            index += 1
            continue
        stop = index
        while stop < end and values[stop] <= 0:
            stop += 1
        if stop - index > _MAX_SHORT_RUN and not _content_list(lines, index, stop):
            found.update(range(index, stop))
        index = stop
    return found


def _list_after(lines: list[_Line], values: list[float], end: int) -> int:
    """New end of the run when a list of the article follows its last paragraph."""
    stop = end
    while stop < len(lines) and values[stop] <= 0:
        line = lines[stop]
        if line.boilerplate in _IN_BODY_REASONS:
            stop += 1
            continue
        if not line.has_text or line.boilerplate is not None or line.meta or line.repeated:
            break
        stop += 1
    if stop - end >= 2 and _content_list(lines, end, stop):
        return stop
    return end


def _reason_anywhere(line: _Line) -> str | None:
    """Reason to remove a line wherever it stands: no text, boilerplate, an extra byline or date."""
    if not line.has_text:
        return "no_text"
    if line.boilerplate is not None:
        return line.boilerplate
    if line.author is not None:
        return "byline_extra"
    if line.date is not None:
        return "dateline"
    return None


def _reason_inside(line: _Line, in_link_list: bool, seen: set[str]) -> str | None:
    """Reason to remove a line inside the main run, or None to keep it as a paragraph."""
    reason = _reason_anywhere(line)
    if reason is not None:
        return reason
    if line.text in seen:
        return "duplicate"
    if in_link_list:
        return "link_list"
    return None


def _reason_outside(line: _Line) -> str:
    """Reason to remove a line outside the main run."""
    reason = _reason_anywhere(line)
    if reason is not None:
        return reason
    if line.prose:
        return "outside_main_text"
    return "navigation"


# --------------------------------------------------------------------------------------
# Byline and date

def _pick_meta(lines: list[_Line], headline: int | None, end: int) -> tuple[int | None, int | None]:
    """Indexes of the byline and of the date line kept: the first after the headline and
    before ``end`` (the end of the article), else the last before the headline."""
    start = 0 if headline is None else headline

    def pick(indexes: list[int]) -> int | None:
        after = [index for index in indexes if start <= index < end and index != headline]
        before = [index for index in indexes if index < start]
        return after[0] if after else (before[-1] if before else None)

    by_index = pick([i for i, line in enumerate(lines) if line.author is not None])
    date_index = pick([i for i, line in enumerate(lines) if line.date is not None])
    return by_index, date_index


_BIO_VERBS = frozenset({"is", "was", "ist", "war", "est", "était", "es", "fue", "è", "era",
                        "é", "foi", "jest", "był", "była", "writes", "covers", "schreibt"})


def _author_reason(text: str, byline: str | None) -> str | None:
    """'byline_extra' for another copy of the byline name, 'author_bio' for a line that
    introduces the author ('Jane Doe is a reporter for ...'), else None."""
    if byline is None or byline.count(" ") < 1 or not text.startswith(byline):
        return None
    rest = text[len(byline):].split(maxsplit=1)
    if not rest:
        return "byline_extra"
    return "author_bio" if rest[0].lower() in _BIO_VERBS else None


# --------------------------------------------------------------------------------------
# Putting it together

@dataclass(frozen=True)
class _Layout:
    """Where the parts of a page are: indexes into its normalised lines."""

    title: str | None
    title_index: int | None   # the line consumed as the title
    headline: int | None      # the headline line (the title's copy nearest the article)
    start: int                # the article's run of lines: lines[start:end]
    end: int
    byline_index: int | None
    date_index: int | None
    link_lists: frozenset[int]


def lay_out(lines: list[_Line], title_hint: str | None) -> _Layout:
    """Find the title, the article's run of lines, the byline and the date of a page."""
    values = line_values(lines)
    first_guess, _, _ = densest_run(values)
    title, title_index, headline = _pick_title(lines, first_guess, title_hint)
    start, end = main_run(lines, values, headline)
    byline_index, date_index = _pick_meta(lines, headline, end)
    end = _list_after(lines, values, end)
    link_lists = frozenset(_link_list_lines(lines, values, start, end))
    return _Layout(title, title_index, headline, start, end, byline_index, date_index, link_lists)


def _place_lines(lines: list[_Line], layout: _Layout,
                 byline: str | None) -> tuple[list[str], list[RemovedLine]]:
    """Sort the lines that are not the title, byline or date into paragraphs and removed."""
    paragraphs: list[str] = []
    removed: list[RemovedLine] = []
    seen: set[str] = set()
    consumed = (layout.title_index, layout.byline_index, layout.date_index)
    for index, line in enumerate(lines):
        if index in consumed:
            continue
        inside = layout.start <= index < layout.end
        reason = _title_copy_reason(line.text, layout.title, inside) if layout.title else None
        reason = reason or ("repeated_title" if index == layout.headline else None)
        reason = reason or _author_reason(line.text, byline)
        if reason is None and inside:
            reason = _reason_inside(line, index in layout.link_lists, seen)
        elif reason is None:
            reason = _reason_outside(line)
        if reason is None:
            paragraphs.append(line.text)
            seen.add(line.text)
        else:
            removed.append(RemovedLine(line.text, reason))
    return paragraphs, removed


def line_fingerprint(line: str) -> str:
    """A short, stable fingerprint of a normalised line, for counting lines across pages."""
    return hashlib.blake2b(line_key(line).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def page_fingerprints(text: str) -> frozenset[str]:
    """The distinct line fingerprints of one page (lines without words are left out)."""
    return frozenset(line_fingerprint(line) for line in normalise_lines(text) if line_key(line))


def clean_page(text: str, title_hint: str | None = None,
               recurring: frozenset[str] = frozenset()) -> CleanResult:
    """Split a scraped news page into title, byline, date, body paragraphs and removed lines.

    ``title_hint`` is a title known from elsewhere (the page's <title>, a feed); it wins
    over the title found in the page, without its site name. ``recurring`` holds the
    fingerprints (``line_fingerprint``) of lines known to recur across many pages of the
    page's source; they are removed first, as ``recurring_in_source``. Never raises on a
    ``str``. Every non-blank line of the normalised page ends up in exactly one place: the
    title, the byline, the date, the paragraphs or ``removed``.
    """
    kept_lines, removed_first = [], []
    for line in normalise_lines(text):
        if recurring and line_key(line) and line_fingerprint(line) in recurring:
            removed_first.append(RemovedLine(line, "recurring_in_source"))
        else:
            kept_lines.append(line)
    lines = describe_page(kept_lines)
    layout = lay_out(lines, title_hint)
    byline = lines[layout.byline_index].author if layout.byline_index is not None else None
    published = lines[layout.date_index].date if layout.date_index is not None else None
    paragraphs, removed = _place_lines(lines, layout, byline)
    return CleanResult(layout.title, tuple(paragraphs), byline, published, tuple(removed_first + removed))
