"""The web app: Chat (with feedback), Train and Models tabs.

Everything is served locally: no analytics, no web fonts, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import gc
import inspect
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from robot.brain import Robot  # noqa: E402
from robot.feedback import FeedbackStore  # noqa: E402
from robot.intents.bundle import editable_intents  # noqa: E402
from robot.lifecycle import ModelRegistry, follow  # noqa: E402
from robot.paths import robot_home  # noqa: E402
from robot.skills.webhook import WebhookPolicy  # noqa: E402
from robot.voice.voice_robot import VoiceOptions, VoiceRobot  # noqa: E402
from robot.warmup import Warmup  # noqa: E402
from robot.web.access import HOST, PORT, Access, check_exposure  # noqa: E402
from robot.web.api import add_api  # noqa: E402
from robot.web.chat_tab import build_chat_tab, chat_words, intent_choices  # noqa: E402
from robot.web.guard import PAGE_TTL, PageGuard  # noqa: E402
from robot.web.locale import serve_in_language  # noqa: E402
from robot.web.models_tab import build_models_tab, versions_view  # noqa: E402
from robot.web.strings import headers, words  # noqa: E402
from robot.web.train_tab import MAX_UPLOAD_BYTES, build_train_tab  # noqa: E402
from robot.web.voice_controls import RAW_MICROPHONE, build_voice_controls  # noqa: E402

UPLOAD_CACHE = (3600, 3600)  # Gradio's copies of uploads and recordings: checked hourly, gone after an hour
CSS = """
.reply-meta { font-size: 0.8em; opacity: 0.7; }
footer { display: none !important; }
#chat .bubble-wrap { padding-top: 2.4rem; }  /* the chat's trash and copy buttons never cover the first message */
#confusion img, #histogram img { object-fit: contain; }
"""
# Gradio labels the chat's trash and the microphone's discard button both "Clear": say which is which
DISTINCT_LABELS = """<script>
(() => {
  const names = [["#chat", "Clear conversation"], ["#microphone", "Discard recording"],
                 ["#voice-upload", "Remove the recording"]];
  const rename = () => names.forEach(([where, name]) => document.querySelectorAll(
    `${where} button[aria-label="Clear"]`).forEach((button) => { button.setAttribute("aria-label", name);
                                                                  button.setAttribute("title", name); }));
  new MutationObserver(rename).observe(document.documentElement, {subtree: true, childList: true});
  // Gradio's client closes its fetch-based event streams with a stub that warns "Method not implemented." on
  // every close (gradio/client, Gradio 6.31): harmless, and noise in the console of a clean page. Only that
  // exact warning is dropped.
  const warn = console.warn.bind(console);
  console.warn = (...args) => { if (!(args.length === 1 && args[0] === "Method not implemented.")) warn(...args); };
})();
</script>"""


def theme() -> gr.themes.Base:
    system = [gr.themes.Font("system-ui"), gr.themes.Font("sans-serif")]
    return gr.themes.Soft(font=system, font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")])


def heading(robot: Robot) -> str:
    return f"## {robot.persona.name}\n{words(robot.brain.language)['intro']}"


def warming_view(robot: Robot, warmup: Warmup | None) -> tuple[gr.Markdown, gr.Timer]:
    """The line that says what is still being prepared in the background, and the timer that refreshes it
    (stopped, with the line hidden, once everything is ready)."""
    status = warmup.status() if warmup is not None else None
    if status is None:
        return gr.Markdown(visible=False), gr.Timer(active=False)
    said = words(robot.brain.language)
    kind, seconds = status
    return gr.Markdown(said["warming"].format(what=said[f"warming_{kind}"], seconds=seconds), visible=True), \
        gr.Timer(active=True)


def build_app(robot: Robot, registry: ModelRegistry | None = None, feedback: FeedbackStore | None = None,
              voice: VoiceRobot | None = None, access: Access = Access(), warmup: Warmup | None = None) -> gr.Blocks:
    registry = registry or ModelRegistry("intents")
    feedback = feedback or FeedbackStore(robot_home() / "feedback.sqlite")
    voice = voice or VoiceRobot(robot)
    guard = PageGuard(access)
    with gr.Blocks(title=f"{robot.persona.name} · robot", delete_cache=UPLOAD_CACHE) as app:
        page = gr.State(None, time_to_live=PAGE_TTL)  # the page's secret (robot/web/guard.py)
        app.load(guard.issue, None, page, api_visibility="private")
        intro = gr.Markdown(heading(robot))
        warming, ticks = gr.Markdown(visible=False, elem_id="warming"), gr.Timer(1.0, active=False)
        app.load(lambda: warming_view(robot, warmup), None, [warming, ticks], api_visibility="private")
        ticks.tick(lambda: warming_view(robot, warmup), None, [warming, ticks], api_visibility="private")
        said = words(robot.brain.language)
        with gr.Tab(said["chat_tab"]) as chat_tab:
            chat = build_chat_tab(robot, feedback, lambda *parts: build_voice_controls(voice, *parts), guard, page)
        with gr.Tab(said["train_tab"]) as train_tab:
            train = build_train_tab(robot, registry, feedback, guard, page)
        with gr.Tab(said["models_tab"]) as models_tab:
            models = build_models_tab(robot, registry, guard, page)
            dialogue_models = build_models_tab(robot, ModelRegistry("dialogue", home=registry.home), guard, page)
        tabs = [(chat_tab, {"label": "chat_tab"}), (train_tab, {"label": "train_tab"}),
                (models_tab, {"label": "models_tab"})]
        labelled = [*tabs, *chat.labelled, *train.labelled, *models.labelled, *dialogue_models.labelled]

        def follow_active_model():
            """What shows the model in use, read afresh: on every page load and after every activation (its
            intents, what it can do, its versions, and every fixed word in its language)."""
            said = chat_words(robot)
            relabelled = [gr.update(**{prop: said[key] for prop, key in props.items()}) for _, props in labelled]
            reheaded = [gr.Dataframe(value={"headers": headers(robot.brain.language, *keys), "data": []},
                                     headers=headers(robot.brain.language, *keys)) for _, keys in train.headed]
            return (gr.Dropdown(choices=intent_choices(robot), value=None, label=said["wanted"]),
                    editable_intents(robot.brain.folder, robot.brain.data),
                    *versions_view(models.registry, robot.brain.language),
                    *versions_view(dialogue_models.registry, robot.brain.language), heading(robot), *relabelled,
                    *reheaded)

        following = [chat.wanted, train.editor, models.table, models.choice, dialogue_models.table,
                     dialogue_models.choice, intro, *(component for component, _ in labelled),
                     *(table for table, _ in train.headed)]
        app.load(follow_active_model, None, following, api_visibility="private")
        for event in [train.activated, *models.activated, *dialogue_models.activated]:
            event.then(follow_active_model, None, following, api_visibility="private")
        train.trained.then(lambda: versions_view(registry, robot.brain.language), None,
                           [models.table, models.choice], api_visibility="private")
    return app


def launch(robot: Robot, host: str = HOST, port: int = PORT, block: bool = True,
           registry: ModelRegistry | None = None, voice: VoiceRobot | None = None,
           feedback: FeedbackStore | None = None, access: Access = Access(), warmup: Warmup | None = None) -> gr.Blocks:
    """Serve the app; on an address other than loopback only with accounts (robot/web/access.py). A `warmup`
    not yet started starts once the server listens."""
    check_exposure(host, access)
    voice = voice or VoiceRobot(robot)
    app = build_app(robot, registry, feedback, voice, access, warmup)
    app.queue(default_concurrency_limit=8)
    remember_signatures(app)
    if block:  # a serving process: ready before its first request
        import matplotlib.pyplot  # noqa: F401 - Gradio asks matplotlib for its backend around every call, which
        # imports pyplot at the first: 0.25 s on the event loop, every request waiting. Now, frozen with the rest.
        settle_heap()
    app.launch(server_name=host, server_port=port, theme=theme(), css=CSS, prevent_thread_lock=True,
               auth=list(access.accounts) or None, show_error=False, quiet=not block,
               head=RAW_MICROPHONE + DISTINCT_LABELS,
               max_file_size=max(MAX_UPLOAD_BYTES, voice.options.limits.max_file_bytes))
    add_api(app.app, robot, access)  # the app exists once launched; then the caller's thread may wait on it
    serve_in_language(app, lambda: robot.brain.language)  # Gradio's own words too
    if warmup is not None:
        warmup.start()
    if block:
        print(f"{robot.persona.name} is listening on http://{host}:{port} (Ctrl-C to stop)", flush=True)
        app.block_thread()
    return app


def remember_signatures(app: gr.Blocks) -> None:
    """Gradio builds the configuration of every component on the page for each new session
    (`gradio/state_holder.py`) on the server's event loop, asking `inspect` for the signature of each component
    class's `__init__` every time: more than half of what a new session cost (3.7 -> 1.6 ms for this page,
    benchmarks/sessions.py), and 100 clients arriving at once wait for each other's. A function's signature does
    not change: each is computed once here and kept where `inspect` looks first (`__signature__`, PEP 362)."""
    for init in {type(block).__init__ for block in app.blocks.values()}:
        init.__signature__ = inspect.signature(init)


def settle_heap() -> None:
    """Leave what start-up made (libraries, models, the page: some 400,000 objects) out of Python's cyclic
    garbage collector from now on. Each full collection walked all of it, holding every request thread meanwhile:
    0.2-0.5 s, twice in a 100-client round (benchmarks/RESULTS.md). It now walks what came after."""
    gc.collect()
    gc.freeze()


def serve(host: str = HOST, port: int = PORT, voice: VoiceOptions = VoiceOptions(),
          access: Access = Access(), language: str | None = None, webhooks: WebhookPolicy = WebhookPolicy()) -> None:
    from robot.intents.encoder import export_later
    from robot.service import load_robot, warmup_jobs

    check_exposure(host, access)  # before any loading
    export_later()  # a first start answers before the encoder's ONNX export is made (in the background)
    robot = load_robot(language=language, dialogue=False, webhooks=webhooks)  # the dialogue model: in the background
    listening = voice.backend in (None, "whisper")
    warmup = Warmup(warmup_jobs(robot, voice.whisper.model if listening else None,
                                voice=voice.voice if voice.speak else None))
    follow([ModelRegistry("intents"), ModelRegistry("dialogue")], robot)  # activations by other processes
    launch(robot, host, port, block=True, voice=VoiceRobot(robot, voice), access=access, warmup=warmup)
