"""Voice in the Chat tab: record or upload a request, see its transcript as your message, hear the reply.

Replies are spoken as they are written: a turn's steps carry, beside the growing text, each sentence synthesised
once it is complete (`Speaker`), to a small player in the page (`SENTENCE_PLAYER`) that plays a turn's sentences
one after another; the rest of the reply goes with the turn's last step. A whole reply is also kept in the
"Spoken reply" player, to be heard again. The API's `/chat` and `/hear` are the same turns without the player.

The microphone streams: its audio reaches the server a quarter of a second at a time while the user speaks,
and is transcribed at each pause in the background (`StreamedRecording`), so that the transcript is usually
ready when Stop is clicked. Browsers record at 44.1 or 48 kHz; the pieces are resampled to 16 kHz as one
continuous stream with an anti-aliasing filter. Uploads come in any format and are read by `audio.load`
(libsndfile: WAV, FLAC, OGG, MP3; no ffmpeg needed).
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import gradio as gr
import numpy as np

from robot.errors import InputError
from robot.skills.timers import chime
from robot.speech.audio import SAMPLE_RATE, load, to_int16, wav_bytes
from robot.speech.neural_voice import NEURAL_VOICES
from robot.speech.recognizers import Transcript
from robot.speech.sentences import SentenceCutter
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

# The page's sentence player (Web Audio: a clip starts sooner than through an <audio> element, RESULTS.md): the
# clips of one turn play one after another; a new turn (or a timer's ring) cuts the last one short.
# `window.robotSpeech` records each clip's text and when it came and began to play (for the tests and
# benchmarks/web_speech.py).
SENTENCE_PLAYER = """
let context = null, turn = null, ends = 0;
const sources = new Set();
window.robotSpeech = {clips: []};
const decode = (src) => {
  const bytes = Uint8Array.from(atob(src.slice(src.indexOf(',') + 1)), c => c.charCodeAt(0));
  return context.decodeAudioData(bytes.buffer);
};
const play = async (clip, record) => {
  context = context || new AudioContext();
  if (context.state === 'suspended') await context.resume();
  if (clip.turn !== turn) {
    turn = clip.turn;
    sources.forEach(source => source.stop());
    sources.clear();
    ends = 0;
  }
  const audio = await decode(clip.src);
  if (clip.turn !== turn) return;
  const source = context.createBufferSource();
  source.buffer = audio;
  source.connect(context.destination);
  const at = Math.max(context.currentTime, ends);
  source.start(at);
  ends = at + audio.duration;
  const latency = context.outputLatency || context.baseLatency || 0;  // to the speaker, as far as the page knows
  record.started = performance.now() + (at - context.currentTime + latency) * 1000;
  sources.add(source);
  source.onended = () => sources.delete(source);
};
let chain = Promise.resolve();  // one clip at a time, in the order they came (decoding takes its own time)
watch('value', () => {
  const clip = props.value;
  if (!clip || !clip.src) return;
  const record = {turn: clip.turn, text: clip.text, received: performance.now(), started: null};
  window.robotSpeech.clips.push(record);
  chain = chain.then(() => play(clip, record)).catch(() => {});
});
"""

STREAM_EVERY = 0.25  # seconds of microphone per piece sent while recording

VOICES = [*NEURAL_VOICES, "en-us", "en-us+f2", "en-us+m3", "en-gb", "en-gb+f3"]


def clip(audio: np.ndarray, turn: int | str, text: str) -> dict:
    """16 kHz audio as the sentence player's value: the turn it belongs to, its text and a WAV data URL."""
    return {"turn": turn, "text": text,
            "src": "data:audio/wav;base64," + base64.b64encode(wav_bytes(audio, SAMPLE_RATE)).decode()}


class Speaker:
    """One reply spoken as it is written: `along` gives the clip of the sentences completed since its last call
    (with `final`, all that is left), or gr.skip() when there is nothing to say or replies are not spoken;
    `whole` is all it said, for the Spoken reply player (the reply is not synthesised a second time)."""

    turns = itertools.count(1)  # the page's player cuts a turn's clips short when the next turn's come

    def __init__(self, say: Callable[[str], np.ndarray | None] | None) -> None:
        self.say, self.cutter, self.turn = say, SentenceCutter(), next(self.turns)
        self.said: list[np.ndarray] = []

    @property
    def speaking(self) -> bool:
        return self.say is not None

    def along(self, text: str, final: bool = False) -> dict:
        if self.say is None:
            return gr.skip()
        sentences = self.cutter.take(text, final)
        audio = self.say(sentences) if sentences else None
        if audio is None:
            return gr.skip()
        self.said.append(audio)
        return clip(audio, self.turn, sentences)

    def whole(self) -> tuple[int, np.ndarray] | None:
        return (SAMPLE_RATE, to_int16(np.concatenate(self.said))) if self.said else None


@dataclass(frozen=True)
class VoiceControls:
    events: list[gr.events.Dependency]  # the events that add a turn (a recording, an upload)
    labelled: Labelled  # the components whose words follow the model's language
    spoken: gr.Audio  # the Spoken reply player: the last reply spoken, whole, to hear again; it stays until the
    # next one replaces it (never emptied: Gradio's player, removed while it loads a clip, warns of stale state)
    player: gr.HTML  # the page's sentence player (replies as they are written, and timers' rings)
    settings: list[gr.components.Component]  # speak replies?, the voice, its speed
    speaker: Callable[[bool, str, float], Speaker]  # a turn's Speaker for the settings
    ring: Callable[[str, bool, str, float], dict]  # a timer's chime, and its words if spoken, for the player


def build_voice_controls(voice: VoiceRobot, chatbot: gr.Chatbot, conversation: gr.State,
                         meta: gr.Markdown) -> VoiceControls:
    """The microphone, an upload, the spoken reply and the voice settings."""
    said = words(voice.robot.brain.language)
    guesses = ThreadPoolExecutor(1, thread_name_prefix="heard-early")  # the recogniser decodes one at a time
    with gr.Row(equal_height=True):
        microphone = gr.Audio(sources=["microphone"], streaming=True, label=said["microphone"], elem_id="microphone",
                              scale=2)
        upload = gr.Audio(sources=["upload"], type="filepath", label=said["upload"], elem_id="voice-upload", scale=2)
        spoken = gr.Audio(label=said["spoken"], interactive=False, elem_id="spoken-reply", scale=2)
    player = gr.HTML(None, html_template="", js_on_load=SENTENCE_PLAYER, elem_id="sentence-player",
                     visible="hidden")
    with gr.Accordion(said["voice_settings"], open=False) as settings_box, gr.Row():
        speak = gr.Checkbox(True, label=said["speak"], elem_id="speak-replies")
        voice_name = gr.Dropdown(VOICES, value=voice.options.voice.name, label=said["voice"], allow_custom_value=True)
        rate = gr.Slider(100, 250, value=voice.options.voice.words_per_minute, step=5, label=said["rate"])
    recording = gr.State(None)  # the StreamedRecording of the microphone, from its first piece to Stop

    def answer(transcript: Transcript, history: list[dict], state: Conversation, speaker: Speaker, speak: bool,
               name: str, wpm: float, heard: str = ""):
        """Answer a transcript like a typed message, say it as it is written (with a speaking `speaker`), then
        the whole reply for the Spoken reply player; `heard` says how it was heard."""
        if not transcript.text:
            gr.Warning("I heard speech but could not make out any words; try again a little closer.")
            yield None, history, state, gr.skip(), gr.skip(), gr.skip()
            return
        for grown, reply in converse(voice.robot, transcript.text, history, state):  # noqa: B007 - the last is kept
            yield None, grown, state, meta_line(reply) + heard, gr.skip(), speaker.along(reply.text)
        if speaker.speaking:  # what it said, whole, for the Spoken reply player
            rest = speaker.along(reply.text, final=True)
            yield None, grown, state, meta_line(reply) + heard, speaker.whole(), rest
        else:
            yield None, grown, state, meta_line(reply) + heard, spoken_reply(reply.text, speak, name, wpm), gr.skip()

    def speech(text: str, speak: bool, name: str, wpm: float) -> np.ndarray | None:
        """A reply as 16 kHz float audio, when replies are spoken."""
        if not speak or not text:
            return None
        try:
            chosen = voice_for(voice.robot.brain.language, Voice(name or DEFAULT_VOICE, int(wpm)))
            return synthesize(text, chosen, voice.robot.brain.language)
        except InputError as error:
            gr.Warning(str(error))
            return None

    def spoken_reply(text: str, speak: bool, name: str, wpm: float) -> tuple[int, np.ndarray] | dict:
        """A reply as audio for the Spoken reply player, when replies are spoken (else it keeps what it has)."""
        audio = speech(text, speak, name, wpm)
        return gr.skip() if audio is None else (SAMPLE_RATE, to_int16(audio))

    def speaker(speak: bool, name: str, wpm: float) -> Speaker:
        return Speaker((lambda text: speech(text, speak, name, wpm)) if speak else None)

    def hear(path: str | None, history: list[dict], state: Conversation | None, speak: bool, name: str,
             wpm: float, along: bool = True):
        """An uploaded recording, transcribed whole; said as it is written where `along` (the page)."""
        state = state or Conversation()
        try:
            transcript = None if path is None else voice.transcribe(load(path, voice.options.limits))
        except InputError as error:
            gr.Warning(str(error))
            transcript = None
        if transcript is None:
            yield None, history, state, gr.skip(), gr.skip(), gr.skip()
            return
        yield from answer(transcript, history, state, speaker(speak and along, name, wpm), speak, name, wpm)

    def hear_api(path: str | None, history: list[dict], state: Conversation | None, speak: bool, name: str,
                 wpm: float):
        """`hear` for API clients: the reply's text and its whole audio, no sentence player."""
        for *step, spoken, _ in hear(path, history, state, speak, name, wpm, along=False):
            yield *step, None if spoken == gr.skip() else spoken  # the caller gets no audio, not an update

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
            yield None, None, history, state, gr.skip(), gr.skip(), gr.skip()
            return
        began = time.perf_counter()
        try:
            transcript, early = streamed.finish()
        except InputError as error:
            gr.Warning(str(error))
            yield None, None, history, state, gr.skip(), gr.skip(), gr.skip()
            return
        waited = time.perf_counter() - began
        heard = words(voice.robot.brain.language)["heard_early" if early else "heard_late"].format(seconds=waited)
        for step in answer(transcript, history, state, speaker(speak, name, wpm), speak, name, wpm, f" · {heard}"):
            yield None, *step

    settings = [speak, voice_name, rate]
    outputs = [chatbot, conversation, meta, spoken]
    # one piece at a time, in order, for every tab together: a piece takes about a millisecond
    microphone.stream(listen, [microphone, recording], recording, stream_every=STREAM_EVERY, concurrency_limit=1,
                      time_limit=int(voice.options.limits.max_seconds) + 5, show_progress="hidden",
                      api_visibility="private")
    turn_inputs = [chatbot, conversation, *settings]
    events = [upload.upload(hear, [upload, *turn_inputs], [upload, *outputs, player], api_name="hear_along",
                            api_visibility="private",
                            show_progress_on=[upload]),  # the reply line shows how the reply was made, no timer
              microphone.stop_recording(stopped, [recording, *turn_inputs], [recording, microphone, *outputs, player],
                                        api_visibility="private", show_progress_on=[microphone])]
    gr.Button(visible=False).click(hear_api, [upload, *turn_inputs], [upload, *outputs], api_name="hear")
    labelled = [(microphone, {"label": "microphone"}), (upload, {"label": "upload"}), (spoken, {"label": "spoken"}),
                (speak, {"label": "speak"}), (voice_name, {"label": "voice"}), (rate, {"label": "rate"}),
                (settings_box, {"label": "voice_settings"})]

    def ring(text: str, speak: bool, name: str, wpm: float) -> dict:
        """A timer's chime, and its words when replies are spoken, for the sentence player."""
        words_spoken = speech(text, speak, name, wpm)
        sound = chime(SAMPLE_RATE)
        return clip(sound if words_spoken is None else np.concatenate([sound, words_spoken]), f"ring {time.time()}",
                    text)

    return VoiceControls(events, labelled, spoken, player, settings, speaker, ring)
