"""One turn of conversation through the shipped default model: sources, slots, contexts, odd input."""

from __future__ import annotations

import pytest

from robot.brain import Robot, Session, clean_message, fill_in


def test_template_action_and_fallback_sources(robot):
    session = Session()
    hello = robot.respond("hello there!", session)
    assert (hello.intent, hello.source) == ("greet", "template") and hello.text
    sum_ = robot.respond("what is 17 times 23", session)
    assert (sum_.intent, sum_.source) == ("calculate", "action") and "391" in sum_.text
    other = robot.respond("what music do you like?", session)
    assert (other.intent, other.source) == (None, "dialogue") and other.text.strip()  # the shipped dialogue model


def test_without_a_dialogue_model_the_persona_answers(robot):
    """With the persona's lines, whose suggestions come from the model in use."""
    plain = Robot(robot.brain, robot.persona, seed=0)
    said = robot.brain.capabilities.said("en")
    lines = {fill_in(line, said) for line in robot.persona.fallback}
    replies = {plain.respond("what music do you like?", Session()).text for _ in range(12)}
    assert replies <= lines and len(replies) > 1 and not any("{" in r for r in replies)
    assert any("tell the time" in r and "convert units" in r for r in lines)


def test_while_the_chat_model_warms_up_the_persona_lines_name_the_models_skills(robot):
    """The warming-up lines are the persona's lines with their suggestions filled in, then that the chat model is
    on its way; if it never comes, the plain lines stay."""
    from robot.warmup import dialogue_job

    plain = Robot(robot.brain, robot.persona, seed=0)
    said = robot.brain.capabilities.said("en")
    lines = {f"{fill_in(line, said)} {robot.persona.warming}" for line in robot.persona.fallback}
    job = dialogue_job(plain, lambda: None)
    replies = {plain.respond("what music do you like?", Session()).text for _ in range(12)}
    assert replies <= lines and len(replies) > 1 and not any("{" in r for r in replies)
    job.run()
    reply = plain.respond("what music do you like?", Session())
    assert "warming" not in reply.text and "{" not in reply.text and reply.source == "fallback"


def test_name_is_remembered_per_session(robot):
    alice, bob = Session(), Session()
    reply = robot.respond("my name is Alice", alice)
    assert reply.entities == {"name": "Alice"} and "Alice" in reply.text
    assert "Alice" in robot.respond("what's my name?", alice).text
    assert "Alice" not in robot.respond("what's my name?", bob).text


def test_contexts_gate_follow_up_intents(robot):
    session = Session()
    assert robot.respond("one more please", session).intent != "another_joke"
    assert robot.respond("tell me a joke", session).intent == "joke"
    follow = robot.respond("one more please", session)
    assert follow.intent == "another_joke" and follow.source == "template"
    for _ in range(6):  # the context lapses after a few turns
        robot.respond("hello", session)
    assert robot.respond("one more please", session).intent != "another_joke"


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\x1b[31m", "x" * 10_000, "hi " * 4000,
                                  "🤖 ¿qué tal? 你好 مرحبا", "\u200b\u200f", "{user_name} {0} {__class__}"],
                         ids=["empty", "spaces", "controls", "10k-chars", "12k-words", "unicode", "invisible",
                              "braces"])
def test_odd_messages_get_a_sensible_reply(robot, text):
    reply = robot.respond(text, Session())
    assert reply.text.strip() and reply.source in ("template", "action", "fallback", "dialogue")
    assert "{" not in reply.text or "{" in text


def test_clean_message_strips_controls_and_keeps_unicode():
    assert clean_message("  hi\x00 there\u200b ") == "hi there"
    assert clean_message("caf\u0065\u0301") == "café"


def test_streaming_yields_the_final_reply_last(robot):
    replies = list(robot.stream("good morning", Session()))
    assert replies and replies[-1].text and replies[-1].intent == "greet"


def test_memory_is_bounded_per_session(robot):
    """A long chat keeps its last 50 turns, and a huge message is kept (and read) as its first 1,000 characters."""
    from robot.brain import MAX_HISTORY_TURNS, MAX_MESSAGE_CHARS

    plain = Robot(robot.brain, robot.persona, seed=0)  # persona fallback: fast turns
    session = Session()
    for k in range(MAX_HISTORY_TURNS + 10):
        plain.respond(f"hello number {k}", session)
    assert len(session.history) == MAX_HISTORY_TURNS and session.history[-1][0] == f"hello number {k}"
    plain.respond("blah " * 100_000, session)
    assert len(session.history[-1][0]) == MAX_MESSAGE_CHARS
