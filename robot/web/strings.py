"""The chat page's fixed words in the languages that have them, English for the rest: the page is built in the
active intent model's language and follows it at every page load (the Train and Models tabs, for whoever runs
the robot, stay in English)."""

from __future__ import annotations

from robot.language import ENGLISH, base_language

STRINGS: dict[str, dict[str, str]] = {
    "intro": {ENGLISH: "A robot that runs entirely on this computer. Ask it what it can do.",
              "zh": "一个完全在这台电脑上运行的机器人。问问它能做什么。"},
    "chat_tab": {ENGLISH: "Chat", "zh": "聊天"},
    "welcome": {ENGLISH: "**{name}** runs entirely on this computer. Ask what it can do, or start with an example.",
                "zh": "**{name}** 完全在这台电脑上运行。问问它能做什么，或者从一个例子开始。"},
    "message": {ENGLISH: "Type a message and press Enter", "zh": "输入消息，按回车发送"},
    "send": {ENGLISH: "Send", "zh": "发送"},
    "stop": {ENGLISH: "Stop", "zh": "停止"},
    "wanted": {ENGLISH: "That should have been intent", "zh": "正确的意图应该是"},
    "correct": {ENGLISH: "Save correction", "zh": "保存更正"},
    "microphone": {ENGLISH: "Speak", "zh": "说话"},
    "upload": {ENGLISH: "Or upload a recording", "zh": "或上传录音"},
    "heard_early": {ENGLISH: "transcribed while you spoke, ready {seconds:.1f} s after Stop",
                    "zh": "说话时已开始听写，停止后 {seconds:.1f} 秒完成"},
    "heard_late": {ENGLISH: "transcribed after Stop in {seconds:.1f} s", "zh": "停止后听写，用时 {seconds:.1f} 秒"},
    "spoken": {ENGLISH: "Reply, spoken", "zh": "语音回复"},
    "speak": {ENGLISH: "Speak replies", "zh": "朗读回复"},
    "voice": {ENGLISH: "Voice", "zh": "声音"},
    "rate": {ENGLISH: "Words per minute", "zh": "语速（每分钟词数）"},
    "voice_settings": {ENGLISH: "Voice settings", "zh": "声音设置"},
    "liked": {ENGLISH: "Marked as a good reply.", "zh": "已标记为好回复。"},
    "disliked": {ENGLISH: "Marked as a bad reply: a correction below the chat helps most.",
                 "zh": "已标记为差回复：在聊天下方保存更正最有帮助。"},
    "unrated": {ENGLISH: "Feedback removed.", "zh": "已取消反馈。"},
    "correct_first": {ENGLISH: "Chat first, then pick the intent your last message should have had.",
                      "zh": "先聊天，再选择你上一条消息应有的意图。"},
    "correct_pick": {ENGLISH: "Pick the intent your last message should have had (or *out of scope*).",
                     "zh": "请选择你上一条消息应有的意图（或*超出范围*）。"},
    "correct_unknown": {ENGLISH: "**{intent}** is not an intent of the model in use.",
                        "zh": "**{intent}** 不是当前模型的意图。"},
    "correct_failed": {ENGLISH: "**Not saved:** {reason}.", "zh": "**未保存：**{reason}。"},
    "correct_saved": {ENGLISH: "Saved: “{message}” → **{intent}**. It is offered in the Train tab.",
                      "zh": "已保存：“{message}” → **{intent}**。可在“训练”页中使用。"},
    "warming": {ENGLISH: "⏳ Preparing {what} in the background ({seconds:.0f} s so far): the robot answers what it "
                         "knows already; chit-chat follows when it is ready.",
                "zh": "⏳ 正在后台准备{what}（已用 {seconds:.0f} 秒）：机器人已经能回答它会的问题，闲聊稍后就绪。"},
    "warming_dialogue": {ENGLISH: "the chat model", "zh": "聊天模型"},
    "warming_whisper": {ENGLISH: "the speech recogniser", "zh": "语音识别模型"},
}
EXAMPLES = {ENGLISH: ["What can you do?", "What is one hundred and twenty times two?", "Tell me a joke",
                      "My name is Sam"],
            "zh": ["你能做什么？", "一百二十乘以二等于多少？", "讲个笑话", "我叫小明"]}


def words(language: str) -> dict[str, str]:
    """Every fixed string of the chat page in `language`, English where it has no translation."""
    language = base_language(language)
    return {key: texts.get(language, texts[ENGLISH]) for key, texts in STRINGS.items()}


def examples(language: str) -> list[str]:
    return EXAMPLES.get(base_language(language), EXAMPLES[ENGLISH])
