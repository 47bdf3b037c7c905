"""The Models tab: the versions of each kind of model with their metrics, read afresh on every page load;
activate any of them or roll back, without a restart (for the page only: robot/web/guard.py)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from robot.brain import Robot
from robot.errors import InputError
from robot.lifecycle import SUMMARY, ModelRegistry, activate, format_value, summary
from robot.web.chat_tab import Labelled
from robot.web.guard import PageGuard
from robot.web.strings import headers, words


def version_rows(registry: ModelRegistry) -> list[list[str]]:
    return [["●" if v.active else "", v.name, *(format_value(x) for _, _, x in summary(registry.kind, v.metrics))]
            for v in registry.list()]


def versions_view(registry: ModelRegistry, language: str) -> tuple[gr.Dataframe, gr.Dropdown]:
    """The version table (headers in `language`) and the version choices, read afresh from the registry."""
    columns = headers(language, "active", "version", *(key for _, key in SUMMARY[registry.kind]))
    return gr.Dataframe(value=version_rows(registry), headers=columns), \
        gr.Dropdown(choices=[v.name for v in registry.list()], value=None)


@dataclass(frozen=True)
class ModelsTab:
    registry: ModelRegistry
    table: gr.Dataframe
    choice: gr.Dropdown
    activated: list[gr.events.Dependency]  # activation and roll back
    labelled: Labelled


def build_models_tab(robot: Robot, registry: ModelRegistry, guard: PageGuard, page: gr.State) -> ModelsTab:
    """Versions of one kind of model (intents or dialogue): list, activate, roll back."""
    kind = registry.kind
    said = words(robot.brain.language)
    suffix = "" if kind == "intents" else f"-{kind}"  # element ids: the intents' keep their plain names
    columns = headers(robot.brain.language, "active", "version", *(key for _, key in SUMMARY[kind]))
    # A plain value: the page's load event refills it with headers in the model's language (`versions_view`); a
    # callable value would be refilled by a load event of its own, with these headers, whichever came last
    table = gr.Dataframe(value=version_rows(registry), label=said[f"{kind}_versions"], interactive=False,
                         headers=columns, elem_id=f"versions{suffix}")
    with gr.Row():
        choice = gr.Dropdown(choices=[v.name for v in registry.list()], value=None, label=said["version"],
                             elem_id=f"version-choice{suffix}")
        activate_btn = gr.Button(said["activate"], elem_id=f"models-activate{suffix}")
        rollback_btn = gr.Button(said["rollback"], elem_id=f"rollback{suffix}")
        refresh_btn = gr.Button(said["refresh"], elem_id=f"models-refresh{suffix}")
    status = gr.Markdown(elem_id=f"models-status{suffix}")

    def view():
        return versions_view(registry, robot.brain.language)

    def on_activate(secret: str | None, name: str | None, request: gr.Request):
        guard.check(secret, request)
        said = words(robot.brain.language)
        try:
            activate(registry, name, robot)
        except InputError as exc:
            return said["choose_version"].format(reason=exc), *view()
        return said["is_active"].format(name=name), *view()

    def on_rollback(secret: str | None, request: gr.Request):
        guard.check(secret, request)
        try:
            name = registry.rollback()
            activate(registry, name, robot)
        except InputError as exc:
            return words(robot.brain.language)["cannot_roll_back"].format(reason=exc), *view()
        return words(robot.brain.language)["rolled_back"].format(name=name), *view()

    names = ("models_activate", "rollback") if kind == "intents" else (f"{kind}_activate", f"{kind}_rollback")
    activated = [activate_btn.click(on_activate, [page, choice], [status, table, choice], api_name=names[0],
                                    api_visibility=guard.access.changes),
                 rollback_btn.click(on_rollback, page, [status, table, choice], api_name=names[1],
                                    api_visibility=guard.access.changes)]
    refresh_btn.click(view, None, [table, choice], api_visibility="private")
    labelled = [(table, {"label": f"{kind}_versions"}), (choice, {"label": "version"}),
                (activate_btn, {"value": "activate"}), (rollback_btn, {"value": "rollback"}),
                (refresh_btn, {"value": "refresh"})]
    return ModelsTab(registry, table, choice, activated, labelled)
