"""The web app: a Gradio chat that shows, discreetly, where each reply came from.

Everything is served locally: no analytics, no web fonts, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from robot.brain import Reply, Robot, Session  # noqa: E402

CSS = """
.reply-meta { font-size: 0.75em; opacity: 0.6; display: block; margin-top: 0.3em; }
footer { display: none !important; }
"""


def meta_line(reply: Reply) -> str:
    what = reply.intent or "out of scope"
    return f'<span class="reply-meta">{html.escape(what)} · {reply.confidence:.0%} · {reply.source}</span>'


def theme() -> gr.themes.Base:
    system = [gr.themes.Font("system-ui"), gr.themes.Font("sans-serif")]
    return gr.themes.Soft(font=system, font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")])


def build_app(robot: Robot) -> gr.Blocks:
    def chat(message: str, history: list[dict], session: Session | None):
        session = session or Session()
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        reply = None
        for reply in robot.stream(message, session):
            history[-1] = {"role": "assistant", "content": html.escape(reply.text, quote=False)}
            yield "", history, session
        history[-1] = {"role": "assistant", "content": f"{html.escape(reply.text, quote=False)}\n{meta_line(reply)}"}
        yield "", history, session

    def respond(message: str, session: Session | None) -> tuple[dict, Session]:
        session = session or Session()
        return robot.respond(message, session).to_dict(), session

    with gr.Blocks(title=f"{robot.persona.name} · robot") as app:
        session = gr.State(None)
        gr.Markdown(f"## {robot.persona.name}\nA robot that runs entirely on this computer. Ask it what it can do.")
        chatbot = gr.Chatbot(show_label=False, height=520, elem_id="chat")
        with gr.Row():
            box = gr.Textbox(placeholder="Type a message and press Enter", show_label=False, scale=8,
                             elem_id="message", autofocus=True)
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
        clear = gr.Button("New conversation", size="sm")
        box.submit(chat, [box, chatbot, session], [box, chatbot, session], api_name="chat")
        send.click(chat, [box, chatbot, session], [box, chatbot, session], api_visibility="private")
        clear.click(lambda: ([], None), None, [chatbot, session], api_visibility="private")
        hidden_in = gr.Textbox(visible=False)
        hidden_out = gr.JSON(visible=False)
        hidden_in.submit(respond, [hidden_in, session], [hidden_out, session], api_name="respond")
    return app


def launch(robot: Robot, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    app = build_app(robot)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, theme=theme(), css=CSS, prevent_thread_lock=not block,
               show_error=True, quiet=not block)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    from robot.service import load_robot

    robot = load_robot()
    print(f"{robot.persona.name} is listening on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    launch(robot, host, port, block=True)
