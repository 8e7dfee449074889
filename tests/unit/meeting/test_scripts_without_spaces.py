"""Scripts written without spaces (Chinese, Japanese, Thai, and other dense scripts): sentences split
on their own full stops, token estimates count their characters, word windows and summaries stay
within the grant, and a long run of cues in one turn is read in linear time.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import pytest

from tests.support.fakes import FakeEngine
from tests.support.jobs import run_job
from tests.support.procs import scaled
from worker.chunking import split_words
from worker.meeting import count_word_tokens, parse_transcript, sentences
from worker.summarize import Summarizer

SCRIPTS = {
    # (alphabet, sentence end, separator between sentences)
    "chinese": (
        "我们决定周五发布新版本预算已经批准了李娜会在周四之前更新文档客户反馈很好需要修复支付问题",
        "。",
        "",
    ),
    "japanese": (
        "会議は金曜日に新しい版を出すことに決めました予算は承認済みです田中さんが資料を更新します",
        "。",
        "",
    ),
    "thai": ("เราตัดสินใจปล่อยเวอร์ชันใหม่วันศุกร์งบประมาณได้รับการอนุมัติแล้วสมชายจะอัปเดตเอกสาร", "", " "),
    "korean": ("우리는금요일에새버전을출시하기로결정했습니다예산이승인되었고문서를업데이트합니다", ".", " "),
}


def prose(name: str, chars: int, seed: int = 13) -> str:
    alphabet, end, sep = SCRIPTS[name]
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < chars:
        if name == "korean":  # Korean is written with spaces between words
            words = [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
                for _ in range(rng.randint(3, 8))
            ]
            sentence = " ".join(words) + end
        else:
            sentence = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 30))) + end
        out.append(sentence)
        total += len(sentence) + len(sep)
    return sep.join(out)


@pytest.mark.parametrize("script", SCRIPTS)
def test_200k_characters_without_spaces_give_a_summary_within_the_granted_budget(script: str) -> None:
    text = prose(script, 200_000)
    result = run_job({"text": text, "options": {"max_tokens": 512}})
    assert result["status"] == "ok", result
    assert 0 < result["output_tokens"] <= 512
    assert result["input_tokens"] > 50_000  # a CJK/Thai character is about a token, not a word
    summary = result["summary"]
    assert len(summary) < len(text) / 20
    assert count_word_tokens(summary) <= 512


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我们决定周五发布。李娜：我会更新文档！好吗？",
            ["我们决定周五发布。", "李娜：我会更新文档！", "好吗？"],
        ),
        ("「是的。」他说。", ["「是的。」", "他说。"]),
        ("会議は終わりました。次は金曜日です。", ["会議は終わりました。", "次は金曜日です。"]),
        ("เราตัดสินใจปล่อยวันศุกร์ ฉันจะอัปเดตเอกสาร", ["เราตัดสินใจปล่อยวันศุกร์", "ฉันจะอัปเดตเอกสาร"]),
        (
            "우리는 금요일에 출시합니다. 문서를 업데이트할게요.",
            ["우리는 금요일에 출시합니다.", "문서를 업데이트할게요."],
        ),
    ],
    ids=["chinese", "chinese_quoted", "japanese", "thai", "korean"],
)
def test_sentences_split_without_spaces_after_the_punctuation(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("我们决定周五发布。", 9),
        ("会議は終わりました", 9),
        ("เราตัดสิน", 9),
        ("우리는 출시", 5),
        ("ship it on Friday.", 5),
    ],
    ids=["chinese", "japanese", "thai", "korean", "english"],
)
def test_extractive_token_estimate_counts_a_cjk_or_thai_character_as_a_token(text: str, tokens: int) -> None:
    assert count_word_tokens(text) == tokens


@pytest.mark.parametrize("script", SCRIPTS)
def test_word_windows_of_a_script_without_spaces_fit_the_budget(script: str) -> None:
    text = prose(script, 20_000).replace("。", "").replace(".", "")
    tokens = count_word_tokens(text)
    windows = split_words(text, tokens, 1000)
    assert "".join(windows).replace(" ", "") == text.replace(" ", "") or script in ("thai", "korean")
    assert all(count_word_tokens(w) <= 1000 for w in windows)


# Round three: the other scripts written without spaces, and ideographs beyond the BMP.
MORE_SCRIPTS = {
    # name: (first code point, last code point, sentence end, separator)
    "khmer": (0x1780, 0x17B3, "\u17d4", ""),
    "lao": (0x0E81, 0x0EB0, "", " "),
    "myanmar": (0x1000, 0x102A, "\u104b", ""),
    "tibetan": (0x0F40, 0x0F6C, "\u0f0d", ""),
    "cjk_extension_b": (0x20000, 0x20FFF, "。", ""),
    "halfwidth_katakana": (0xFF66, 0xFF9D, "｡", ""),
    "yi": (0xA000, 0xA48C, "。", ""),
}


def other_prose(name: str, chars: int) -> str:
    low, high, end, sep = MORE_SCRIPTS[name]
    rng = random.Random(13)
    out: list[str] = []
    total = 0
    while total < chars:
        sentence = "".join(chr(rng.randint(low, high)) for _ in range(rng.randint(8, 30))) + end
        out.append(sentence)
        total += len(sentence) + len(sep)
    return sep.join(out)


@pytest.mark.parametrize("script", MORE_SCRIPTS)
def test_200k_characters_of_other_scripts_without_spaces_stay_within_the_grant(script: str) -> None:
    """Khmer, Lao, Myanmar, Tibetan, Yi, half-width kana and CJK beyond the BMP were counted a run
    per token: 200K characters were ~20K tokens and a "512-token" summary held ~2,700 characters."""
    text = other_prose(script, 200_000)
    result = run_job({"text": text, "options": {"max_tokens": 512}})
    assert result["status"] == "ok", result
    assert result["input_tokens"] > 150_000
    assert 0 < result["output_tokens"] <= 512
    assert len(result["summary"]) < 2 * 512


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("យើងនឹងចេញផ្សាយ។ខ្ញុំនឹងធ្វើបច្ចុប្បន្នភាព។", ["យើងនឹងចេញផ្សាយ។", "ខ្ញុំនឹងធ្វើបច្ចុប្បន្នភាព។"]),
        ("ကျွန်ုပ်တို့ထုတ်ပြန်မည်။စာရွက်စာတမ်းပြင်မည်။", ["ကျွန်ုပ်တို့ထုတ်ပြန်မည်။", "စာရွက်စာတမ်းပြင်မည်။"]),
        ("ང་ཚོས་འགྲེམས་སྤེལ་བྱེད།ཡིག་ཆ་གསར་བཅོས།", ["ང་ཚོས་འགྲེམས་སྤེལ་བྱེད།", "ཡིག་ཆ་གསར་བཅོས།"]),
        ("हम शुक्रवार को जारी करेंगे। मैं दस्तावेज़ अपडेट करूँगा।", ["हम शुक्रवार को जारी करेंगे।", "मैं दस्तावेज़ अपडेट करूँगा।"]),
        ("ພວກເຮົາຈະປ່ອຍວັນສຸກ ຂ້ອຍຈະອັບເດດເອກະສານ", ["ພວກເຮົາຈະປ່ອຍວັນສຸກ", "ຂ້ອຍຈະອັບເດດເອກະສານ"]),
    ],
    ids=["khmer", "myanmar", "tibetan", "hindi_danda", "lao"],
)
def test_sentences_split_on_the_full_stops_of_other_scripts(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("ខ្ញុំ", 5), ("ພວກເຮົາ", 7), ("ကျွန်ုပ်", 8), ("\U00020001\U00020002", 2), ("ｱｲｳ", 3), ("ꀀꀁ", 2)],
    ids=["khmer", "lao", "myanmar", "cjk_extension_b", "halfwidth_katakana", "yi"],
)
def test_extractive_token_estimate_counts_each_character_of_other_dense_scripts(
    text: str, tokens: int
) -> None:
    assert count_word_tokens(text) == tokens


class _Overlong(FakeEngine):
    """An engine that ignores max_tokens (a misbehaving server, a buggy adapter)."""

    async def complete(self, task):  # type: ignore[no-untyped-def]
        self.history.append(task)
        text = " ".join(["word"] * (task.max_tokens * 5))
        return await _completion(self, task, text)


async def _completion(engine: FakeEngine, task: Any, text: str) -> Any:
    from worker.engines import Completion

    return Completion(text, await engine.prompt_tokens(task), len(text.split()))


def test_the_summariser_trims_an_engine_that_returns_more_than_granted() -> None:
    summary = asyncio.run(
        Summarizer(_Overlong(max_model_len=4000)).summarize("Alice: we ship on Friday.", 100)
    )
    assert summary.stats.output_tokens <= 100 and len(summary.text.split()) <= 100
    assert summary.stats.trimmed == 1


# Round three: cue formats whose cues all merge into one turn (no speaker change, no sentence end).
def _one_long_turn_of_cues(fmt: str, n: int) -> str:
    words = [("yes", "no", "ship", "friday", "docs")[i % 5] for i in range(n)]
    if fmt == "whisper":
        return json.dumps(
            {"segments": [{"start": i, "end": i + 0.5, "text": w} for i, w in enumerate(words)]}
        )
    items = [
        {
            "start_time": str(i),
            "end_time": f"{i}.5",
            "type": "pronunciation",
            "alternatives": [{"content": w}],
        }
        for i, w in enumerate(words)
    ]
    return json.dumps({"results": {"transcripts": [{"transcript": "x"}], "items": items}})


@pytest.mark.parametrize("fmt", ["whisper", "aws-transcribe"])
def test_a_long_run_of_cues_in_one_turn_is_read_in_linear_time(fmt: str) -> None:
    """Each cue was appended to its turn's string, re-copying it: 160K one-word Whisper segments
    without a sentence end (8 MB) took 190 s, a 64 MB file hours."""
    text = _one_long_turn_of_cues(fmt, 100_000)
    tick = time.monotonic()
    parsed = parse_transcript(text, "t.json")
    assert time.monotonic() - tick < scaled(10)
    assert parsed.format == fmt and parsed.transcript.turns == 1
    assert len(parsed.turns[0].text.split()) == 100_000
