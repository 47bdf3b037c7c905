"""Voice in the Chat tab: record or upload a request, see its transcript as your message, hear the reply.

The microphone streams: its audio reaches the server a quarter of a second at a time while the user speaks,
and is transcribed at each pause in the background (`StreamedRecording`), so that the transcript is usually
ready when Stop is clicked. Browsers record at 44.1 or 48 kHz; the pieces are resampled to 16 kHz as one
continuous stream with an anti-aliasing filter. Uploads come in any format and are read by `audio.load`
(libsndfile: WAV, FLAC, OGG, MP3; no ffmpeg needed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import gradio as gr
import numpy as np

from robot.errors import InputError
from robot.skills.timers import chime
from robot.speech.audio import SAMPLE_RATE, load, to_int16
from robot.speech.neural_voice import NEURAL_VOICES
from robot.speech.recognizers import Transcript
from robot.speech.tts import DEFAULT_VOICE, Voice, synthesize, voice_for
from robot.voice.recording import StreamedRecording
from robot.voice.voice_robot import VoiceRobot
from robot.web.chat_tab import Conversation, Labelled, converse, meta_line
from robot.web.strings import words

# Chrome's call-oriented processing (echo cancellation, noise suppression, automatic gain) smears and can
# clip speech meant for a recogniser; the robot never talks while it listens, so ask for the raw signal.
RAW_MICROPHONE = """<script>
(() => {
  const media = navigator.mediaDevices;
  if (!media || !media.getUserMedia) return;
  const original = media.getUserMedia.bind(media);
  media.getUserMedia = (constraints) => {
    if (constraints && constraints.audio) {
      const audio = constraints.audio === true ? {} : constraints.audio;
      constraints = {...constraints, audio: {...audio, echoCancellation: false, noiseSuppression: false,
                                             autoGainControl: false}};
    }
    return original(constraints);
  };
})();
</script>"""

STREAM_EVERY = 0.25  # seconds of microphone per piece sent while recording

VOICES = [*NEURAL_VOICES, "en-us", "en-us+f2", "en-us+m3", "en-gb", "en-gb+f3"]


@dataclass(frozen=True)
class VoiceControls:
    events: list[gr.events.Dependency]  # the events that add a turn (a recording, an upload)
    labelled: Labelled  # the components whose words follow the model's language
    speak_last: Callable[[gr.events.Dependency], None]  # after a typed turn: say its reply, if replies are spoken
    spoken: gr.Audio  # the player that speaks replies (and rings timers)
    settings: list[gr.components.Component]  # speak replies?, the voice, its speed
    ring: Callable[[str, bool, str, float], tuple[int, np.ndarray]]  # a timer's chime, and its words if spoken


def build_voice_controls(voice: VoiceRobot, chatbot: gr.Chatbot, conversation: gr.State,
                         meta: gr.Markdown) -> VoiceControls:
    """The microphone, an upload, the spoken reply and the voice settings."""
    said = words(voice.robot.brain.language)
    guesses = ThreadPoolExecutor(1, thread_name_prefix="heard-early")  # the recogniser decodes one at a time
    with gr.Row(equal_height=True):
        microphone = gr.Audio(sources=["microphone"], streaming=True, label=said["microphone"], elem_id="microphone",
                              scale=2)
        upload = gr.Audio(sources=["upload"], type="filepath", label=said["upload"], elem_id="voice-upload", scale=2)
        spoken = gr.Audio(label=said["spoken"], autoplay=True, interactive=False, elem_id="spoken-reply", scale=2)
    with gr.Accordion(said["voice_settings"], open=False) as settings_box, gr.Row():
        speak = gr.Checkbox(True, label=said["speak"], elem_id="speak-replies")
        voice_name = gr.Dropdown(VOICES, value=voice.options.voice.name, label=said["voice"], allow_custom_value=True)
        rate = gr.Slider(100, 250, value=voice.options.voice.words_per_minute, step=5, label=said["rate"])
    recording = gr.State(None)  # the StreamedRecording of the microphone, from its first piece to Stop

    def answer(transcript: Transcript, history: list[dict], state: Conversation, speak: bool, name: str,
               wpm: float, heard: str = ""):
        """Answer a transcript like a typed message and speak the reply; `heard` says how it was heard."""
        if not transcript.text:
            gr.Warning("I heard speech but could not make out any words; try again a little closer.")
            yield None, history, state, gr.skip(), None
            return
        for grown, reply in converse(voice.robot, transcript.text, history, state):  # noqa: B007 - the last is kept
            yield None, grown, state, meta_line(reply) + heard, None
        yield None, grown, state, meta_line(reply) + heard, spoken_reply(reply.text, speak, name, wpm)

    def spoken_reply(text: str, speak: bool, name: str, wpm: float) -> tuple[int, np.ndarray] | None:
        """A reply as audio for the page's player, when replies are spoken."""
        if not speak or not text:
            return None
        try:
            chosen = voice_for(voice.robot.brain.language, Voice(name or DEFAULT_VOICE, int(wpm)))
            return SAMPLE_RATE, to_int16(synthesize(text, chosen, voice.robot.brain.language))
        except InputError as error:
            gr.Warning(str(error))
            return None

    def say_last(state: Conversation | None, speak: bool, name: str, wpm: float):
        """The last reply of a typed turn, spoken (nothing when the turn was not answered)."""
        return spoken_reply(state.replies[-1].text if state and state.replies else "", speak, name, wpm)

    def hear(path: str | None, history: list[dict], state: Conversation | None, speak: bool, name: str,
             wpm: float):
        """An uploaded recording, transcribed whole."""
        state = state or Conversation()
        try:
            transcript = None if path is None else voice.transcribe(load(path, voice.options.limits))
        except InputError as error:
            gr.Warning(str(error))
            transcript = None
        if transcript is None:
            yield None, history, state, gr.skip(), None
            return
        yield from answer(transcript, history, state, speak, name, wpm)

    def listen(piece: tuple[int, np.ndarray] | None, streamed: StreamedRecording | None) -> StreamedRecording:
        """A quarter of a second of the microphone, on its way to the endpointer and the recogniser."""
        streamed = streamed or StreamedRecording(voice, guesses)
        if piece is not None and not streamed.cut:
            try:
                streamed.add(*piece)
            except InputError as error:
                gr.Warning(str(error))
            if streamed.cut:
                gr.Warning(f"Recordings stop at {voice.options.limits.max_seconds:g} s; what came after is not heard.")
        return streamed

    def stopped(streamed: StreamedRecording | None, history: list[dict], state: Conversation | None, speak: bool,
                name: str, wpm: float):
        """Stop clicked: the transcript, made while the user spoke where possible, answered."""
        state = state or Conversation()
        if streamed is None:
            yield None, None, history, state, gr.skip(), None
            return
        began = time.perf_counter()
        try:
            transcript, early = streamed.finish()
        except InputError as error:
            gr.Warning(str(error))
            yield None, None, history, state, gr.skip(), None
            return
        waited = time.perf_counter() - began
        heard = words(voice.robot.brain.language)["heard_early" if early else "heard_late"].format(seconds=waited)
        for step in answer(transcript, history, state, speak, name, wpm, f" · {heard}"):
            yield None, *step

    settings = [speak, voice_name, rate]
    outputs = [chatbot, conversation, meta, spoken]
    # one piece at a time, in order, for every tab together: a piece takes about a millisecond
    microphone.stream(listen, [microphone, recording], recording, stream_every=STREAM_EVERY, concurrency_limit=1,
                      time_limit=int(voice.options.limits.max_seconds) + 5, show_progress="hidden",
                      api_visibility="private")
    events = [upload.upload(hear, [upload, chatbot, conversation, *settings], [upload, *outputs], api_name="hear",
                            show_progress_on=[upload]),  # the reply line shows how the reply was made, no timer
              microphone.stop_recording(stopped, [recording, chatbot, conversation, *settings],
                                        [recording, microphone, *outputs], api_visibility="private",
                                        show_progress_on=[microphone])]
    labelled = [(microphone, {"label": "microphone"}), (upload, {"label": "upload"}), (spoken, {"label": "spoken"}),
                (speak, {"label": "speak"}), (voice_name, {"label": "voice"}), (rate, {"label": "rate"}),
                (settings_box, {"label": "voice_settings"})]

    def speak_last(event: gr.events.Dependency) -> None:
        event.then(say_last, [conversation, *settings], spoken, show_progress="hidden", api_visibility="private")

    def ring(text: str, speak: bool, name: str, wpm: float) -> tuple[int, np.ndarray]:
        words_spoken = spoken_reply(text, speak, name, wpm)
        sound = chime(SAMPLE_RATE)
        return SAMPLE_RATE, np.concatenate([to_int16(sound), words_spoken[1]]) if words_spoken else to_int16(sound)

    return VoiceControls(events, labelled, speak_last, spoken, settings, ring)
