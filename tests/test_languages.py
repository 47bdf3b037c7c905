"""Intents in other languages, Chinese first: the language declared or read from the script, the multilingual
encoder chosen for it (real multilingual-e5-small from its wheel), and the recogniser and voice that follow the
model's language (real Whisper base hearing espeak-ng's Mandarin)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robot.brain import Brain, Robot, Session, fill_in
from robot.errors import InputError
from robot.intents.encoder import MULTILINGUAL
from robot.intents.formats import load_many, parse_native_yaml, to_native_yaml
from robot.language import check_language, detect_language
from robot.service import load_persona
from robot.speech.language_model import LM_FILE
from robot.speech.tts import Voice, synthesize, voice_for
from robot.voice.voice_robot import VoiceOptions, VoiceRobot, make_recognizer
from tests.conftest import FIXTURES
from tests.test_cli import robot_cli

ZH = FIXTURES / "zh" / "intents.yaml"
# Said differently from every example of the fixture
PARAPHRASES = {"你好啊": "greet", "外面天气如何": "weather", "现在几点钟了": "time", "能告诉我现在几点吗": "time",
               "我先走了，再见": "goodbye", "拜拜啦": "goodbye"}


def test_the_language_is_declared_or_read_from_the_script(tmp_path):
    assert detect_language(["今天天气怎么样", "what"]) == "zh"
    assert detect_language(["今日は天気がいいですね"]) == "ja"  # kana among the Han characters
    assert detect_language(["안녕하세요"]) == "ko" and detect_language(["привет, как дела"]) == "ru"
    assert detect_language(["what's the weather like", "123"]) == "en" == detect_language([])
    assert check_language(" ZH_cn ") == "zh-cn"
    with pytest.raises(ValueError, match="not a language code"):
        check_language("chinese")

    text = "version: 1\nlanguage: fr\nintents:\n  salut:\n    examples: [bonjour, salut]\n"
    data = parse_native_yaml(text)
    assert data.language == "fr" and parse_native_yaml(to_native_yaml(data)).language == "fr"
    with pytest.raises(InputError, match="not a language code") as bad:
        parse_native_yaml(text.replace("language: fr", "language: français"))
    assert bad.value.line == 2
    french, chinese = tmp_path / "fr.yaml", tmp_path / "zh.yaml"
    french.write_text(text)
    chinese.write_text(ZH.read_text().replace("intents:", "language: zh\nintents:", 1))
    with pytest.raises(InputError, match="declare different languages"):
        load_many([french, chinese])
    assert load_many([french, chinese], "zh").language == "zh"  # --language settles it


@pytest.fixture(scope="module")
def zh_model(tmp_path_factory) -> tuple[Path, str]:
    """The Chinese fixture trained alone (without the built-in skills) through the CLI, and what it printed."""
    out = tmp_path_factory.mktemp("zh") / "model"
    trained = robot_cli("train", "intents", "--data", str(ZH), "--out", str(out), "--replace")
    assert trained.returncode == 0, trained.stderr
    return out, trained.stdout


def test_chinese_intents_train_with_the_multilingual_encoder_and_answer_new_phrasings(zh_model):
    """Chinese used to crash training, and then (MiniLM) to guess; now the model reads Chinese, pocketsphinx's
    English language model is skipped with one line, and Whisper is told to listen for Chinese."""
    out, printed = zh_model
    assert "(zh)" in printed and "language model skipped" in printed
    assert json.loads((out / "config.json").read_text())["encoder"]["sentence"] == MULTILINGUAL
    assert json.loads((out / "metrics.json").read_text())["language"] == "zh"
    card = (out / "README.md").read_text()
    assert "language zh" in card and "multilingual-e5-small" in card
    settings = json.loads((out / "speech" / "recognizer.json").read_text())
    assert settings["backend"] == "whisper" and settings["language"] == "zh"
    assert settings["prompt"].startswith("你好。今天天气怎么样。") and " " not in settings["prompt"]
    assert not (out / "speech" / LM_FILE).exists()

    brain = Brain.load(out, "zh")
    predictions = brain.classifier.predict(list(PARAPHRASES))
    assert [p.intent for p in predictions] == list(PARAPHRASES.values())
    assert brain.classifier.predict(["what is the capital of France"])[0].intent is None  # generic negatives
    report = out.parent / "report"
    evaluated = robot_cli("eval", "intents", "--data", str(ZH), "--model", str(out), "--report", str(report))
    assert evaluated.returncode == 0 and "in-scope accuracy 100.0%" in evaluated.stdout, evaluated.stderr
    assert (report / "confusion_matrix.png").exists() and "CJK font" not in evaluated.stderr  # drawn, not boxes
    validated = robot_cli("data", "validate", "--replace", str(ZH))
    assert validated.returncode == 0 and "language zh" in validated.stdout
    # no pronunciations (pocketsphinx is English only), and distinct intents are not called near duplicates on
    # multilingual-e5-small's compressed cosine scale
    assert "pronounce" not in validated.stderr and "very similar" not in validated.stderr


def test_a_chinese_model_hears_mandarin_and_answers_in_a_mandarin_voice(zh_model):
    voice = VoiceRobot(Robot(Brain.load(zh_model[0], "zh"), load_persona(), seed=0), VoiceOptions())
    assert voice.recognizer().options.language == "zh"
    with pytest.raises(InputError, match="Moonshine listens for English only"):
        make_recognizer(VoiceOptions(backend="moonshine"), zh_model[0])
    assert voice_for("zh").name == "cmn-latn-pinyin" and voice_for("en") == Voice()
    assert voice_for("zh", Voice("en-us")).name == "en-us"  # a voice chosen by name is kept
    # espeak-ng's Mandarin is hard to hear: "现在几点了" came out as "天气点了" on an AVX-512 CPU, whose int8 kernels
    # differ (without the intents' prompt it hears no time phrase at all), so one it hears whole, primed
    for text, intent in [("告诉我时间", "time"), ("明天会下雨吗", "weather")]:
        speech = synthesize(text, voice_for("zh", Voice(words_per_minute=130)))
        padded = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)])
        result = voice.turn(padded, Session())
        assert result.reply.intent == intent, result.transcript.text
        assert sum(s.size for s in result.speech) > 8000  # the reply, spoken


def test_the_robot_answers_in_chinese_as_its_chinese_persona(tmp_path, monkeypatch):
    """`--language zh` makes the shipped Chinese intents active (trained on first use, then reused); replies,
    actions and out-of-scope lines are Chinese (the dialogue model speaks English only)."""
    from robot.lifecycle import ModelRegistry
    from robot.service import load_robot, train_intent_model

    said = robot_cli("chat", "--language", "zh", "--message", "十二乘以七等于多少", "--json", home=tmp_path)
    assert said.returncode == 0, said.stderr
    assert "84" in json.loads(said.stdout)["text"]
    assert "Training the default zh intents" in said.stderr
    monkeypatch.setenv("ROBOT_HOME", str(tmp_path))
    registry = ModelRegistry("intents", home=tmp_path)
    name = registry.active_name()
    robot = load_robot(registry, seed=0, language="zh")  # reused, not trained again
    assert registry.active_name() == name != "default" and robot.brain.language == "zh"
    composed = train_intent_model([ZH], registry=registry, activate=False)  # started from the built-ins just trained
    assert composed.metrics["started_from_builtins"] and composed.metrics["language"] == "zh"
    session = Session()
    assert robot.respond("我叫小明", session).text.count("小明") == 1
    assert robot.respond("我叫什么名字", session).intent == "recall_name" and "小明" in session.memory["user_name"]
    date = robot.respond("今天几号", session)
    assert date.intent == "date" and "年" in date.text and "月" in date.text
    refused = robot.respond("帮我订一张去上海的火车票", session)
    lines = {fill_in(line, robot.brain.capabilities.said("zh")) for line in robot.personas["zh"].fallback}
    assert refused.intent is None and refused.source == "fallback" and refused.text in lines
    assert "{" not in refused.text
    assert robot.respond("我叫什么名字", Session()).text == "我还不知道你的名字。告诉我：“我叫……”。"
    assert robot.respond("  ", session).text == robot.personas["zh"].empty
    registry.rollback()  # back to the English default
    assert load_robot(registry, seed=0).respond("what time is it", Session()).intent == "time"
    with pytest.raises(InputError, match="no intents in 'fr' to serve: train some with"):
        load_robot(registry, language="fr")
    refused = robot_cli("chat", "--language", "chinese", "--message", "hi", home=tmp_path)
    assert refused.returncode == 2 and "not a language code" in refused.stderr


@pytest.mark.browser
def english_words(page) -> list[str]:
    """The visible buttons, labels, headers and tabs still in English words."""
    return page.evaluate("""() => [...document.querySelectorAll('button, label, th, [role=tab], .label-wrap span')]
        .filter(e => e.offsetParent !== null).map(e => e.innerText.trim())
        .filter(t => /^[A-Za-z][a-z]+( [a-z]+)*$/.test(t))""")


def test_the_chat_page_follows_the_model_language_at_each_load(zh_model, tmp_path):
    """Built in English; once a Chinese model is swapped in, the next page load shows every tab in Chinese (the
    page's own words and Gradio's: Record, the upload boxes), and a Chinese message gets its Chinese reply."""
    from robot.lifecycle import ModelRegistry
    from robot.paths import SHIPPED_MODELS
    from robot.service import load_personas
    from robot.web.app import launch
    from tests.conftest import free_port
    from tests.test_web import BROWSER_ARGS, CHROMIUM

    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default"), load_persona(), seed=0,
                  personas=load_personas())
    port = free_port()
    app = launch(robot, port=port, block=False, registry=ModelRegistry("intents", home=tmp_path))
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.locator("#send")).to_have_text("Send")
            expect(page.get_by_role("button", name="Record", exact=True)).to_be_visible()
            robot.swap(Brain.load(zh_model[0], "zh"))
            page.reload()
            expect(page.locator("#send")).to_have_text("发送")
            expect(page.locator("#message textarea")).to_have_attribute("placeholder", "输入消息，按回车发送")
            expect(page.get_by_text("一个完全在这台电脑上运行的机器人")).to_be_visible()
            expect(page.get_by_role("button", name="录制", exact=True)).to_be_visible()  # Gradio's own words
            expect(page.locator("#voice-upload")).to_contain_text("将音频拖放到此处")
            page.get_by_role("tab", name="训练").click()
            for button in ("校验", "加入反馈更正", "训练"):
                expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
            expect(page.get_by_text("只用我的意图（不加内置技能）")).to_be_visible()
            expect(page.locator("#upload")).to_contain_text("上传意图文件")
            page.get_by_role("tab", name="模型").click()
            expect(page.get_by_role("button", name="回滚", exact=True).first).to_be_visible()
            expect(page.get_by_text("意图模型版本")).to_be_visible()
            expect(page.locator("#versions")).to_contain_text("启用")  # the headers come with the page's load event
            assert english_words(page) == []
            page.get_by_role("tab", name="训练").click()
            expect(page.get_by_role("button", name="校验", exact=True)).to_be_visible()
            assert english_words(page) == []
            page.get_by_role("tab", name="聊天").click()
            assert english_words(page) == []
            page.locator("#message textarea").fill("现在几点钟了")
            page.keyboard.press("Enter")
            expect(page.locator("#reply-meta")).to_contain_text("time · ", timeout=60_000)
            expect(page.locator("#chat [data-testid='bot']").first).to_contain_text("我来看看")  # the fixture's reply
            browser.close()
    finally:
        app.close()
