"""Render `make eval` results as Markdown: overall table, per-domain table, the target check.

Pure formatting over `eval.scores.Scores`; the numbers are written as measured, never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eval.scores import Scores

if TYPE_CHECKING:
    from eval.data import Meeting

LABELS = {
    "lead": "LEAD (first sentences)",
    "lexrank": "LexRank (sumy 0.13)",
    "textrank": "TextRank (sumy 0.13)",
    "extractive-rank": "extractive engine, selection only (`rank`)",
    "extractive": "**extractive engine (ours)**",
    "llm": "LLM engine (OpenAI-compatible)",
}


def _label(name: str) -> str:
    return LABELS.get(name, name)


def target(results: list[Scores]) -> str | None:
    """Issue 14's bar: the structured summary beats TextRank's R-1 by at least 2 points without
    losing on R-2."""
    by = {r.system: r for r in results}
    if "extractive" not in by or "textrank" not in by:
        return None
    ours, tr = by["extractive"], by["textrank"]
    d1 = ours.mean("rouge1") - tr.mean("rouge1")
    d2 = ours.mean("rouge2") - tr.mean("rouge2")
    met = d1 >= 2.0 and d2 >= 0.0
    return (
        f"Target (beat TextRank's R-1 by ≥ 2 points without losing on R-2, with the structured summary): "
        f"**{'met' if met else 'not met'}**: R-1 {d1:+.2f}, R-2 {d2:+.2f} points against TextRank."
    )


def headline(results: list[Scores]) -> str:
    parts = [
        f"{r.system}: R-1 {r.mean('rouge1'):.1f} R-2 {r.mean('rouge2'):.1f} R-L {r.mean('rougeL'):.1f}"
        for r in results
    ]
    line = " | ".join(parts)
    check = target(results)
    return line + ("\n" + check if check else "")


def render(
    meetings: list[Meeting],
    results: list[Scores],
    data: Path,
    command: str,
    machine: list[str],
    structure: Sequence[str] = (),
    before: Sequence[str] = (),
) -> str:
    domains = sorted({m.domain for m in meetings})
    ids_by_domain = {d: [m.id for m in meetings if m.domain == d] for d in domains}
    out = [
        "# Summary quality (`make eval`)",
        "",
        "Written by `make eval` (`eval/rouge.py`); figures as measured, not edited.",
        "",
        *machine,
        f"- Command: `{command}`",
        f"- Data: {len(meetings)} meetings from `{_shown(data)}` "
        "(QMSum validation: AMI, ICSI, parliamentary committees; Zhong et al., NAACL 2021)",
        "",
        "## Method",
        "",
        "- ROUGE F1 ×100 from `rouge-score` 0.1.2 with `use_stemmer=True`, macro-averaged over meetings;"
        " R-Lsum reads one sentence a line.",
        "- Every system chooses from the same sentences (the worker's regex splitter, speaker labels"
        " dropped), picks in its own order of preference until it has the reference's length in words,"
        " and its picks, in the order it shows them, are cut to exactly that many words. The baselines"
        " show theirs in transcript order.",
        "- **extractive engine (ours)** is what users get: the structured summary"
        " (`ExtractiveEngine.sections`, the selection behind `summarise`), asked for about 1.15× the"
        " reference length in its tokens plus its frame (label and headings), and scored as"
        " `Sections.sentences()`: the picked sentences' text in reading order (Overview, Key points,"
        " Decisions, Action items), without label, headings, speakers or times. The cut therefore"
        " drops the end of the Action items first. *selection only (`rank`)* is the same ranking"
        " without sections (no detected decisions or action items), in transcript order.",
        "- sumy's NLTK punkt tokenizer cannot be downloaded offline, so sumy runs with a regex"
        " tokenizer adapter (`eval.systems.RegexTokenizer`), its own English stemmer and stop words.",
        "- The engine was tuned on these same meetings (there is no separate test split), so its"
        " margin is an in-sample result. The ranking (MMR diversity 0.8, length prior saturating at 16"
        " content words, relevance floor 0.1× the best sentence, at least 3 content words) was chosen"
        " on all 35 meetings (issue 14: diversity 0.7–0.9 × saturation 16–20 gave `rank` R-1"
        " 25.1–25.5). The share of the budget that detected decisions and action items may take"
        " (0.35 then, 0.25 since issue 22's third pass below; explicit action items with an owner and"
        " a due date up to 0.5) was chosen on the 20"
        " AMI product meetings alone (their R-1 at 0.30 / 0.35 / 0.40 / 0.45 / 0.50: 24.95 / 25.43 /"
        " 25.29 / 25.11 / 24.82), so for that one parameter the academic and committee columns below"
        " are held out. Detected items are picked by the same MMR as the rest and the central picks"
        " never repeat them; before that (issue 14's first version: half the budget, most relevant"
        " first) the structured summary scored R-1 23.45 in this harness.",
        "- Issue 22 made the structure trustworthy (only decisions stated as made are listed, talk about"
        " deciding closes the Key points; whole-word cues; owners never a filler, title or date;"
        " versions are no due dates; a question is an action item only as a request). On these"
        " meetings that moved the structured summary's R-1 / R-2 / R-L / R-Lsum from 25.94 / 3.18 /"
        " 13.69 / 22.55 to 24.69 / 2.88 / 12.84 / 21.57 (`rank`: 25.51 → 25.6): ROUGE *fell*; the"
        " loss is concentrated in a few AMI meetings where a different sentence of ~30 tokens fills the"
        " ~100-word budget (TS3009c alone: 28.8 → 11.9).",
        "- A follow-up looked for general rules that win that ROUGE back and found none that held (R-1"
        " of the structured summary, against 24.69): ranking by content words per token (exponent"
        " 0.25 / 0.5 / 1: 24.38 / 23.74 / 24.14), a detected share of 0.2 / 0.25 / 0.45 (24.53 /"
        " 24.65 / 24.22), cue bonus 1.0 / 1.3 (24.56 / 24.58), the most central plain sentences"
        " reserved before detection (1 / 2 / 3: 23.56 / 24.10 / 24.13), a relevance floor of 0.2–0.6×"
        " the best for detected items (24.17–24.99, not monotonic), detected items needing 4 / 5 / 6 /"
        " 8 content words (24.39 / 25.04 / 24.57 / 24.02), talk about deciding without a reserved"
        " share (23.88), and MMR filling only with sentences ≥ 0.3 / 0.5× the best left (24.28 /"
        " 24.42). The budget is ~60–110 words, about four sentences, so one swapped sentence moves a"
        " meeting's R-1 by 5–19 points and these spreads are noise, not signal. Kept: a stated decision"
        " outside a recap with fewer than 5 content words (\"We decided, 'cause it's not on our list.\")"
        " is talk about deciding, listed under Key points: the same sentences, so ROUGE is unchanged,"
        " and decision precision went 9.1 → 10.0 % at unchanged coverage. All figures here, ROUGE and"
        " structure alike, are in-sample: rules and thresholds were chosen looking at these 35"
        " meetings.",
        "- A third pass (2026-12-04, later). First, the code as it had landed (commit 1447b66) scores R-1"
        " 24.46 against TextRank 22.81 in this harness, not the 24.69 / 22.59 above: issue 21's speaker"
        ' labels (commit 8c2f8d8: labels of up to 80 characters, "Kirsty Williams AM") changed how the'
        " six committee meetings split into speakers and sentences for every system (TextRank there"
        " 28.0 → 29.3, ours 29.1 → 27.8), which put issue 14's target out of reach (+1.66). This pass"
        " then listed fewer wrong items (a mention of what was decided, an agenda line and a decision"
        " tree are no decisions; an act of the meeting itself and a request to say something are no"
        ' action items; a word the meeting writes in lower case is no owner; "this is what we decided"'
        " points at the decisions after it), which left R-1 at 24.36, and re-chose the detected share"
        " the way issue 14 chose it, on the 20 AMI meetings alone under the current code (R-1 there at"
        " 0.20 / 0.25 / 0.30 / 0.35 / 0.40: 25.0 / 25.1 / 25.0 / 24.8 / 24.6): 0.25, which moved all 35"
        " meetings to 24.83 (the academic ones, held out for it, 21.1 → 22.2). Against the 25.94 before"
        " issue 22 (measured before issue 21's labels changed the input) that is still 1.1 points lower.",
        "- A fourth pass (2026-12-05). One person's consent, reported, is no decision of the meeting"
        ' ("Chuck Fillmore agreed to record meetings", "a group here who\'s agreed to have their meetings'
        ' recorded"), nor is checking that all agree ("just to make sure that everybody\'s agreed") or a'
        ' decision pointed back at without saying it ("we decided that already", "present what we\'ve'
        ' chosen"): 20 → 15 decisions listed, reference precision 11.8 → 15.4 %, coverage unchanged. A'
        ' request ("Can you send me the estimate by Thursday?") is owned by the person asked, not the'
        " person asking: the one its turn addresses, else the next speaker who takes it on, else nobody;"
        " with its read-back it is one item. The matching rule now joins AMI's spelled-out letters"
        ' ("L_C_D_" is the answers\' "LCD") for every system alike (sentences matching some reference:'
        " 126 → 139). No cue family we tried reaches the 25 % reference precision issue 22 asks for:"
        ' over these meetings\' sentences, "we want" matches a decision reference 2.9 % of the time,'
        ' "should be" 2.9 %, "it has to be" 3.0 %, "let\'s use/have/go…" 5.0 %, "decided/agreed"'
        " anywhere 5.3 %, a proposal answered by another speaker's short assent 2.6 %, the chair's long"
        " sentences in the last 15 % of a meeting 4.4 %, against 1.7 % for any sentence (see the reach"
        " table below). QMSum's answers leave out many decisions that were made (ES2009d's touch screen,"
        " buttons and colours), so the hand verdicts under the structure table are the other half of the"
        " picture. Short meetings and terse recaps were the other half of this pass (a decision needs 2"
        ' content words, not 5; the answer to "so what have we decided?" and a numbered recap, also'
        " one said in a single sentence, give one decision per item; one item per commitment by first"
        " date or deadline): R-1 of the structured summary 24.83 → 25.14.",
        "- A fifth pass (2026-12-05, later) tried making whole the sentences AMI splits across turns"
        ' when another speaker says "Right." or "Yep." in the middle ("we\'re going with a simple'
        ' battery, the advanced chip" / "Right." / "and a curved case ... made out of rubber"; 1,321 such'
        " joins over the 35 meetings): the decision items read whole, but longer units cost the"
        " budget, and R-1 fell 25.14 → 24.42, decisions listed 15 → 12 and their reference precision"
        " 15.4 → 10.0 %, so it was not kept. The rest of the pass was the other languages and the LLM"
        " path (more shapes of decisions, owners and due dates in each record, cues not matched inside"
        " longer Chinese and Japanese words, backchannels of the scripts without spaces no content, a"
        " short meeting's numbered recap, action items whose owner and date follow the task): on"
        " these English meetings it changed one action item (112 → 113 listed, no bad owner). Then a"
        ' commitment cue inside a condition ("So if we need to have a target group ...") committed'
        ' nobody, nor did a disfluent "you can you can": action items 113 → 103, their precision'
        " 3.6 → 3.8 %, R-1 / R-2 25.14 / 2.94 → 25.34 / 3.04.",
        "- A sixth pass (2026-12-06). A short meeting's decisions stated as made were crowded out by"
        ' its talk about deciding ("we haven\'t decided on the training vendor yet" listed, "so we\'ll go'
        ' with HubSpot" not): decisions stated as made may now fill the share explicit action items'
        " have, and one content word beside the cue is enough. Another body's decision, reported"
        ' ("they concluded that ...", "the positions that have already been approved"), or one inside'
        " a quotation, is none. Decisions listed 15 → 18, reference precision 15.4 → 12.5 % (2 of 16"
        " in meetings with references; the new ones are real but no answer names them: ES2009b's touch"
        " screen), hand audit 12 of 15 → 14 of 18, R-1 / R-2 25.34 / 3.04 → 25.33 / 3.14. Listing a"
        " stated decision before the most central talk about deciding was also tried and not kept: R-1"
        ' 25.04. An instruction\'s verb owns nothing ("Compare prices by Friday", "Update docs"), nor'
        ' does the noun after an article ("The Board will decide"): no owner changed on these meetings.',
        "- A seventh pass (2026-12-06, later). A score is no decision's content: numbers beside a"
        " decision cue say nothing decided (TS3010d's \"I We'll go for a three.\" rates a feature),"
        ' while "20 euros" or "two buttons" still do. The answer to a recap question that says nothing'
        ' is decided yet ("Have we decided on the vendor?" "Not yet, ...") recaps nothing; a decision'
        ' still to come or left open ("still pending", "we agreed to disagree") is none. A cue whose'
        ' clause says nobody acts ("Nobody has been assigned yet"), a question about the meeting\'s'
        ' connection ("Can you hear me?") and a decision tree in Japanese, Korean or Chinese are no'
        ' items, in every language record. A decision that names who does it ("We decided that Carol'
        " will send the deck by Friday\") is that person's action item, and a speaker's own name is a"
        ' name even where another language has it as a filler ("Ben"). The other languages\' fillers'
        " and articles are no content words (single letters excepted: with them R-1 / R-2 went 25.40 /"
        " 3.05, AMI spells acronyms letter by letter). On these English meetings: decisions listed"
        " 18 → 17, reference precision 12.5 → 13.3 % (2 of 15), hand audit 14 of 17, action items"
        " unchanged (103, no owner changed), R-1 / R-2 25.33 / 3.14 → 25.35 / 3.14.",
        "- An eighth pass (2026-12-06, stop 29). A decision inside quotation marks of any script is"
        " none, single ones too (education_22's witness \"of saying: one—'Let's ... let's go with a"
        " scheme ...'\"), nor is one made in a talk outside the meeting and reported (Bmr026's \"I"
        ' talked briefly to Mari and ... we agreed that we would have a telephone meeting": a new'
        " `elsewhere` field in every language record); a pointer's statements end at a sentence that"
        " points back again (TS3009d's \"It's also copy paste from what we made together.\"). Set"
        ' phrases state a decision (ES2006d\'s "the sample sensor will have to go", "Yellow it'
        ' is.", "So it\'s rubber, then."). A decision said across turns while the others only say'
        ' "Right." or "Yep." is one unit (ES2006c\'s "we\'re going with a simple battery, the advanced'
        ' chip" / "Right." / "and a curved on one side case ... made out of rubber" / "Yep." / "and the'
        ' buttons are also rubber."), and of two decisions that choose the same thing the later is kept'
        " (ES2009b's touch screen). Decisions listed 17 → 14, reference precision 13.3 → 25.0 % (3 of"
        " 12: at the target, in-sample, one item from either side of it), coverage 1.7 → 2.5 %, hand"
        " audit 13 of 14; action items unchanged (103, 0 bad owners). ROUGE fell: R-1 / R-2 25.35 /"
        " 3.14 → 24.96 / 3.14. The joined decisions cost 0.49 (measured before the last change: 25.01"
        " with them, 25.50 without): at the ~100-word budget a whole decision displaces other"
        " sentences (ES2006c 36.0 → 25.0, ES2009d 21.0 → 14.9); kept, because a user reads the whole"
        " decision. The interjections every language shares (mhm, hm, huh, aha) as stop words, so a"
        ' German "Mhm." is a backchannel, cost 0.05 (IS1006a 28.8 → 27.1). Against the engine before'
        " issue 22 (commit c354eba, run on these meetings), on the 29 AMI and ICSI meetings whose input"
        " issue 21's labels did not change: R-1 25.28 → 24.31 (8 meetings up, 11 down, 10 unchanged;"
        " TS3009c alone −16.9, where the old engine listed a question and an agenda line as"
        ' decisions), so issue 22\'s "ROUGE does not fall" is not met. Later in the pass, a past event,'
        ' a view, a thanks or an absence said with a date gave the person named no task any more ("Dana'
        ' sent the deck on Friday", "Bob wants the report by Friday", "I\'ll be out on Friday"): no'
        " item of these meetings changed, and R-1 stayed 24.96.",
        "- A ninth pass (2026-12-06, stop 30). The summary quotes clean verbatim"
        ' (`worker.meeting.clean_verbatim`): the hesitations of the meeting\'s languages ("um", "äh",'
        ' "euh"), stutters ("it\'s it\'s", "to the to the", "we we\'ve", "th that") and asides set off'
        ' by commas (", you know,", ", sozusagen,") are left out; words said twice on purpose ("that'
        ' that", "nous nous") and a hesitation of one language that is a word of another spoken in the'
        ' meeting (Portuguese "um", German "er") stay.'
        " R-1 / R-2 / R-L / R-Lsum 24.96 / 3.14 / 13.18 / 22.11 → 25.86 / 2.90 / 13.83"
        " / 22.77 (`rank` 25.35 / 3.18 → 25.88 / 3.35). Against the engine before issue 22 (commit"
        " c354eba on these meetings: 25.94 / 3.18 / 13.69 / 22.55) R-L and R-Lsum are higher, R-1 is"
        " 0.08 lower and R-2 0.28 lower; on the 29 AMI and ICSI meetings whose input issue 21's labels"
        " did not change, R-1 25.28 → 25.40 (16 meetings up, 13 down). Structure: decisions unchanged"
        " (14, reference precision 25.0 %, coverage 2.5 %, hand audit 13 of 14 with the audit's keys"
        " rewritten to the clean text), action items 103 → 106 (owners 87 → 90, 0 bad owners, 0"
        " duplicates).",
        "- A tenth pass (2026-12-06, stop 31). A number spelled out is no content word, as its digits"
        ' never were (the ranking reads no digits): "twelve euros" in one transcript is "12 euros" in'
        " another's, and a microphone check (ES2006d's \"Fifty one, one, two, three, four, five, six,"
        ' seven, eight.") was among the central sentences of meetings that score and price things in'
        " words. R-1 / R-2 / R-L / R-Lsum 25.86 / 2.90 / 13.83 / 22.77 → 26.03 / 3.14 / 13.98 / 22.96"
        " (`rank` 25.88 / 3.35 → 25.84 / 3.41); decisions unchanged (14, reference precision 25.0 %,"
        " coverage 2.5 %), action items 106 → 105 (precision 3.5 → 3.7 %, 0 bad owners). Against the"
        " engine before issue 22 (commit c354eba on these meetings) every metric of the structured"
        " summary is now within the noise of a 35-meeting sample, paired by meeting (the before-and-after"
        " table below, `eval/compare.py`): R-1 +0.09, R-2 −0.04, R-L +0.29, R-Lsum +0.41, none with a"
        " 95 % interval that excludes 0 (R-2's: −0.65 to +0.60). The ninth pass's R-2 fall (−0.29) had"
        " an interval of −0.87 to +0.31: it was not a measured fall either.",
        "",
        "## Overall",
        "",
        "| system | R-1 | R-2 | R-L | R-Lsum | s per meeting |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        seconds = sum(r.seconds.values()) / max(len(r.seconds), 1)
        out.append(
            f"| {_label(r.system)} | {r.mean('rouge1'):.2f} | {r.mean('rouge2'):.2f} | "
            f"{r.mean('rougeL'):.2f} | {r.mean('rougeLsum'):.2f} | {seconds:.3f} |"
        )
    check = target(results)
    if check:
        out += ["", check]
    out += ["", "## Per domain (R-1 / R-2 / R-L)", ""]
    out.append("| system | " + " | ".join(f"{d} ({len(ids_by_domain[d])})" for d in domains) + " |")
    out.append("|---|" + "---|" * len(domains))
    for r in results:
        cells = [
            f"{r.mean('rouge1', ids):.1f} / {r.mean('rouge2', ids):.1f} / {r.mean('rougeL', ids):.1f}"
            for ids in ids_by_domain.values()
        ]
        out.append(f"| {_label(r.system)} | " + " | ".join(cells) + " |")
    if before:
        out += ["", *before]
    if structure:
        out += ["", *structure]
    out += [
        "",
        "## Reproduce",
        "",
        "```",
        "make eval                                   # extractive engine + baselines, writes this file",
        "python -m eval.rouge --engine openai --url http://127.0.0.1:8000 --model MODEL \\",
        "    --out docs/EVAL-llm.md                  # adds an LLM served by any OpenAI-compatible server",
        "python -m eval.rouge --structure-only [--engine openai --url URL --model MODEL]",
        "                                            # the structure table alone, printed",
        "python -m eval.compare BEFORE [AFTER]       # two commits (or score files), meeting by meeting,",
        "                                            # with a bootstrap interval of the difference",
        "```",
        "",
    ]
    return "\n".join(out)


def _shown(path: Path) -> str:
    """The data folder relative to the repo's parent (`../shared/...`), else as given."""
    from eval.data import ROOT

    try:
        return "../" + path.resolve().relative_to(ROOT.parent).as_posix()
    except ValueError:
        return str(path)
