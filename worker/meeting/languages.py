"""Languages: offline detection, localized headings and labels, decision / action-item signals.

Detection is `py3langid` (its model ships inside the wheel; nothing is downloaded), on a sample of
the transcript's speech. Headings, the extractive label and the words the structure uses ("None",
"Unassigned") exist for en, de, fr, es, it, pt, nl, zh, ja, ko; any other language gets English
headings and a label that names the language, so a reader knows why.

Decision and action-item detection is not English-only: each language has its own cue list (the
transcript's language and English are both checked, because meetings switch), and two signals need
no word list at all: a date or time (`3.4.`, `2026-03-03`, `15:30`, `3月3日`, `3월 3일`, weekdays)
and an owner (`@dana`, a name opening the sentence: "Dave, please ...", or a name and a verb that
assigns: "Markus soll ...", "Marie s'occupe de ...", "张伟负责..."). A sentence is an action item
when it carries a cue, or a date together with an owner. English months that are also names or
verbs (May, March, April, June, August) are dates only beside a day, a year or a word like "by",
and a name followed by a relative clause ("May, who is joining us") is no owner.

A mixed meeting is read in pieces (`spoken_languages`): each localized language spoken in a fifth of them adds
its cues, so a German meeting's French half still has its decisions found.

Detection needs text: below about 120 letters ("Ok, merci.") py3langid's 97 languages guess wildly,
so a short transcript is read as the most likely of the localized languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in English, for prompts and the fallback label
    overview: str
    key_points: str
    decisions: str
    action_items: str
    label: str  # the extractive engine's first line
    none: str
    unassigned: str

    @property
    def headings(self) -> tuple[str, str, str, str]:
        return (self.overview, self.key_points, self.decisions, self.action_items)


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language(
            "en", "English", "Overview", "Key points", "Decisions", "Action items",
            "[Extractive summary: sentences selected verbatim from the transcript; "
            "no language model was used.]",
            "None", "Unassigned",
        ),
        Language(
            "de", "German", "Überblick", "Kernpunkte", "Entscheidungen", "Aufgaben",
            "[Extraktive Zusammenfassung: wörtlich aus dem Transkript ausgewählte Sätze; "
            "es wurde kein Sprachmodell verwendet.]",
            "Keine", "Nicht zugewiesen",
        ),
        Language(
            "fr", "French", "Aperçu", "Points clés", "Décisions", "Actions à mener",
            "[Résumé extractif : phrases reprises telles quelles de la transcription ; "
            "aucun modèle de langue n'a été utilisé.]",
            "Aucune", "Non attribué",
        ),
        Language(
            "es", "Spanish", "Resumen general", "Puntos clave", "Decisiones", "Tareas pendientes",
            "[Resumen extractivo: frases tomadas literalmente de la transcripción; "
            "no se usó ningún modelo de lenguaje.]",
            "Ninguna", "Sin asignar",
        ),
        Language(
            "it", "Italian", "Panoramica", "Punti chiave", "Decisioni", "Azioni da svolgere",
            "[Riassunto estrattivo: frasi riprese testualmente dalla trascrizione; "
            "non è stato usato alcun modello linguistico.]",
            "Nessuna", "Non assegnato",
        ),
        Language(
            "pt", "Portuguese", "Visão geral", "Pontos principais", "Decisões", "Ações a tomar",
            "[Resumo extrativo: frases selecionadas literalmente da transcrição; "
            "nenhum modelo de linguagem foi usado.]",
            "Nenhuma", "Não atribuído",
        ),
        Language(
            "nl", "Dutch", "Overzicht", "Belangrijkste punten", "Besluiten", "Actiepunten",
            "[Extractieve samenvatting: zinnen letterlijk uit het transcript gekozen; "
            "er is geen taalmodel gebruikt.]",
            "Geen", "Niet toegewezen",
        ),
        Language(
            "zh", "Chinese", "概述", "要点", "决定", "行动项",
            "[抽取式摘要：逐字选自记录稿的句子；未使用语言模型。]", "无", "未分配",
        ),
        Language(
            "ja", "Japanese", "概要", "要点", "決定事項", "アクションアイテム",
            "[抽出型要約：文字起こしから原文のまま選んだ文です。言語モデルは使用していません。]",
            "なし", "未割り当て",
        ),
        Language(
            "ko", "Korean", "개요", "핵심 사항", "결정 사항", "실행 항목",
            "[추출 요약: 녹취록에서 그대로 선택한 문장이며 언어 모델은 사용하지 않았습니다.]",
            "없음", "미지정",
        ),
    )
}  # fmt: skip
ENGLISH = LANGUAGES["en"]
# Names py3langid may answer with, for the fallback label and prompts (others are shown as codes).
_OTHER_NAMES = {
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "pl": "Polish", "cs": "Czech",
    "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "el": "Greek", "ar": "Arabic", "he": "Hebrew",
    "hi": "Hindi", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "hu": "Hungarian", "ro": "Romanian",
    "ca": "Catalan",
}  # fmt: skip
_NATIVE = {
    "deutsch": "de", "français": "fr", "francais": "fr", "español": "es", "espanol": "es",
    "italiano": "it", "português": "pt", "portugues": "pt", "nederlands": "nl", "中文": "zh",
    "日本語": "ja", "한국어": "ko",
}  # fmt: skip


def language_name(code: str) -> str:
    lang = LANGUAGES.get(code)
    return lang.name if lang else _OTHER_NAMES.get(code, code)


def resolve_language(language: str | None) -> str | None:
    """`options.language` ("de", "de-AT", "German", "Deutsch") → a code; None when not given."""
    if not language:
        return None
    value = language.strip().lower()
    for code, lang in LANGUAGES.items():
        if value == lang.name.lower():
            return code
    for code, name in _OTHER_NAMES.items():
        if value == name.lower():
            return code
    if value in _NATIVE:
        return _NATIVE[value]
    return re.split(r"[-_]", value)[0]


def language_for(code: str | None) -> Language:
    """Headings and labels for `code`; English, with a label naming the language, for the others."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    if not code:
        return ENGLISH
    label = ENGLISH.label.removesuffix("]") + f" The transcript is in {language_name(code)} ({code}).]"
    return Language(code, language_name(code), *ENGLISH.headings, label, ENGLISH.none, ENGLISH.unassigned)


# Below this many letters, detection chooses among the localized languages only.
_SHORT = 120


def detect_language(text: str) -> str:
    """The language of `text` as an ISO 639-1 code (offline; English for text without letters)."""
    import py3langid  # vendor model, loaded on first use only

    sample = text[:20_000]
    letters = len(re.findall(r"[^\W\d_]", sample))
    if not letters:
        return "en"
    if letters < _SHORT:
        # A few words ("Ok, merci.", "Ja.") are too little for 97 languages (they came out Slovak
        # and Hausa): a short transcript is taken to be in one of the languages we localize.
        return str(next(code for code, _ in py3langid.rank(sample) if code in LANGUAGES))
    code, _score = py3langid.classify(sample)
    return str(code)


# Mixed meetings: the transcript is read in pieces of about this many characters, at most this
# many of them, and a localized language spoken in this share of them counts as spoken.
_PIECE = 1500
_PIECES = 60
_SPOKEN_SHARE = 0.2


def spoken_languages(texts: list[str]) -> tuple[str, ...]:
    """The localized languages a meeting's sentences are spoken in, each in a fair share of it
    (a German meeting whose French half decides something gets French cues too)."""
    import py3langid

    # A short meeting is read in shorter pieces (never under 200 characters: too few to tell).
    piece = max(200, min(_PIECE, sum(len(t) for t in texts[:20_000]) // 10))
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for text in texts:
        current.append(text)
        size += len(text) + 1
        if size >= piece:
            pieces.append(" ".join(current))
            current, size = [], 0
    if size >= piece // 3:
        pieces.append(" ".join(current))
    if len(pieces) < 2:
        return ()
    step = max(len(pieces) // _PIECES, 1)
    sample = pieces[::step]
    counts: dict[str, int] = {}
    for text in sample:
        code = str(py3langid.classify(text)[0])
        counts[code] = counts.get(code, 0) + 1
    return tuple(
        code for code, n in sorted(counts.items()) if code in LANGUAGES and n >= _SPOKEN_SHARE * len(sample)
    )


def all_headings() -> frozenset[str]:
    return frozenset(h for lang in LANGUAGES.values() for h in lang.headings)


def all_labels() -> frozenset[str]:
    return frozenset(lang.label for lang in LANGUAGES.values())


def all_nones() -> frozenset[str]:
    return frozenset(lang.none for lang in LANGUAGES.values())


# ---- decision and action-item signals ----------------------------------------------------------

_B = r"\b"  # word boundary: the CJK lists below do without, their words are not space-separated
_DECISION_CUES = {
    "en": r"decided|decide|decision|agreed|agree on|we'?ll go with|let'?s go with|"
    r"(?:we'?re|we are) going with|settled on|conclude|"
    r"final answer|approved|resolved",
    "de": r"beschlossen|beschließen|beschluss|entschieden|entscheiden|entscheidung|geeinigt|einigen uns|"
    r"vereinbart|"
    r"festgelegt|genehmigt|machen wir so",
    "fr": r"décidé|décider|décision|convenu|validé|retenu|approuvé|adopté|on part sur|d'accord pour|acté",
    "es": r"decidido|decidimos|decisión|acordado|acordamos|aprobado|quedamos en|nos quedamos con",
    "it": r"deciso|decidiamo|decisione|concordato|approvato|stabilito|siamo d'accordo",
    "pt": r"decidimos|decidido|decisão|acordado|combinamos|aprovado|ficou definido|fechamos",
    "nl": r"besloten|besluit|beslissing|afgesproken|akkoord|goedgekeurd|overeengekomen|we gaan voor",
    "zh": r"决定|决议|同意|确定|通过了|达成一致|定下来|就这么定",
    "ja": r"決定|決めました|決まり|合意|承認|ことにします|ことにしました",
    "ko": r"결정|합의|승인|확정|하기로",
}
_ACTION_CUES = {
    "en": r"action item|will (?:send|do|look|check|prepare|write|email|make|follow|draft|share|update)|"
    r"i'?ll |we need to|needs? to be done|follow up|deadline|assign(?:ed)?|please|can you|could you|"
    r"by (?:next|monday|tuesday|wednesday|thursday|friday|tomorrow|the end)",
    "de": r"ich werde|werde ich|wir müssen|bitte|kümmer[te]?|übernimm?t|übernehme|erledig|schicke|"
    r"kannst du|könntest du|können sie|könnten sie|ich mache das|"
    r"sende|bis (?:montag|dienstag|mittwoch|donnerstag|freitag|morgen|nächste|ende)|frist|aufgabe",
    "fr": r"je vais|je m'en occupe|je m'en charge|je me charge|il faut|nous devons|on doit|merci de|peux-tu|"
    r"tu peux|pourriez-vous|"
    r"d'ici|avant (?:lundi|mardi|mercredi|jeudi|vendredi|demain|la fin)|enverrai|s'occupe",
    "es": r"voy a|me encargo|tenemos que|hay que|por favor|puedes|podrías|antes del|"
    r"para el (?:lunes|martes|miércoles|jueves|viernes)|enviaré|se encarga",
    "it": r"farò|mi occupo|me ne occupo|ci penso io|dobbiamo|bisogna|per favore|puoi|potresti|entro|manderò|"
    r"si occupa",
    "pt": r"eu vou|vou enviar|vou preparar|me encarrego|temos que|precisamos|por favor|você pode|"
    r"(?:até|na|para) (?:segunda|terça|quarta|quinta|sexta|amanhã|o fim)|enviarei|fica com|"
    r"fico responsável|fica responsável|manda|envia a|prepara a",
    "nl": r"ik zal|ik ga|we moeten|wij moeten|graag|kun je|kan jij|uiterlijk|actiepunt|neemt .* op zich|"
    r"voor (?:maandag|dinsdag|woensdag|donderdag|vrijdag|morgen)|stuur|ik regel|pak .{1,30} op",
    # Not 之前 or 完成 alone: "before" also means "previously", "finish" is said of work done.
    "zh": r"负责|请|我会|我来|截止|跟进|由.{1,4}(?:来|负责)|交给",
    "ja": r"お願いします|担当|までに|対応します|送ります|準備します|確認します",
    # Not 하겠습니다 alone ("we will discuss") nor 까지 alone ("so far" is 지금까지).
    "ko": r"(?:보내|준비|처리|정리|공유|확인|연락|작성|전달|검토|맡)(?:겠습니다|을게요|ㄹ게요)|드리겠습니다|"
    r"담당|부탁|해 주세요|주시기 바랍니다",
}
_CJK = {"zh", "ja", "ko"}


def _cues(table: dict[str, str], code: str, also: tuple[str, ...] = ()) -> re.Pattern[str]:
    parts = []
    for lang in dict.fromkeys((code, *also, "en")):
        if lang in table:
            parts.append(f"(?:{table[lang]})" if lang in _CJK else f"{_B}(?:{table[lang]})")
    return re.compile("|".join(parts), re.IGNORECASE)


_WEEKDAYS_MONTHS = (
    r"monday|tuesday|wednesday|thursday|friday|tomorrow|next week|end of (?:the )?(?:week|month)|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|übermorgen|nächste woche|januar|februar|märz|mai|juni|juli|"
    r"oktober|dezember|lundi|mardi|mercredi|jeudi|vendredi|demain|semaine prochaine|janvier|février|mars|"
    r"avril|juin|juillet|août|septembre|octobre|novembre|décembre|lunes|martes|miércoles|jueves|viernes|"
    r"mañana|próxima semana|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre|lunedì|martedì|mercoledì|giovedì|venerdì|domani|gennaio|febbraio|aprile|maggio|"
    r"giugno|luglio|settembre|ottobre|dicembre|segunda-feira|terça-feira|quarta-feira|quinta-feira|"
    r"sexta-feira|amanhã|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro|maandag|"
    r"dinsdag|woensdag|donderdag|vrijdag|volgende week|januari|februari|maart|mei|augustus|oktober"
)
# A date or time, in words of a known language or in digits (language-neutral).
DATE = re.compile(
    rf"(?:\b(?:{_WEEKDAYS_MONTHS})\b(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?|"
    # Portuguese weekdays are ordinals ("segunda" is also "second"): a day only after na/até/para.
    r"\b(?:na|até|para|próxima) (?:segunda|terça|quarta|quinta|sexta)(?:-feira)?\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4}|\.)|\b\d{1,2}:\d{2}\b|"
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}월\s*\d{1,2}일|"
    r"(?:下|这|本)?(?:周|星期|礼拜)[一二三四五六日天]|下周|下个?月|月底|明天|后天|"
    r"[月火水木金土日]曜日?|来週|来月|明日|月末|週末|周末|"
    r"[월화수목금토일]요일|다음 주|다음 달|내일|월말)",
    re.IGNORECASE,
)
# English month names that are also names or verbs ("May, who is joining us", "we may", "march
# on"): a date only beside a day or a year, or after a word that introduces one ("by May").
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "april", "june", "august"})
_BEFORE_A_DATE = re.compile(
    r"\b(?:in|by|until|till|before|after|from|of|since|early|mid|late|end of|next|this|last|"
    r"through|during)\s+$",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(r"^,?\s+\d{4}\b")


def _dates(text: str) -> Iterator[re.Match[str]]:
    for match in DATE.finditer(text):
        word = match.group(0)
        if word.lower() in _AMBIGUOUS_MONTHS and not (
            _BEFORE_A_DATE.search(text[: match.start()]) or _YEAR_AFTER.match(text[match.end() :])
        ):
            continue  # a bare "May": without a day, a year or "by", a name or a verb
        yield match


_NAME = r"[A-ZÀ-Þ][\w'’-]{1,30}(?:\s[A-ZÀ-Þ][\w'’-]{1,30})?"
# An addressed owner: "@dana", or a capitalised name opening the sentence and followed by a comma
# (not by a relative clause: "May, who is joining us, ..." names May but gives her nothing).
OWNER = re.compile(
    rf"@(?P<handle>[\w.-]+)|^(?P<name>{_NAME})[,，、](?!\s*(?:who|which|whom|whose|qui|dont|que|"
    r"quien|quienes|cui|che|der|die|dem|den|deren|dessen|wie|welke|die)\b)"
)
# A named owner: a name opening the sentence followed by a verb that gives them the task
# ("Markus soll ...", "Marie s'occupe de ...", "Carol will draft ...", "张伟负责...", "鈴木さんは...").
ASSIGNED = re.compile(
    # "Bob to send the deck by Friday": how minutes assign.
    rf"^(?P<name>{_NAME})\s+(?:will|shall|should|needs? to|has to|is going to|to|takes|owns|"
    r"soll|sollte|wird|übernimmt|kümmert sich|muss|"
    r"s'occupe|s’occupe|se charge|va|doit|devra|"
    r"se encarga|se ocupa|va a|debe|tiene que|"
    r"si occupa|si incarica|deve|dovrà|farà|"
    r"vai|fica com|se encarrega|deve|tem que|"
    r"gaat|zal|moet|neemt)\b"
    r"|^(?P<zh>[\u4e00-\u9fff]{2,4}?)(?:负责|来负责|会|去)"
    r"|^(?P<ja>[\u3040-\u30ff\u4e00-\u9fff]{1,6}?)(?:さん|様|くん)(?:は|が|に)"
    r"|^(?P<ko>[가-힣]{2,4})\s*(?:씨|님)(?:는|은|가|이|께서)?\s"
)


# Sentence openers that look like a vocative name but are not one; conjunctions among them are
# skipped before a name ("Et Paul, tu peux ...", "And Dana, please ...").
_NOT_NAMES = frozenset(
    """okay ok so well yes yeah no right alright also and but now then first finally good great thanks
    hello hi sure fine ja gut guten nein genau hallo oui bon bonjour alors donc bueno buenos sí pues vale
    ecco allora bene buongiorno sim bem bom
    então nou dus oké prima et und y e en mais aber pero ma mas maar dann puis entonces poi daarna
    we i you they he she it this that there wir ich du sie er es das nous je tu on il elle ils yo
    nosotros tú él ella io noi tu lui lei eu nós você ele ela ik wij jij hij zij""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class DecisionSignals:
    """Decision and action-item detection for one language, the others the meeting also speaks
    (`also`), English, and the neutral signals."""

    code: str
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decision", _cues(_DECISION_CUES, self.code, self.also))
        object.__setattr__(self, "_action", _cues(_ACTION_CUES, self.code, self.also))

    def is_decision(self, text: str) -> bool:
        return bool(self._decision.search(text))  # type: ignore[attr-defined]

    def is_decision_in(self, code: str, text: str) -> bool:
        """A decision by `code`'s own cue words (which language of a mixed meeting decided)."""
        cues = _DECISION_CUES.get(code)
        if cues is None:
            return False
        return bool(re.search(cues if code in _CJK else rf"{_B}(?:{cues})", text, re.IGNORECASE))

    def is_action(self, text: str) -> bool:
        if self._action.search(text):  # type: ignore[attr-defined]
            return True
        return bool(due_date(text) and addressed_owner(text))


def due_date(text: str) -> str | None:
    """The first date or time named in `text`, as written."""
    match = next(_dates(text), None)
    return match.group(0) if match else None


def addressed_owner(text: str) -> str | None:
    """The person a sentence gives a task to, if it names one: addressed ("Dave, please ...",
    "@dana") or named with a verb that assigns ("Marie s'occupe de ...", "张伟负责...")."""
    text = text.strip()
    for _ in range(3):  # "And so, Dana, ..." : conjunctions and fillers before the name
        first = re.match(r"([^\W\d_]+)[,，]?\s+", text)
        if not first or first.group(1).lower() not in _NOT_NAMES:
            break
        text = text[first.end() :]
    match = OWNER.search(text)
    if match and (match.group("name") or "").lower() not in _NOT_NAMES:
        return match.group("handle") or match.group("name")
    assigned = ASSIGNED.match(text)
    if assigned:
        name = next(n for n in assigned.groups() if n)
        if name.split()[0].lower() not in _NOT_NAMES:
            return name
    return None
