"""The web app: Chat (with feedback), Train and Models tabs.

Everything is served locally: no analytics, no web fonts, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from robot.brain import Reply, Robot, Session  # noqa: E402
from robot.feedback import FeedbackStore  # noqa: E402
from robot.paths import robot_home  # noqa: E402
from robot.registry import ModelRegistry  # noqa: E402
from robot.speech.voice import VoiceOptions, VoiceRobot  # noqa: E402
from robot.web.train_tab import MAX_UPLOAD_BYTES, build_models_tab, build_train_tab  # noqa: E402
from robot.web.voice_controls import RAW_MICROPHONE, build_voice_controls  # noqa: E402

CSS = """
.reply-meta { font-size: 0.75em; opacity: 0.6; display: block; margin-top: 0.3em; }
footer { display: none !important; }
"""
_META = re.compile(r'<span class="reply-meta">(.*?) · (\d+)% · (\w+)</span>')


def meta_line(reply: Reply) -> str:
    what = reply.intent or "out of scope"
    return f'<span class="reply-meta">{html.escape(what)} · {reply.confidence:.0%} · {reply.source}</span>'


def theme() -> gr.themes.Base:
    system = [gr.themes.Font("system-ui"), gr.themes.Font("sans-serif")]
    return gr.themes.Soft(font=system, font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")])


def _text(content) -> str:
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def converse(robot: Robot, message: str, history: list[dict], session: Session) -> Iterator[tuple[list[dict], Reply]]:
    """The chat history growing with one turn: the user's message, then the reply as it streams, then the
    reply with its discreet intent · confidence · source line."""
    history = [*history, {"role": "user", "content": message},
               {"role": "assistant", "content": ""}]
    reply = None
    for reply in robot.stream(message, session):
        history[-1] = {"role": "assistant", "content": html.escape(reply.text, quote=False)}
        yield history, reply
    history[-1] = {"role": "assistant", "content": f"{html.escape(reply.text, quote=False)}\n{meta_line(reply)}"}
    yield history, reply


def build_chat_tab(robot: Robot, feedback: FeedbackStore, voice: VoiceRobot) -> None:
    session = gr.State(None)
    chatbot = gr.Chatbot(show_label=False, height=480, elem_id="chat", feedback_options=("Like", "Dislike"))
    with gr.Row():
        box = gr.Textbox(placeholder="Type a message and press Enter", show_label=False, scale=8,
                         elem_id="message", autofocus=True)
        send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
    build_voice_controls(voice, chatbot, session, converse)
    with gr.Row():
        clear = gr.Button("New conversation", size="sm")
        wanted = gr.Dropdown(choices=[i.name for i in robot.brain.data.intents], label="That should have been intent",
                             scale=3, elem_id="wanted")
        correct = gr.Button("Save correction", size="sm", elem_id="correct")
    note = gr.Markdown()

    def chat(message: str, history: list[dict], state: Session | None):
        state = state or Session()
        for grown, _ in converse(robot, message, history, state):
            yield "", grown, state

    def respond(message: str, state: Session | None) -> tuple[dict, Session]:
        state = state or Session()
        return robot.respond(message, state).to_dict(), state

    def on_like(history: list[dict], data: gr.LikeData) -> str:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        content = _text(history[index]["content"])
        meta = _META.search(content)
        message = _text(history[index - 1]["content"]) if index > 0 else ""
        reply = _META.sub("", content).strip()
        intent = meta.group(1) if meta and meta.group(1) != "out of scope" else None
        feedback.vote(message, reply, intent, int(meta.group(2)) / 100 if meta else 0.0, bool(data.liked))
        return "Thanks for the feedback."

    def on_correct(intent: str | None, state: Session | None) -> str:
        if not intent or not state or not state.history:
            return "Chat first, then pick the intent your last message should have had."
        feedback.correct(state.history[-1][0], intent)
        return f"Saved: “{html.escape(state.history[-1][0])}” → **{intent}**. It is offered in the Train tab."

    box.submit(chat, [box, chatbot, session], [box, chatbot, session], api_name="chat")
    send.click(chat, [box, chatbot, session], [box, chatbot, session], api_visibility="private")
    clear.click(lambda: ([], None), None, [chatbot, session], api_visibility="private")
    chatbot.like(on_like, chatbot, note, api_visibility="private")
    correct.click(on_correct, [wanted, session], note, api_name="correct")
    hidden_in = gr.Textbox(visible=False)
    hidden_out = gr.JSON(visible=False)
    hidden_in.submit(respond, [hidden_in, session], [hidden_out, session], api_name="respond")


def build_app(robot: Robot, registry: ModelRegistry | None = None, feedback: FeedbackStore | None = None,
              voice: VoiceRobot | None = None) -> gr.Blocks:
    registry = registry or ModelRegistry("intents")
    feedback = feedback or FeedbackStore(robot_home() / "feedback.sqlite")
    with gr.Blocks(title=f"{robot.persona.name} · robot") as app:
        gr.Markdown(f"## {robot.persona.name}\nA robot that runs entirely on this computer. Ask it what it can do.")
        with gr.Tab("Chat"):
            build_chat_tab(robot, feedback, voice or VoiceRobot(robot))
        with gr.Tab("Train"):
            build_train_tab(robot, registry, feedback)
        with gr.Tab("Models"):
            build_models_tab(robot, registry)
    return app


def launch(robot: Robot, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
           registry: ModelRegistry | None = None, voice: VoiceRobot | None = None) -> gr.Blocks:
    app = build_app(robot, registry, voice=voice)
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=host, server_port=port, theme=theme(), css=CSS, prevent_thread_lock=not block,
               show_error=True, quiet=not block, max_file_size=MAX_UPLOAD_BYTES, head=RAW_MICROPHONE)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, voice: VoiceOptions = VoiceOptions()) -> None:
    from robot.service import load_robot

    robot = load_robot()
    print(f"{robot.persona.name} is listening on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    launch(robot, host, port, block=True, voice=VoiceRobot(robot, voice))
