"""A thanks, praise or an absence said with a date is no task (issue 22: action items a user can
trust): "Sarah, thanks for the deck on Friday" and "I'll be out on Friday" were action items, owned
by Sarah and by the speaker. A task said beside one still is, in each language the engine localises."""

from __future__ import annotations

import pytest

from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Sarah, thanks for the deck on Friday."),
        ("en", "Sarah, great job on Friday."),
        ("en", "I'll be out on Friday."),
        ("en", "I'm off until Monday."),
        ("en", "She's on vacation next week."),
        ("de", "Anna, danke für die Folien am Freitag."),
        ("de", "Ich bin am Freitag nicht da."),
        ("de", "Ich bin nächste Woche im Urlaub."),
        ("fr", "Marie, merci pour les slides de vendredi."),
        ("fr", "Je serai absent vendredi."),
        ("es", "Ana, gracias por las diapositivas del viernes."),
        ("es", "Estaré de vacaciones la próxima semana."),
        ("it", "Anna, grazie per le slide di venerdì."),
        ("it", "Sarò in ferie la prossima settimana."),
        ("pt", "Ana, obrigado pelos slides de sexta-feira."),
        ("pt", "Vou estar de férias na próxima semana."),
        ("nl", "Sanne, bedankt voor de slides van vrijdag."),
        ("nl", "Ik ben volgende week op vakantie."),
        ("zh", "李娜，谢谢你周五的幻灯片。"),
        ("zh", "我下周休假。"),
        ("ja", "佐藤さん、金曜日の資料ありがとうございました。"),
        ("ja", "来週は休暇です。"),
        ("ko", "지은 씨, 금요일 자료 감사합니다."),
        ("ko", "다음 주에 휴가입니다."),
    ],
)
def test_a_thanks_or_an_absence_with_a_date_is_no_task(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_action(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Thanks Sarah, and please send the deck by Friday."),
        ("en", "I'm out on Friday, so I'll send the deck on Thursday."),
        ("en", "Sarah, can you send the deck by Friday?"),
        ("de", "Danke, Anna, und schick bitte die Folien bis Freitag."),
        ("fr", "Merci Marie, et envoie-moi les slides d'ici vendredi s'il te plaît."),
    ],
)
def test_a_task_beside_a_thanks_or_an_absence_is_still_one(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_action(sentence)
