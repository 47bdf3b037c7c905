"""Voice in the Chat tab: record or upload a request, see its transcript as your message, hear the reply.

Browsers record at 44.1 or 48 kHz (Gradio hands over a WAV file), uploads come in any format: both are read
by `audio.load` (libsndfile: WAV, FLAC, OGG, MP3; no ffmpeg needed), downmixed and resampled to 16 kHz with an
anti-aliasing filter before the recogniser sees them.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from robot.errors import InputError
from robot.speech.audio import SAMPLE_RATE, AudioLimits, load, to_int16
from robot.speech.neural_voice import NEURAL_VOICES
from robot.speech.tts import DEFAULT_VOICE, Voice, synthesize, voice_for
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

def recording_bytes(limits: AudioLimits) -> int:
    """The largest upload a recording within the voice limits needs: 32-bit float stereo at 48 kHz (what
    browsers and phones record at most), plus room for the header. Intents files keep their own 2 MB cap."""
    return int(limits.max_seconds * 48000 * 2 * 4) + 64 * 1024


VOICES = [*NEURAL_VOICES, "en-us", "en-us+f2", "en-us+m3", "en-gb", "en-gb+f3"]


def build_voice_controls(voice: VoiceRobot, chatbot: gr.Chatbot, conversation: gr.State,
                         meta: gr.Markdown) -> tuple[list[gr.events.Dependency], Labelled]:
    """The microphone, the spoken reply and the voice settings; returns the events that add a turn, and the
    components whose labels follow the model's language."""
    said = words(voice.robot.brain.language)
    with gr.Row(equal_height=True):
        microphone = gr.Audio(sources=["microphone", "upload"], type="filepath", label=said["microphone"],
                              elem_id="microphone", scale=3)
        spoken = gr.Audio(label=said["spoken"], autoplay=True, interactive=False, elem_id="spoken-reply", scale=2)
    with gr.Accordion("Voice settings", open=False), gr.Row():
        speak = gr.Checkbox(True, label=said["speak"], elem_id="speak-replies")
        voice_name = gr.Dropdown(VOICES, value=voice.options.voice.name, label=said["voice"], allow_custom_value=True)
        rate = gr.Slider(100, 250, value=voice.options.voice.words_per_minute, step=5, label=said["rate"])

    def hear(recording: str | None, history: list[dict], state: Conversation | None, speak: bool, name: str,
             wpm: float):
        """Transcribe a recording, answer it like a typed message, and speak the reply."""
        state = state or Conversation()
        if recording is None:
            yield None, history, state, gr.skip(), None
            return
        try:
            transcript = voice.transcribe(load(Path(recording).read_bytes(), voice.options.limits))
        except InputError as error:
            gr.Warning(str(error))
            yield None, history, state, gr.skip(), None
            return
        if not transcript.text:
            gr.Warning("I heard speech but could not make out any words; try again a little closer.")
            yield None, history, state, gr.skip(), None
            return
        for grown, reply in converse(voice.robot, transcript.text, history, state):  # noqa: B007 - the last is kept
            yield None, grown, state, meta_line(reply), None
        audio = None
        if speak:
            try:
                chosen = voice_for(voice.robot.brain.language, Voice(name or DEFAULT_VOICE, int(wpm)))
                audio = (SAMPLE_RATE, to_int16(synthesize(reply.text, chosen)))
            except InputError as error:
                gr.Warning(str(error))
        yield None, grown, state, meta_line(reply), audio

    inputs = [microphone, chatbot, conversation, speak, voice_name, rate]
    outputs = [microphone, chatbot, conversation, meta, spoken]
    events = [microphone.upload(hear, inputs, outputs, api_name="hear"),
              microphone.stop_recording(hear, inputs, outputs, api_name="hear_recording", api_visibility="private")]
    labelled = [(microphone, {"label": "microphone"}), (spoken, {"label": "spoken"}), (speak, {"label": "speak"}),
                (voice_name, {"label": "voice"}), (rate, {"label": "rate"})]
    return events, labelled
