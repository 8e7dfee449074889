"""Languages: offline detection, localized headings and labels, decision / action-item signals.

Detection is `py3langid` (its model ships inside the wheel; nothing is downloaded), on a sample of
the transcript's speech. Headings, the extractive label and the words the structure uses ("None",
"Unassigned") exist for en, de, fr, es, it, pt, nl, zh, ja, ko; any other language gets English
headings and a label that names the language, so a reader knows why.

Decision and action-item detection is not English-only: each language has its own cue list (the
transcript's language and English are both checked, because meetings switch), and two signals need
no word list at all: a date or time (`3.4.`, `2026-03-03`, `15:30`, `3月3日`, `3월 3일`) and an
addressed owner (`@dana`, or a name opening the sentence: "Dave, please ..."). A sentence is an
action item when it carries a cue, or a date together with an owner.
"""

from __future__ import annotations

import re
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


def resolve(language: str | None) -> str | None:
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


def detect(text: str) -> str:
    """The language of `text` as an ISO 639-1 code (offline; English for text without letters)."""
    import py3langid  # vendor model, loaded on first use only

    sample = text[:20_000]
    if not re.search(r"[^\W\d_]", sample):
        return "en"
    code, _score = py3langid.classify(sample)
    return str(code)


def all_headings() -> frozenset[str]:
    return frozenset(h for lang in LANGUAGES.values() for h in lang.headings)


def all_labels() -> frozenset[str]:
    return frozenset(lang.label for lang in LANGUAGES.values())


def all_nones() -> frozenset[str]:
    return frozenset(lang.none for lang in LANGUAGES.values())


# ---- decision and action-item signals ----------------------------------------------------------

_B = r"\b"  # word boundary: the CJK lists below do without, their words are not space-separated
_DECISION_CUES = {
    "en": r"decided|decide|decision|agreed|agree on|we'?ll go with|let'?s go with|settled on|conclude|"
    r"final answer|approved|resolved",
    "de": r"beschlossen|beschließen|entschieden|entscheiden|entscheidung|geeinigt|einigen uns|vereinbart|"
    r"festgelegt|genehmigt|machen wir so",
    "fr": r"décidé|décider|décision|convenu|validé|retenu|approuvé|adopté|on part sur|d'accord pour",
    "es": r"decidido|decidimos|decisión|acordado|acordamos|aprobado|quedamos en|nos quedamos con",
    "it": r"deciso|decidiamo|decisione|concordato|approvato|stabilito|siamo d'accordo",
    "pt": r"decidimos|decidido|decisão|acordado|combinamos|aprovado|ficou definido|fechamos",
    "nl": r"besloten|besluit|beslissing|afgesproken|akkoord|goedgekeurd|overeengekomen|we gaan voor",
    "zh": r"决定|决议|同意|确定|通过了|达成一致|定下来",
    "ja": r"決定|決めました|決まり|合意|承認|ことにします|ことにしました",
    "ko": r"결정|합의|승인|확정|하기로",
}
_ACTION_CUES = {
    "en": r"action item|will (?:send|do|look|check|prepare|write|email|make|follow|draft|share|update)|"
    r"i'?ll |we need to|needs? to be done|follow up|deadline|assign(?:ed)?|please|can you|could you|"
    r"by (?:next|monday|tuesday|wednesday|thursday|friday|tomorrow|the end)",
    "de": r"ich werde|werde ich|wir müssen|bitte|kümmer[te]?|übernimm?t|übernehme|erledig|schicke|"
    r"sende|bis (?:montag|dienstag|mittwoch|donnerstag|freitag|morgen|nächste|ende)|frist|aufgabe",
    "fr": r"je vais|je m'en occupe|il faut|nous devons|on doit|merci de|peux-tu|pourriez-vous|"
    r"d'ici|avant (?:lundi|mardi|mercredi|jeudi|vendredi|demain|la fin)|enverrai|s'occupe",
    "es": r"voy a|me encargo|tenemos que|hay que|por favor|puedes|podrías|antes del|"
    r"para el (?:lunes|martes|miércoles|jueves|viernes)|enviaré|se encarga",
    "it": r"farò|mi occupo|dobbiamo|bisogna|per favore|puoi|potresti|entro|manderò|si occupa",
    "pt": r"eu vou|vou enviar|vou preparar|me encarrego|temos que|precisamos|por favor|você pode|"
    r"até (?:segunda|terça|quarta|quinta|sexta|amanhã|o fim)|enviarei|fica com",
    "nl": r"ik zal|ik ga|we moeten|wij moeten|graag|kun je|kan jij|uiterlijk|actiepunt|neemt .* op zich|"
    r"voor (?:maandag|dinsdag|woensdag|donderdag|vrijdag|morgen)|stuur",
    "zh": r"负责|请|我会|我来|之前|截止|跟进|安排|完成",
    "ja": r"お願いします|担当|までに|対応します|送ります|準備します|確認します",
    "ko": r"하겠습니다|담당|까지|부탁|해 주세요|보내겠습니다|준비하겠습니다",
}
_CJK = {"zh", "ja", "ko"}


def _cues(table: dict[str, str], code: str) -> re.Pattern[str]:
    parts = []
    for lang in dict.fromkeys((code, "en")):
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
    rf"(?:\b(?:{_WEEKDAYS_MONTHS})\b(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4}|\.)|\b\d{1,2}:\d{2}\b|"
    r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}월\s*\d{1,2}일|下周.|来週|다음 주|明天|明日|내일|週末|周末)",
    re.IGNORECASE,
)
# An addressed owner: "@dana", or a capitalised name opening the sentence and followed by a comma.
OWNER = re.compile(
    r"@(?P<handle>[\w.-]+)|^(?P<name>[A-ZÀ-Þ][\w'’-]{1,30})(?:\s[A-ZÀ-Þ][\w'’-]{1,30})?[,，、]"
)


# Sentence openers that look like a vocative name but are not one.
_NOT_NAMES = frozenset(
    """okay ok so well yes yeah no right alright also and but now then first finally good great thanks
    hello hi sure fine ja gut guten nein genau hallo oui bon bonjour alors donc bueno buenos sí pues vale
    ecco allora bene buongiorno sim bem bom
    então nou dus oké prima""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Signals:
    """Decision and action-item detection for one language (plus English, plus neutral signals)."""

    code: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decision", _cues(_DECISION_CUES, self.code))
        object.__setattr__(self, "_action", _cues(_ACTION_CUES, self.code))

    def is_decision(self, text: str) -> bool:
        return bool(self._decision.search(text))  # type: ignore[attr-defined]

    def is_action(self, text: str) -> bool:
        if self._action.search(text):  # type: ignore[attr-defined]
            return True
        return bool(DATE.search(text) and addressed_owner(text))


def due(text: str) -> str | None:
    """The first date or time named in `text`, as written."""
    match = DATE.search(text)
    return match.group(0) if match else None


def addressed_owner(text: str) -> str | None:
    """The person a sentence is addressed to ("Dave, please ...", "@dana"), if any."""
    match = OWNER.search(text.strip())
    if not match or (match.group("name") or "").lower() in _NOT_NAMES:
        return None
    return match.group("handle") or match.group("name")
