"""Languages: one record per localized language holding every word the worker needs in it.

A record (`Language`) is the whole of a language: its headings and the synonyms models write for
them, the extractive label, its words for "none" and "unassigned", the names of owner and due
fields and table columns, decision and action-item cues, weekdays, months and relative days, what
a name looks like and the words that give it a task, relative pronouns and sentence fillers (which
open a sentence without being a name), and what the language is called. Every pattern the worker
matches (`worker.meeting.signals`, `worker.meeting.structure`) is compiled from these records, so
a new language is one record here, and `tests/test_languages.py` checks that every record is
complete.

Localized: en, de, fr, es, it, pt, nl, zh, ja, ko; any other language gets English headings and a
label that names the language, so a reader knows why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

# A name opening a sentence in a Latin script: "Dave", "Marie Curie".
LATIN_NAME = r"[A-ZÀ-Þ][\w'’-]{1,30}(?:\s[A-ZÀ-Þ][\w'’-]{1,30})?"


@dataclass(frozen=True)
class Language:
    """Every word list of one language. Strings ending in `cues`, `dates`, `person` and `assigning`
    are regular-expression alternations; the tuples are plain words, lower case (table columns are
    prefixes: "date" reads "dates"). Only the fields in `MAY_BE_EMPTY` may be empty."""

    code: str
    name: str  # in English, for prompts and the fallback label
    native: tuple[str, ...]  # what the language is called in itself ("deutsch")
    overview: str
    key_points: str
    decisions: str
    action_items: str
    # Headings models write instead of ours, per section.
    overview_also: tuple[str, ...]
    key_points_also: tuple[str, ...]
    decisions_also: tuple[str, ...]
    action_items_also: tuple[str, ...]
    label: str  # the extractive engine's first line
    none: str
    unassigned: str
    none_words: tuple[str, ...]  # a line opening with one says there is nothing ("Keine Entscheidungen")
    owner_fields: tuple[str, ...]  # "Owner: Bob", "Verantwortlich: Bob"
    due_fields: tuple[str, ...]  # "Due: Friday", "(fällig Freitag)"
    who: tuple[str, ...]  # a table column of owners, besides the owner fields
    when: tuple[str, ...]  # a table column of due dates, besides the due fields
    task_columns: tuple[str, ...]
    decision_cues: str
    action_cues: str
    dates: str  # weekdays, months, relative days ("tomorrow", "next week")
    person: str  # a name opening a sentence
    assigning: str  # what follows that name to give them the task ("will", "soll", "负责")
    relative: tuple[str, ...]  # "May, who is joining us": a relative clause after a name, no owner
    fillers: tuple[str, ...]  # sentence openers that are not names ("okay", "and", "we")
    # Months that are also names or verbs ("May", "march"): a date only beside a day, a year or one
    # of `before_dates` ("by May").
    ambiguous_months: tuple[str, ...] = ()
    before_dates: tuple[str, ...] = ()
    spaced: bool = True  # words are separated by spaces (cue words are matched as whole words)

    # Languages that write relative clauses before the noun and fillers glued to the next word
    # (Chinese, Japanese, Korean) have none to list; a table column may be named by the field alone.
    MAY_BE_EMPTY = frozenset({"who", "when", "relative", "fillers", "ambiguous_months", "before_dates"})

    @property
    def headings(self) -> tuple[str, str, str, str]:
        return (self.overview, self.key_points, self.decisions, self.action_items)


def alternation(words: Iterable[str]) -> str:
    """Plain words → one regular-expression alternation, in order, each once."""
    return "|".join(re.escape(word) for word in dict.fromkeys(words))


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language(
            "en", "English", ("english",), "Overview", "Key points", "Decisions", "Action items",
            overview_also=("summary", "executive summary", "tl;dr", "tldr", "meeting summary"),
            key_points_also=(
                "key takeaways", "main points", "highlights", "discussion", "discussion points",
                "key discussion points",
            ),
            decisions_also=("key decisions", "decisions made", "decision"),
            action_items_also=(
                "action points", "next steps", "to-dos", "to-do", "todos", "todo", "tasks", "follow-ups",
                "follow ups", "action items and owners",
            ),
            label="[Extractive summary: sentences selected verbatim from the transcript; "
            "no language model was used.]",
            none="None", unassigned="Unassigned", none_words=("none",),
            owner_fields=("owner", "assignee", "assigned to", "responsible"),
            due_fields=("due", "deadline", "by when"),
            who=("who", "person"), when=("when", "date"), task_columns=("task", "action", "item"),
            decision_cues=r"decided|decide|decision|agreed|agree on|we'?ll go with|let'?s go with|"
            r"(?:we'?re|we are) going with|settled on|conclude|final answer|approved|resolved",
            action_cues=r"action item|will (?:send|do|look|check|prepare|write|email|make|follow|draft|"
            r"share|update)|i'?ll |we need to|needs? to be done|follow up|deadline|assign(?:ed)?|please|"
            r"can you|could you|by (?:next|monday|tuesday|wednesday|thursday|friday|tomorrow|the end)",
            dates=r"monday|tuesday|wednesday|thursday|friday|tomorrow|next week|"
            r"end of (?:the )?(?:week|month)|january|february|march|april|may|june|july|august|"
            r"september|october|november|december",
            person=LATIN_NAME,
            # "Bob to send the deck by Friday": how minutes assign.
            assigning=r"will|shall|should|needs? to|has to|is going to|to|takes|owns",
            relative=("who", "which", "whom", "whose"),
            fillers=(
                "okay", "ok", "so", "well", "yes", "yeah", "no", "right", "alright", "also", "and", "but",
                "now", "then", "first", "finally", "good", "great", "thanks", "hello", "hi", "sure", "fine",
                "we", "i", "you", "they", "he", "she", "it", "this", "that", "there",
            ),
            ambiguous_months=("may", "march", "april", "june", "august"),
            before_dates=(
                "in", "by", "until", "till", "before", "after", "from", "of", "since", "early", "mid",
                "late", "end of", "next", "this", "last", "through", "during",
            ),
        ),
        Language(
            "de", "German", ("deutsch",), "Überblick", "Kernpunkte", "Entscheidungen", "Aufgaben",
            overview_also=("zusammenfassung",),
            key_points_also=("wichtigste punkte", "wichtige punkte", "hauptpunkte", "diskussion"),
            decisions_also=("beschlüsse", "beschlossen", "entscheidung"),
            action_items_also=(
                "nächste schritte", "to-dos und verantwortliche", "maßnahmen", "aufgaben und fristen",
            ),
            label="[Extraktive Zusammenfassung: wörtlich aus dem Transkript ausgewählte Sätze; "
            "es wurde kein Sprachmodell verwendet.]",
            none="Keine", unassigned="Nicht zugewiesen", none_words=("keine", "kein", "keiner"),
            owner_fields=("verantwortlich", "zuständig"), due_fields=("fällig", "frist"),
            who=("wer",), when=("wann", "datum"), task_columns=("aufgabe",),
            decision_cues=r"beschlossen|beschließen|beschluss|entschieden|entscheiden|entscheidung|"
            r"geeinigt|einigen uns|vereinbart|festgelegt|genehmigt|machen wir so",
            action_cues=r"ich werde|werde ich|wir müssen|bitte|kümmer[te]?|übernimm?t|übernehme|erledig|"
            r"schicke|kannst du|könntest du|können sie|könnten sie|ich mache das|sende|"
            r"bis (?:montag|dienstag|mittwoch|donnerstag|freitag|morgen|nächste|ende)|frist|aufgabe",
            dates=r"montag|dienstag|mittwoch|donnerstag|freitag|übermorgen|nächste woche|januar|februar|"
            r"märz|april|mai|juni|juli|august|september|oktober|november|dezember",
            person=LATIN_NAME, assigning=r"soll|sollte|wird|übernimmt|kümmert sich|muss",
            relative=("der", "die", "dem", "den", "deren", "dessen"),
            fillers=(
                "ja", "gut", "guten", "nein", "genau", "hallo", "und", "aber", "dann",
                "wir", "ich", "du", "sie", "er", "es", "das",
            ),
        ),
        Language(
            "fr", "French", ("français", "francais"), "Aperçu", "Points clés", "Décisions",
            "Actions à mener",
            overview_also=("résumé", "resume", "synthèse"),
            key_points_also=("points principaux", "points importants"),
            decisions_also=("décisions prises", "décision"),
            action_items_also=("prochaines étapes", "actions", "tâches"),
            label="[Résumé extractif : phrases reprises telles quelles de la transcription ; "
            "aucun modèle de langue n'a été utilisé.]",
            none="Aucune", unassigned="Non attribué", none_words=("aucune", "aucun"),
            owner_fields=("responsable",), due_fields=("échéance",),
            who=("qui",), when=("quand",), task_columns=("tâche", "action"),
            decision_cues=r"décidé|décider|décision|convenu|validé|retenu|approuvé|adopté|on part sur|"
            r"d'accord pour|acté",
            action_cues=r"je vais|je m'en occupe|je m'en charge|je me charge|il faut|nous devons|on doit|"
            r"merci de|peux-tu|tu peux|pourriez-vous|d'ici|"
            r"avant (?:lundi|mardi|mercredi|jeudi|vendredi|demain|la fin)|enverrai|s'occupe",
            dates=r"lundi|mardi|mercredi|jeudi|vendredi|demain|semaine prochaine|janvier|février|mars|"
            r"avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
            person=LATIN_NAME, assigning=r"s'occupe|s’occupe|se charge|va|doit|devra",
            relative=("qui", "dont", "que"),
            fillers=(
                "oui", "bon", "bonjour", "alors", "donc", "et", "mais", "puis",
                "nous", "je", "tu", "on", "il", "elle", "ils",
            ),
        ),
        Language(
            "es", "Spanish", ("español", "espanol"), "Resumen general", "Puntos clave", "Decisiones",
            "Tareas pendientes",
            overview_also=("resumen",),
            key_points_also=("puntos principales", "puntos importantes"),
            decisions_also=("acuerdos", "decisiones tomadas", "decisión"),
            action_items_also=("próximos pasos", "acciones", "tareas"),
            label="[Resumen extractivo: frases tomadas literalmente de la transcripción; "
            "no se usó ningún modelo de lenguaje.]",
            none="Ninguna", unassigned="Sin asignar", none_words=("ninguna", "ningún", "ninguno"),
            owner_fields=("responsable",), due_fields=("fecha límite", "plazo"),
            who=("quién",), when=("fecha",), task_columns=("tarea", "acción"),
            decision_cues=r"decidido|decidimos|decisión|acordado|acordamos|aprobado|quedamos en|"
            r"nos quedamos con",
            action_cues=r"voy a|me encargo|tenemos que|hay que|por favor|puedes|podrías|antes del|"
            r"para el (?:lunes|martes|miércoles|jueves|viernes)|enviaré|se encarga",
            dates=r"lunes|martes|miércoles|jueves|viernes|mañana|próxima semana|enero|febrero|marzo|"
            r"abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre",
            person=LATIN_NAME, assigning=r"se encarga|se ocupa|va a|debe|tiene que",
            relative=("que", "quien", "quienes"),
            fillers=(
                "bueno", "buenos", "sí", "pues", "vale", "y", "pero", "entonces",
                "yo", "nosotros", "tú", "él", "ella",
            ),
        ),
        Language(
            "it", "Italian", ("italiano",), "Panoramica", "Punti chiave", "Decisioni", "Azioni da svolgere",
            overview_also=("riassunto", "sintesi"),
            key_points_also=("punti principali",),
            decisions_also=("decisioni prese", "decisione"),
            action_items_also=("prossimi passi", "azioni", "compiti"),
            label="[Riassunto estrattivo: frasi riprese testualmente dalla trascrizione; "
            "non è stato usato alcun modello linguistico.]",
            none="Nessuna", unassigned="Non assegnato", none_words=("nessuna", "nessun", "nessuno"),
            owner_fields=("responsabile",), due_fields=("scadenza",),
            who=("chi",), when=("quando",), task_columns=("compito", "azione"),
            decision_cues=r"deciso|decidiamo|decisione|concordato|approvato|stabilito|siamo d'accordo",
            action_cues=r"farò|mi occupo|me ne occupo|ci penso io|dobbiamo|bisogna|per favore|puoi|"
            r"potresti|entro|manderò|si occupa",
            dates=r"lunedì|martedì|mercoledì|giovedì|venerdì|domani|gennaio|febbraio|marzo|aprile|maggio|"
            r"giugno|luglio|agosto|settembre|ottobre|novembre|dicembre",
            person=LATIN_NAME, assigning=r"si occupa|si incarica|deve|dovrà|farà",
            relative=("cui", "che"),
            fillers=(
                "ecco", "allora", "bene", "buongiorno", "e", "ma", "poi", "io", "noi", "tu", "lui", "lei",
            ),
        ),
        Language(
            "pt", "Portuguese", ("português", "portugues"), "Visão geral", "Pontos principais", "Decisões",
            "Ações a tomar",
            overview_also=("resumo",),
            key_points_also=("pontos-chave", "pontos chave"),
            decisions_also=("decisões tomadas", "decisão"),
            action_items_also=("próximos passos", "ações", "tarefas"),
            label="[Resumo extrativo: frases selecionadas literalmente da transcrição; "
            "nenhum modelo de linguagem foi usado.]",
            none="Nenhuma", unassigned="Não atribuído", none_words=("nenhuma", "nenhum"),
            owner_fields=("responsável",), due_fields=("prazo",),
            who=("quem",), when=("quando",), task_columns=("tarefa", "ação"),
            decision_cues=r"decidimos|decidido|decisão|acordado|combinamos|aprovado|ficou definido|fechamos",
            action_cues=r"eu vou|vou enviar|vou preparar|me encarrego|temos que|precisamos|por favor|"
            r"você pode|(?:até|na|para) (?:segunda|terça|quarta|quinta|sexta|amanhã|o fim)|enviarei|"
            r"fica com|fico responsável|fica responsável|manda|envia a|prepara a",
            # Weekdays are ordinals ("segunda" is also "second"): a day only after na/até/para.
            dates=r"(?:na|até|para|próxima) (?:segunda|terça|quarta|quinta|sexta)(?:-feira)?|"
            r"segunda-feira|terça-feira|quarta-feira|quinta-feira|sexta-feira|amanhã|janeiro|fevereiro|"
            r"março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro",
            person=LATIN_NAME, assigning=r"vai|fica com|se encarrega|deve|tem que",
            relative=("que",),
            fillers=("sim", "bem", "bom", "então", "e", "mas", "eu", "nós", "você", "ele", "ela"),
        ),
        Language(
            "nl", "Dutch", ("nederlands",), "Overzicht", "Belangrijkste punten", "Besluiten", "Actiepunten",
            overview_also=("samenvatting",),
            key_points_also=("kernpunten", "hoofdpunten"),
            decisions_also=("beslissingen", "besluit"),
            action_items_also=("vervolgstappen", "acties", "taken"),
            label="[Extractieve samenvatting: zinnen letterlijk uit het transcript gekozen; "
            "er is geen taalmodel gebruikt.]",
            none="Geen", unassigned="Niet toegewezen", none_words=("geen",),
            owner_fields=("eigenaar",), due_fields=("deadline",),
            who=("wie",), when=("datum",), task_columns=("taak", "actie"),
            decision_cues=r"besloten|besluit|beslissing|afgesproken|akkoord|goedgekeurd|overeengekomen|"
            r"we gaan voor",
            action_cues=r"ik zal|ik ga|we moeten|wij moeten|graag|kun je|kan jij|uiterlijk|actiepunt|"
            r"neemt .* op zich|voor (?:maandag|dinsdag|woensdag|donderdag|vrijdag|morgen)|stuur|ik regel|"
            r"pak .{1,30} op",
            dates=r"maandag|dinsdag|woensdag|donderdag|vrijdag|volgende week|januari|februari|maart|april|"
            r"mei|juni|juli|augustus|september|oktober|november|december",
            person=LATIN_NAME, assigning=r"gaat|zal|moet|neemt",
            relative=("die", "wie", "welke"),
            fillers=(
                "nou", "dus", "oké", "prima", "en", "maar", "daarna", "ik", "wij", "jij", "hij", "zij",
            ),
        ),
        Language(
            "zh", "Chinese", ("中文",), "概述", "要点", "决定", "行动项",
            overview_also=("摘要", "总结"), key_points_also=("主要内容", "重点"),
            decisions_also=("决策", "决定事项"), action_items_also=("待办事项", "下一步", "后续行动"),
            label="[抽取式摘要：逐字选自记录稿的句子；未使用语言模型。]", none="无", unassigned="未分配",
            none_words=("无",), owner_fields=("负责人",), due_fields=("截止",),
            who=(), when=(), task_columns=("任务",),
            decision_cues=r"决定|决议|同意|确定|通过了|达成一致|定下来|就这么定",
            # Not 之前 or 完成 alone: "before" also means "previously", "finish" is said of work done.
            action_cues=r"负责|请|我会|我来|截止|跟进|由.{1,4}(?:来|负责)|交给",
            dates=r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|(?:下|这|本)?(?:周|星期|礼拜)[一二三四五六日天]|下周|"
            r"下个?月|月底|明天|后天|周末",
            person=r"[\u4e00-\u9fff]{2,4}?", assigning=r"负责|来负责|会|去",
            relative=(), fillers=(), spaced=False,
        ),
        Language(
            "ja", "Japanese", ("日本語",), "概要", "要点", "決定事項", "アクションアイテム",
            overview_also=("概要", "まとめ"), key_points_also=("主なポイント",),
            decisions_also=("決定",), action_items_also=("次のステップ", "タスク", "todo"),
            label="[抽出型要約：文字起こしから原文のまま選んだ文です。言語モデルは使用していません。]",
            none="なし", unassigned="未割り当て", none_words=("なし",),
            owner_fields=("担当", "担当者"), due_fields=("期限",),
            who=("名前",), when=(), task_columns=("タスク",),
            decision_cues=r"決定|決めました|決まり|合意|承認|ことにします|ことにしました",
            action_cues=r"お願いします|担当|までに|対応します|送ります|準備します|確認します",
            dates=r"\d{1,2}\s*月\s*\d{1,2}\s*日|[月火水木金土日]曜日?|来週|来月|明日|月末|週末",
            person=r"[\u3040-\u30ff\u4e00-\u9fff]{1,6}?", assigning=r"(?:さん|様|くん)(?:は|が|に)",
            relative=(), fillers=(), spaced=False,
        ),
        Language(
            "ko", "Korean", ("한국어",), "개요", "핵심 사항", "결정 사항", "실행 항목",
            overview_also=("요약",), key_points_also=("주요 내용", "주요 사항"),
            decisions_also=("결정",), action_items_also=("다음 단계", "할 일", "후속 조치"),
            label="[추출 요약: 녹취록에서 그대로 선택한 문장이며 언어 모델은 사용하지 않았습니다.]",
            none="없음", unassigned="미지정", none_words=("없음",),
            owner_fields=("담당", "담당자"), due_fields=("기한",),
            who=(), when=(), task_columns=("작업", "할 일"),
            decision_cues=r"결정|합의|승인|확정|하기로",
            # Not 하겠습니다 alone ("we will discuss") nor 까지 alone ("so far" is 지금까지).
            action_cues=r"(?:보내|준비|처리|정리|공유|확인|연락|작성|전달|검토|맡)(?:겠습니다|을게요|ㄹ게요)|"
            r"드리겠습니다|담당|부탁|해 주세요|주시기 바랍니다",
            dates=r"\d{1,2}월\s*\d{1,2}일|[월화수목금토일]요일|다음 주|다음 달|내일|월말",
            person=r"[가-힣]{2,4}", assigning=r"\s*(?:씨|님)(?:는|은|가|이|께서)?\s",
            relative=(), fillers=(), spaced=False,
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
    for code, lang in LANGUAGES.items():
        if value in lang.native:
            return code
    return re.split(r"[-_]", value)[0]


def language_for(code: str | None) -> Language:
    """Headings and labels for `code`; English, with a label naming the language, for the others."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    if not code:
        return ENGLISH
    label = ENGLISH.label.removesuffix("]") + f" The transcript is in {language_name(code)} ({code}).]"
    return replace(ENGLISH, code=code, name=language_name(code), label=label)


def all_headings() -> frozenset[str]:
    return frozenset(h for lang in LANGUAGES.values() for h in lang.headings)


def all_labels() -> frozenset[str]:
    return frozenset(lang.label for lang in LANGUAGES.values())


def all_nones() -> frozenset[str]:
    return frozenset(lang.none for lang in LANGUAGES.values())
