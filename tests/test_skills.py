"""Your intents extend the robot (issue #25): composed with the built-in skills, forms that ask for what is missing,
webhooks and plugin actions, FAQ answers, and a robot that describes the model it runs. Real models trained here,
real HTTP servers on loopback."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from robot.brain import Brain, Robot, Session
from robot.errors import InputError
from robot.intents.evaluate import confusion_labels
from robot.intents.formats import load_intents
from robot.service import compose_files, load_persona, load_personas, train_intent_model
from robot.skills import webhook
from robot.skills.webhook import WebhookPolicy
from tests.conftest import FORMATS

SHOP = """version: 1
language: en
intents:
  order_pizza:
    description: order a pizza
    examples: [i'd like to order a pizza, can i get a pizza, i want a pizza, order a pizza please,
      i'd like a pizza delivered, get me a pizza, can you order me a pizza, send me a pizza,
      i want pizza for dinner, put in a pizza order, order a large pizza, one medium pizza please]
    slots:
      size: {{entity: size, ask: "What size would you like?"}}
      crust: {{entity: crust, ask: "Thin or thick crust?"}}
    {action}
    responses: ["A {{size}} pizza with a {{crust}} crust{{extra}}."]
  joke:
    examples: [tell me a pizza joke, a joke about pizza please, make me laugh with pizza, pizza joke,
      got any pizza jokes, say something funny about pizza]
    responses: ["Why did the pizza go to the doctor? It was feeling a little cheesy."]
entities:
  size:
    lookup: [small, medium, large]
    synonyms: {{large: [big, huge]}}
  crust:
    lookup: [thin, thick]
faq:
  - q: what are your opening hours
    a: We bake from 11 am to 11 pm, every day.
  - q: do you have vegan cheese
    a: Yes, on every pizza.
"""


class Hook(BaseHTTPRequestHandler):
    """A webhook whose answer each test sets: `Hook.answer(turn) -> (status, body bytes)`; every turn is kept."""

    turns: list[dict] = []
    answer = staticmethod(lambda turn: (200, json.dumps({"slots": {"extra": ", on its way"}}).encode()))

    def do_POST(self) -> None:  # noqa: N802
        turn = json.loads(self.rfile.read(int(self.headers["content-length"])))
        Hook.turns.append(turn)
        status, body = Hook.answer(turn)
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/order"
    server.shutdown()


@pytest.fixture(scope="module")
def shop(tmp_path_factory, encoder, hook):
    """The shop's intents composed with the built-in skills, its form's intent calling the webhook."""
    folder = tmp_path_factory.mktemp("shop")
    (folder / "shop.yaml").write_text(SHOP.format(action=f"webhook: {hook}"))
    result = train_intent_model([folder / "shop.yaml"], out=folder / "model", device="cpu", encoder=encoder)
    return Brain.load(result.folder, "shop", encoder=encoder), result


def robot_on(brain: Brain, **policy) -> Robot:
    return Robot(brain, load_persona(), seed=0, personas=load_personas(), webhooks=WebhookPolicy(**policy))


def test_your_intents_join_the_built_in_skills(shop):
    brain, result = shop
    composed = result.metrics["composition"]
    assert composed["with_builtins"] and composed["user_intents"] == ["order_pizza", "joke"]
    assert "time" in composed["builtin_intents"] and composed["replaced_builtin_intents"] == ["joke"]
    robot, session = robot_on(brain), Session()
    assert (robot.respond("what time is it", session).intent, robot.respond("hi", session).intent) == ("time", "greet")
    joke = robot.respond("tell me a joke", session)
    assert joke.intent == "joke" and "cheesy" in joke.text  # the user's joke intent replaced the built-in one
    card = (result.folder / "README.md").read_text()
    assert "2 intents of your own and" in card and "replace the built-in joke" in card
    assert "order a pizza" not in {e.lower() for e in brain.data.oos_examples}  # a built-in negative left out
    assert "intents: {}" not in (result.folder / "user_intents.yaml").read_text()


def test_a_composed_training_starts_from_the_built_in_skills_heads(shop, tmp_path, encoder):
    """The shipped built-in model keeps its fold heads; a composed training keeps each built-in example in its fold
    there (fold f's head starts from the built-in one that never saw fold f: out-of-fold stays out of fold) and
    starts the built-ins' output rows, not the user's own (`joke` replaces the built-in one)."""
    from robot.intents.classifier import HeadConfig, IntentHead
    from robot.intents.schema import IntentData
    from robot.intents.start import Start
    from robot.intents.train import TrainConfig, init_linears, train_intents
    from robot.lifecycle import ModelRegistry
    from robot.service import builtin_start

    _, result = shop
    assert result.metrics["started_from_builtins"]
    start = builtin_start("en", encoder, TrainConfig(), ModelRegistry("intents", home=tmp_path))
    assert start is not None and len(start.folds) == 4
    data = shop[0].data
    trained = train_intents(IntentData(data.intents, data.oos_examples, language="en"), encoder, start=start)
    kept = {t: f for t, f in trained.start.fold_of.items() if t in start.fold_of}
    assert len(kept) > 500 and all(start.fold_of[t] == f for t, f in kept.items())
    labels = trained.classifier.labels
    new = init_linears(IntentHead(HeadConfig(start.head.config.dim, len(labels))), torch.Generator().manual_seed(1))
    drawn = new.out.weight.detach().clone()
    start.initialiser(start.folds[2], labels, {i.name for i in data.intents if i.builtin} | {"oos"})(new)
    assert torch.equal(new.hidden.weight, start.folds[2].hidden.weight)
    row = {label: k for k, label in enumerate(labels)}
    assert torch.equal(new.out.weight[row["time"]], start.folds[2].out.weight[start.labels.index("time")])
    assert torch.equal(new.out.weight[row["joke"]], drawn[row["joke"]])  # the user's joke starts from its draw
    assert torch.equal(new.out.weight[row["order_pizza"]], drawn[row["order_pizza"]])
    replaced = train_intent_model([FORMATS / "pytorch-chatbot" / "intents.json"], out=tmp_path / "m", device="cpu",
                                  encoder=encoder, replace_builtins=True)
    assert not replaced.metrics["started_from_builtins"] and not (replaced.folder / "folds.safetensors").exists()
    assert Start.load(result.folder, encoder, 512) is None  # only the built-ins alone keep their folds


def test_unreadable_folds_mean_a_training_from_scratch(tmp_path, encoder, capsys):
    import shutil

    from robot.intents.start import FOLDS, Start
    from robot.paths import SHIPPED_MODELS

    folder = tmp_path / "builtins"
    shutil.copytree(SHIPPED_MODELS / "intents", folder)
    assert Start.load(folder, encoder, 512) is not None and Start.load(folder, encoder, 256) is None
    (folder / FOLDS).write_bytes((SHIPPED_MODELS / "intents" / FOLDS).read_bytes()[:100_000])  # cut short
    assert Start.load(folder, encoder, 512) is None and "unreadable" in capsys.readouterr().err
    (folder / FOLDS).unlink()
    assert Start.load(folder, encoder, 512) is None and capsys.readouterr().err == ""
    from robot.intents.train import TrainConfig
    from robot.lifecycle import ModelRegistry
    from robot.service import builtin_start

    registry = ModelRegistry("intents", home=tmp_path / "home")
    registry.state_file.parent.mkdir(parents=True)
    registry.state_file.write_text("{not json")  # `robot models` reports it; a training with --out still runs
    assert builtin_start("en", encoder, TrainConfig(), registry) is None


def test_the_reports_confusion_chart_is_of_your_intents_when_composed():
    """Composed with the built-ins, the chart shows the user's intents and what they meet; the built-ins' mistakes
    among themselves stay out of it (they are in the per-intent table)."""
    labels = ["order_pizza", "order_status", "time", "timer_left", "greet", "oos"]
    confusion = [[5, 0, 0, 0, 0, 1],   # order_pizza: one sent to oos
                 [0, 4, 0, 0, 0, 0],   # order_status: no errors
                 [0, 0, 6, 2, 0, 0],   # time <-> timer_left: built-ins among themselves
                 [0, 0, 1, 5, 0, 0],
                 [0, 0, 0, 0, 7, 0],
                 [0, 0, 0, 0, 1, 9]]
    report = {"labels": labels, "confusion": confusion}
    assert [labels[k] for k in confusion_labels(report)] == ["order_pizza", "time", "timer_left", "greet", "oos"]
    assert [labels[k] for k in confusion_labels(report, focus={"order_pizza", "order_status"})] == \
        ["order_pizza", "order_status", "oos"]


def test_replace_keeps_only_your_intents(tmp_path, encoder):
    result = train_intent_model([FORMATS / "pytorch-chatbot" / "intents.json"], out=tmp_path / "m", device="cpu",
                                encoder=encoder, replace_builtins=True)
    assert not result.metrics["composition"]["with_builtins"]
    assert {i.name for i in load_intents(result.folder / "intents.yaml").intents} == \
        {i.name for i in load_intents(FORMATS / "pytorch-chatbot" / "intents.json").intents}


MINE = """intents:
  time:
    examples: [what time is it, time please, "what's the hour", clock, "now?"]
    responses: [Time to get a watch.]
  hello_there:
    examples: [hi, hello, hey there, yo, howdy]
    responses: [Yo!]
"""


def test_validation_says_where_your_intents_meet_the_built_ins(tmp_path):
    from robot.intents.lint import composition_problems

    path = tmp_path / "mine.yaml"
    path.write_text(MINE)
    composition, encoder = compose_files([path], training=False)
    messages = [p.message for p in composition_problems(composition, encoder)]
    assert any("replaces the built-in intent 'time'" in m for m in messages)
    assert any("'hi' is also an example of the built-in intent 'greet'" in m for m in messages)


def test_a_form_asks_for_each_missing_detail_and_fills_the_template(shop):
    brain, _ = shop
    robot, session = robot_on(brain), Session()
    asked = robot.respond("i'd like to order a pizza", session)
    assert (asked.source, asked.text, asked.intent) == ("form", "What size would you like?", "order_pizza")
    other = robot.respond("what is 12 times 7", session)  # an unrelated question: answered, then the form resumes
    assert other.intent == "calculate" and "84" in other.text and other.text.endswith("What size would you like?")
    again = robot.respond("blue elephants sing quietly", session)
    assert again.source == "form" and again.text.startswith("Sorry") and "What size" in again.text
    assert robot.respond("a big one please", session).text == "Thin or thick crust?"  # synonym: large
    done = robot.respond("thin", session)
    assert (done.source, done.text) == ("webhook", "A large pizza with a thin crust, on its way.")
    assert session.form is None and Hook.turns[-1]["slots"] == {"size": "large", "crust": "thin"}
    both = robot.respond("one medium pizza with a thick crust please", Session())  # all details at once
    assert both.text == "A medium pizza with a thick crust, on its way."


@pytest.mark.parametrize("cancel", ["cancel", "never mind", "Forget it", "算了", "取消"])
def test_cancel_leaves_the_form(shop, cancel):
    brain, _ = shop
    robot, session = robot_on(brain), Session()
    robot.respond("i want a pizza", session)
    left = robot.respond(cancel, session)
    assert left.text == "Okay, I've cancelled that." and session.form is None
    assert robot.respond("large", session).source != "webhook"


def test_undo_and_retry_rewind_the_form(shop):
    from robot.web.chat_tab import Conversation

    brain, _ = shop
    robot, conversation = robot_on(brain), Conversation()
    for message in ("i want a pizza", "large"):
        conversation.begin(message)
        robot.respond(message, conversation.session)
    assert conversation.session.form.filled == {"size": "large"}
    conversation.rewind()
    assert conversation.session.form.filled == {} and conversation.session.form.asking == "size"


def test_slots_need_defined_entities(tmp_path):
    from robot.intents.schema import check

    path = tmp_path / "bad.yaml"
    path.write_text("intents:\n  book:\n    examples: [book a table, a table please, reserve, book, table]\n"
                    "    slots: {people: {entity: number, ask: 'How many?'}, day: {entity: day}}\n"
                    "    responses: ['Booked for {people}.']\n")
    errors = [p.message for p in check(load_intents(path)) if p.severity == "error"]
    assert any("entity 'number', which is not defined" in e for e in errors)
    assert any("needs the question" in e for e in errors)


def test_webhook_reply_memory_and_payload(shop, hook):
    brain, _ = shop
    Hook.answer = staticmethod(lambda turn: (200, json.dumps({"reply": f"Order {turn['memory'].get('n', 0)}",
                                                              "memory": {"n": "7"}}).encode()))
    try:
        robot, session = robot_on(brain), Session()
        first = robot.respond("i want a large thin pizza", session)
        assert (first.text, first.source, session.memory) == ("Order 0", "webhook", {"n": "7"})
        assert robot.respond("one small thick pizza", session).text == "Order 7"
        turn = Hook.turns[-1]
        assert set(turn) == {"intent", "text", "entities", "slots", "memory", "language", "session"}
        assert (turn["intent"], turn["language"], turn["session"]) == ("order_pizza", "en", session.id)
    finally:
        Hook.answer = staticmethod(lambda turn: (200, json.dumps({"slots": {"extra": ", on its way"}}).encode()))


@pytest.mark.parametrize(("answer", "logged"), [
    (lambda turn: (200, b"<html>not json</html>"), "not JSON"), (lambda turn: (500, b"{}"), "HTTP 500"),
    (lambda turn: (200, b'{"reply": 5}'), '"reply" must be a string'), (lambda turn: (200, b"[1]"), "none of"),
    (lambda turn: time.sleep(1.5) or (200, b"{}"), "no answer within 0.5 s"),
])
def test_a_failing_webhook_is_an_apology_and_a_log_line(shop, capsys, answer, logged):
    brain, _ = shop
    Hook.answer = staticmethod(answer)
    try:
        started = time.perf_counter()
        reply = robot_on(brain, timeout=0.5).respond("i want a large thin pizza", Session())
        assert reply.source == "webhook" and reply.text.startswith("Sorry, I couldn't get that done")
        assert time.perf_counter() - started < 1.4
        assert logged in capsys.readouterr().err
    finally:
        Hook.answer = staticmethod(lambda turn: (200, json.dumps({"slots": {"extra": ", on its way"}}).encode()))


def test_only_loopback_webhooks_unless_allowed():
    assert webhook.url_problem("http://127.0.0.1:9/x", WebhookPolicy()) is None
    assert webhook.url_problem("http://localhost/x", WebhookPolicy()) is None
    assert "--allow-webhook shop.lan" in webhook.url_problem("https://shop.lan/order", WebhookPolicy())
    assert webhook.url_problem("https://shop.lan/order", WebhookPolicy(allowed_hosts=("shop.lan",))) is None
    assert "not an http(s) URL" in webhook.url_problem("file:///etc/passwd")
    with pytest.raises(webhook.WebhookError, match="not loopback"):
        webhook.call("http://203.0.113.9/order", {}, WebhookPolicy())  # refused before any connection


def test_https_webhooks_work(tmp_path, monkeypatch):
    """A TLS webhook with a certificate the client trusts (here a self-signed one named in SSL_CERT_FILE)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setattr(webhook, "_client", None)  # a client made with this certificate trusted
    try:
        result, _ = webhook.call(f"https://localhost:{server.server_port}/order", {"slots": {}}, WebhookPolicy())
        assert result.slots == {"extra": ", on its way"}
    finally:
        server.shutdown()
        monkeypatch.setattr(webhook, "_client", None)


PLUGIN = '''
from robot.skills.registry import ActionResult


def order_status(ctx):
    """the state of the user's order, from the shop's system"""
    return ActionResult({"status": f"baking ({ctx.language})"})


order_status.provides = ("status",)
'''


def plugin_folder(tmp_path: Path) -> Path:
    """An installed plugin as pip leaves one: a module and its dist-info with an entry point in robot.actions."""
    (tmp_path / "shop_actions.py").write_text(PLUGIN)
    info = tmp_path / "shop_actions-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shop-actions\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[robot.actions]\norder_status = shop_actions:order_status\n")
    return tmp_path


def test_plugin_actions_are_listed_after_the_built_ins(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_folder(tmp_path)), os.environ.get("PYTHONPATH",
                                                                                                    "")])}
    listed = json.loads(subprocess.run([sys.executable, "-m", "robot.cli", "actions", "list", "--json"], env=env,
                                       capture_output=True, text=True, check=True).stdout)["actions"]
    names = [a["name"] for a in listed]
    assert names[:2] == ["time", "date"] and names[-1] == "order_status"
    assert listed[-1] == {"name": "order_status", "origin": "shop-actions", "provides": ["status"],
                          "description": "the state of the user's order, from the shop's system"}


def test_an_intent_runs_a_plugin_action(tmp_path, monkeypatch, robot):
    from dataclasses import replace

    from robot.skills.registry import actions

    monkeypatch.syspath_prepend(str(plugin_folder(tmp_path)))
    actions.cache_clear()
    try:
        data = robot.brain.data
        intents = [replace(i, action="order_status", responses=["Your order is {status}."]) if i.name == "time" else i
                   for i in data.intents]
        brain = replace(robot.brain, data=replace(data, intents=intents))
        assert robot_on(brain).respond("what time is it", Session()).text == "Your order is baking (en)."
    finally:
        actions.cache_clear()


def test_faq_answers_questions_close_to_its_own(shop):
    brain, result = shop
    assert result.metrics["faq"]["questions"] == 2 and 0.6 < result.metrics["faq"]["threshold"] < 1
    robot, session = robot_on(brain), Session()
    for message in ("what are your opening hours?", "when do you open", "what time do you open"):
        reply = robot.respond(message, session)
        assert (reply.source, reply.text) == ("faq", "We bake from 11 am to 11 pm, every day."), message
    assert robot.respond("is the cheese vegan", session).source == "faq"
    for message in ("what time is it", "tell me a joke", "i want a pizza"):
        assert robot.respond(message, Session()).source != "faq", message


def test_faq_files_in_markdown_and_csv(tmp_path):
    markdown, table = tmp_path / "faq.md", tmp_path / "faq.csv"
    markdown.write_text("# Shop\n\n## What are your opening hours?\nEvery day,\n11 to 11.\n\n"
                        "## Do you deliver?\nYes.\n")
    table.write_text("question,answer\nDo you deliver?,Yes.\nIs there parking?,Behind the shop.\n")
    assert [(f.question, f.answer) for f in load_intents(markdown).faq][1:] == \
        [("What are your opening hours?", "Every day, 11 to 11."), ("Do you deliver?", "Yes.")]
    assert [f.answer for f in load_intents(table).faq] == ["Yes.", "Behind the shop."]
    with pytest.raises(InputError, match="no questions"):
        (tmp_path / "empty.md").write_text("just text\n")
        load_intents(tmp_path / "empty.md")


def test_the_robot_describes_the_model_it_runs(shop, robot):
    brain, _ = shop
    shop_robot = robot_on(brain)
    said = shop_robot.respond("what can you do?", Session())
    assert said.intent == "capabilities" and "order a pizza" in said.text and "convert units" in said.text
    assert said.text.index("order a pizza") < said.text.index("tell the time")  # the user's own first
    assert "order a pizza" not in robot.respond("what can you do?", Session()).text
    assert brain.capabilities.examples[0] == "i'd like to order a pizza"


TEA = """language: zh
intents:
  order_tea:
    description: 点奶茶
    examples: [我要一杯奶茶, 来杯奶茶, 点一杯珍珠奶茶, 我想喝奶茶, 帮我点奶茶]
    responses: [好的，奶茶马上来。]
  ask_price:
    examples: [多少钱, 奶茶多少钱, 价格是多少, 一杯多少钱, 贵不贵]
    responses: [一杯十五元。]
"""


def test_the_chinese_fallback_suggests_what_the_model_has(tmp_path, encoder):
    """A Chinese model of the user's own intents only: its fallback suggests one of them, not 帮助 (help)."""
    path = tmp_path / "zh.yaml"
    path.write_text(TEA)
    result = train_intent_model([path], out=tmp_path / "m", device="cpu", replace_builtins=True)
    brain = Brain.load(result.folder, "zh")
    robot = robot_on(brain)
    lines = {robot.respond("火星上有生命吗", Session()).text for _ in range(12)}
    assert all("帮助" not in line and "{" not in line for line in lines)
    assert any("点奶茶" in line for line in lines) and any("我要一杯奶茶" in line for line in lines)


def test_robot_chat_rings_a_timer_between_lines(tmp_path):
    """`robot chat --json` reading stdin: a timer set in one line rings as its own JSON line when it is due."""
    env = {**os.environ, "ROBOT_DIALOGUE": "off", "ROBOT_HOME": str(tmp_path)}
    chat = subprocess.Popen([sys.executable, "-m", "robot.cli", "chat", "--json"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        chat.stdin.write("set a timer for one second\n")
        chat.stdin.flush()
        reply = json.loads(chat.stdout.readline())
        assert reply["intent"] == "set_timer" and "1 second" in reply["text"]
        started = time.perf_counter()
        rung = json.loads(chat.stdout.readline())
        assert rung == {"text": "⏰ Time's up: your timer for 1 second is done!", "source": "timer"}
        assert time.perf_counter() - started < 3
    finally:
        chat.stdin.close()
        chat.wait(30)
