"""The Chat tab: messages (typed, example prompts, or spoken through `voice_controls`), replies streaming in,
one-click feedback, retry, undo, stop, and a correction ("that should have been intent X").

The page keeps a `Conversation` per browser tab: the robot's `Session`, the `Reply` behind every assistant
message (so nothing is read back out of rendered text) and the session as it was before each turn, so
that undo and retry rewind what the robot remembers too.
"""

from __future__ import annotations

import copy
import html
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gradio as gr

from robot.brain import Reply, Robot, Session
from robot.errors import InputError
from robot.feedback import FeedbackStore
from robot.intents.schema import OOS_LABELS
from robot.skills.timers import announcement, due, spoken
from robot.web.guard import PageGuard
from robot.web.strings import words

if TYPE_CHECKING:  # voice_controls builds on this module
    from robot.web.voice_controls import Speaker

OUT_OF_SCOPE_CHOICE = ("out of scope (should not be answered)", OOS_LABELS[0])
UNDO_DEPTH = 20  # turns that retry and undo can take back
CONVERSATION_TTL = 12 * 3600  # seconds an idle tab's conversation is kept (a closed tab's goes at once)
FEEDBACK = {True: "Like", False: "Dislike"}


@dataclass
class Conversation:
    session: Session = field(default_factory=Session)
    messages: list[str] = field(default_factory=list)  # the user's message of each turn
    replies: list[Reply] = field(default_factory=list)  # one per assistant message, in order
    feedback: list[str | None] = field(default_factory=list)  # "Like", "Dislike" or None, per reply
    before: list[Session | None] = field(default_factory=list)  # the session before each of the last turns

    def begin(self, message: str) -> None:
        self.before.append(copy.deepcopy(self.session))
        if len(self.before) > UNDO_DEPTH:  # older snapshots go: memory stays bounded in long chats
            self.before[-UNDO_DEPTH - 1] = None
        self.messages.append(message)
        self.replies.append(Reply("", None, 0.0, "fallback"))
        self.feedback.append(None)

    def can_rewind(self) -> bool:
        return bool(self.before) and self.before[-1] is not None

    def rewind(self) -> tuple[int, str]:
        """Forget the last turn (the robot's memory included); returns its index and the user's message."""
        turn = len(self.replies) - 1
        self.session = self.before.pop()
        self.replies.pop()
        self.feedback.pop()
        return turn, self.messages.pop()


def meta_line(reply: Reply | None) -> str:
    """What the last reply was: `intent · confidence · source`, shown under the chat, never in the message."""
    if reply is None:
        return ""
    return f"{html.escape(reply.intent or 'out of scope')} · {reply.confidence:.0%} · {reply.source}"


def keep_thumbs(conversation: Conversation | None) -> gr.Chatbot:
    """Each reply's feedback state, put back after a turn has replaced the chat's messages (the thumbs stay
    filled as the conversation grows). A separate step, so that turns return the plain history to API clients."""
    return gr.Chatbot(feedback_value=conversation.feedback if conversation else [])


def converse(robot: Robot, message: str, history: list[dict],
             conversation: Conversation) -> Iterator[tuple[list[dict], Reply]]:
    """The chat history growing with one turn: the user's message, then the reply as it streams."""
    conversation.begin(message)
    history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    for reply in robot.stream(message, conversation.session):
        conversation.replies[-1] = reply
        history[-1] = {"role": "assistant", "content": html.escape(reply.text, quote=False)}
        yield history, reply


def intent_choices(robot: Robot) -> list[tuple[str, str]]:
    return [(i.name, i.name) for i in robot.brain.data.intents] + [OUT_OF_SCOPE_CHOICE]


# A component, and which of its properties show which fixed string (robot/web/strings.py)
Labelled = list[tuple[gr.components.Component, dict[str, str]]]


@dataclass(frozen=True)
class ChatTab:
    chatbot: gr.Chatbot
    wanted: gr.Dropdown  # follows the active model's intents
    labelled: Labelled  # follows the active model's language (`wanted` too, with its intents)


def chat_words(robot: Robot) -> dict[str, str]:
    """The fixed strings in the language of the robot's brain; the persona's name, what the model can do and
    example prompts from its intents filled in."""
    language = robot.brain.language
    said = words(language)
    described = robot.brain.capabilities
    skills = said["welcome_skills"].format(**described.said(language)) if described.skills else ""
    said["welcome"] = said["welcome"].format(name=html.escape(robot.speaking(robot.brain)[0].name),
                                             skills=html.escape(skills))
    prompts = list(dict.fromkeys(p for p in (described.help, *described.examples) if p))[:4]
    return {**said, "examples": [{"text": e} for e in prompts]}


def build_chat_tab(robot: Robot, feedback: FeedbackStore, voice_controls, guard: PageGuard, page: gr.State) -> ChatTab:
    """`page` holds the page's secret: feedback and corrections are stored for the page only (robot/web/guard.py)."""
    said = chat_words(robot)
    conversation = gr.State(None, time_to_live=CONVERSATION_TTL)
    chatbot = gr.Chatbot(show_label=False, height=480, elem_id="chat", feedback_options=("Like", "Dislike"),
                         placeholder=said["welcome"], examples=said["examples"], buttons=["copy", "copy_all"])
    meta = gr.Markdown(elem_id="reply-meta", elem_classes="reply-meta")
    timers_line, ticking = gr.Markdown(elem_id="timers"), gr.Timer(1.0, active=False)  # running timers, under the chat
    with gr.Row():
        box = gr.Textbox(placeholder=said["message"], label=said["message_label"], show_label=False, scale=8,
                         elem_id="message", autofocus=True)
        send = gr.Button(said["send"], variant="primary", scale=1, elem_id="send")
        stop = gr.Button(said["stop"], scale=1, elem_id="stop", variant="stop", visible=False)  # while replying
    voice = voice_controls(chatbot, conversation, meta)
    with gr.Row():
        wanted = gr.Dropdown(choices=intent_choices(robot), value=None, label=said["wanted"], scale=3,
                             elem_id="wanted")
        correct = gr.Button(said["correct"], size="sm", elem_id="correct")
    note = gr.Markdown(elem_id="chat-note")

    def turn(message: str, history: list[dict], state: Conversation | None, speaker: Speaker):
        """A typed turn: the box emptied, the reply growing in the chat and its line under it, and what the
        `speaker` says of it as it is written (for the page's sentence player; the rest after the last step,
        with the whole of it for the Spoken reply player)."""
        if not (message or "").strip():  # nothing to send: everything stays as it is (the box too: what is typed
            yield gr.skip(), history, state, gr.skip(), gr.skip(), gr.skip()  # meanwhile is the next message)
            return
        state = state or Conversation()
        reply = None
        for grown, reply in converse(robot, message, history, state):
            yield "", grown, state, meta_line(reply), speaker.along(reply.text), gr.skip()
        if speaker.speaking:
            rest = speaker.along(reply.text, final=True)
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), rest, speaker.whole()

    def chat(message: str, history: list[dict], state: Conversation | None):
        """The API's turn: text only."""
        for step in turn(message, history, state, voice.speaker(False, "", 0)):
            yield step[:-2]

    def spoken_chat(message: str, history: list[dict], state: Conversation | None, speak: bool, name: str,
                    wpm: float):
        """The page's turn: said as it is written, when replies are spoken."""
        yield from turn(message, history, state, voice.speaker(speak, name, wpm))

    def respond(message: str, state: Conversation | None) -> tuple[dict, Conversation]:
        state = state or Conversation()
        return robot.respond(message, state.session).to_dict(), state

    def rewind(history: list[dict], state: Conversation | None) -> tuple[list[dict], Conversation, str]:
        """Drop the last turn from the chat and from the robot's memory (and its feedback); returns the
        shorter history, the conversation and that turn's message."""
        state = state or Conversation()
        if not state.can_rewind():
            return history, state, ""
        turn, message = state.rewind()
        feedback.rate(state.session.id, turn, None)
        return history[:max(i for i, m in enumerate(history) if m["role"] == "user")], state, message

    def undo(history: list[dict], state: Conversation | None):
        history, state, _ = rewind(history, state)
        return history, state, meta_line(state.replies[-1] if state.replies else None)

    def retry(history: list[dict], state: Conversation | None, speak: bool, name: str, wpm: float):
        history, state, message = rewind(history, state)
        yield from spoken_chat(message, history, state, speak, name, wpm)

    def on_like(secret: str | None, history: list[dict], state: Conversation | None, data: gr.LikeData,
                request: gr.Request) -> str:
        guard.check(secret, request)
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = sum(m["role"] == "assistant" for m in history[:index])
        if state is None or turn >= len(state.replies):
            return ""
        liked = data.liked if isinstance(data.liked, bool) else None  # "" when the thumb is clicked off
        reply = state.replies[turn]
        feedback.rate(state.session.id, turn, liked, state.messages[turn], reply.text, reply.intent, reply.confidence)
        state.feedback[turn] = FEEDBACK.get(liked)
        gr.Info(chat_words(robot)[{True: "liked", False: "disliked", None: "unrated"}[liked]], duration=4)
        return ""

    def on_correct(secret: str | None, intent: str | None, state: Conversation | None, request: gr.Request) -> str:
        guard.check(secret, request)
        said = chat_words(robot)
        if not state or not state.session.history:
            return said["correct_first"]
        if not intent:
            return said["correct_pick"]
        if intent not in {value for _, value in intent_choices(robot)}:
            return said["correct_unknown"].format(intent=html.escape(intent))
        message = state.session.history[-1][0]
        try:
            feedback.correct(message, intent)
        except InputError as exc:
            return said["correct_failed"].format(reason=exc)
        return said["correct_saved"].format(message=html.escape(message), intent=intent)

    def example_text(data: gr.SelectData) -> str:
        return data.value["text"]

    def show_timers(state: Conversation | None, speak: bool, name: str, wpm: float):
        """The running timers' countdown (the clock ticks while there are any); a timer that has run out rings:
        a chime and its words, spoken when replies are, in a notice and on the line."""
        running = state.session.timers if state else []
        language = robot.brain.language
        rung = due(running)
        lines = [announcement(t, language) for t in rung]
        said = words(language)
        lines += [said["timer_running"].format(duration=t.label, left=spoken(t.ends_at - time.time(), language))
                  for t in running]
        for line in lines[:len(rung)]:
            gr.Info(line, duration=10)
        sound = voice.ring(" ".join(lines[:len(rung)]), speak, name, wpm) if rung else gr.skip()
        return "  \n".join(lines), gr.Timer(active=bool(running)), sound

    turn_outputs = [box, chatbot, conversation, meta]
    hidden = {"show_progress": "hidden", "api_visibility": "private"}  # no timer over the reply line
    # A message sent while the last turn's steps still run is answered after them: each step of a turn (Stop shown,
    # the reply, Send back) waits for its previous run instead of dropping the new one (Gradio's "once")
    later = {"trigger_mode": "always_last"}
    replying = (gr.update(visible=False), gr.update(visible=True), "")  # Stop instead of Send; the last note goes
    idle = (gr.update(visible=True), gr.update(visible=False))  # (updates: a component made here would be drawn)

    def begin(started: gr.events.Dependency) -> gr.events.Dependency:
        """Stop shown (the last note gone) before the turn, whatever the turn takes: Send comes back after it."""
        return started.then(lambda: replying, None, [send, stop, note], queue=False, **hidden, **later)

    def show(listener) -> gr.events.Dependency:
        return listener(lambda: replying, None, [send, stop, note], queue=False, **hidden, **later)

    said_turn = [box, chatbot, conversation]
    spoken_turn, page_outputs = [*said_turn, *voice.settings], [*turn_outputs, voice.player, voice.spoken]
    typed = [show(box.submit).then(spoken_chat, spoken_turn, page_outputs, **hidden, **later),
             show(send.click).then(spoken_chat, spoken_turn, page_outputs, **hidden, **later),
             begin(chatbot.example_select(example_text, None, box, **hidden)).then(spoken_chat, spoken_turn,
                                                                                    page_outputs, **hidden, **later)]
    events = [*typed, show(chatbot.retry).then(retry, [chatbot, conversation, *voice.settings], page_outputs,
                                               **hidden, **later)]
    gr.Button(visible=False).click(chat, said_turn, turn_outputs, api_name="chat", show_progress="hidden")
    for event in events:
        event.then(lambda: idle, None, [send, stop], queue=False, **hidden, **later)
    stop.click(lambda: idle, None, [send, stop], cancels=events, queue=False, **hidden)
    events.append(chatbot.undo(undo, [chatbot, conversation], [chatbot, conversation, meta], **hidden))
    timers = [timers_line, ticking, voice.player]
    for event in [*events, *voice.events]:
        event.then(keep_thumbs, conversation, chatbot, api_visibility="private")
        event.then(show_timers, [conversation, *voice.settings], timers, **hidden)  # a timer set, or cancelled
    ticking.tick(show_timers, [conversation, *voice.settings], timers, **hidden)
    chatbot.clear(lambda: (Conversation(), "", ""), None, [conversation, meta, note], api_visibility="private")
    chatbot.like(on_like, [page, chatbot, conversation], note, **hidden)
    correct.click(on_correct, [page, wanted, conversation], note, api_name="correct",
                  api_visibility=guard.access.changes)
    hidden_in = gr.Textbox(visible=False)
    hidden_out = gr.JSON(visible=False)
    hidden_in.submit(respond, [hidden_in, conversation], [hidden_out, conversation], api_name="respond", queue=False)
    labelled = [(chatbot, {"placeholder": "welcome", "examples": "examples"}),
                (box, {"placeholder": "message", "label": "message_label"}),
                (send, {"value": "send"}), (stop, {"value": "stop"}), (correct, {"value": "correct"}), *voice.labelled]
    return ChatTab(chatbot, wanted, labelled)
