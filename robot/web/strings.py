"""The page's fixed words (every tab) in the languages that have them, English for the rest: the page is built in
the active intent model's language and follows it at every page load and activation."""

from __future__ import annotations

from robot.language import ENGLISH, base_language

STRINGS: dict[str, dict[str, str]] = {
    "intro": {ENGLISH: "A robot that runs entirely on this computer. Ask it what it can do.",
              "zh": "一个完全在这台电脑上运行的机器人。问问它能做什么。"},
    "chat_tab": {ENGLISH: "Chat", "zh": "聊天"},
    "welcome": {ENGLISH: "**{name}** runs entirely on this computer.{skills} Ask what it can do, or start with an "
                         "example.",
                "zh": "**{name}** 完全在这台电脑上运行。{skills}问问它能做什么，或者从一个例子开始。"},
    "welcome_skills": {ENGLISH: " It can {skills}.", "zh": "它会{skills}。"},
    "message": {ENGLISH: "Type a message and press Enter", "zh": "输入消息，按回车发送"},
    "message_label": {ENGLISH: "Your message", "zh": "你的消息"},
    "timer_running": {ENGLISH: "Timer for {duration}: {left} left", "zh": "{duration}的计时器：还剩{left}"},
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
    # The Train tab
    "train_tab": {ENGLISH: "Train", "zh": "训练"},
    "train_intro": {ENGLISH: "Bring intents (native YAML, Rasa NLU YAML, intents.json, CSV, TSV or JSONL) and "
                             "questions with their answers (`faq:`, Markdown or CSV), by upload or in the editor below. "
                             "Training adds them to the robot's built-in skills and runs in the background: the chat "
                             "keeps answering with the model in use.",
                    "zh": "上传意图文件（原生 YAML、Rasa NLU YAML、intents.json、CSV、TSV 或 JSONL）和问答（`faq:`、"
                          "Markdown 或 CSV），或在下面的编辑器里编辑。训练会把它们加到机器人的内置技能上，并在后台进行："
                          "聊天继续使用当前模型。"},
    "upload_intents": {ENGLISH: "Upload an intents file", "zh": "上传意图文件"},
    "validate": {ENGLISH: "Validate", "zh": "校验"},
    "add_corrections": {ENGLISH: "Add feedback corrections", "zh": "加入反馈更正"},
    "train": {ENGLISH: "Train", "zh": "训练"},
    "only_mine": {ENGLISH: "Only my intents (without the built-in skills)", "zh": "只用我的意图（不加内置技能）"},
    "activate_model": {ENGLISH: "Activate this model", "zh": "启用这个模型"},
    "compared": {ENGLISH: "Compared with the model in use (each on its own held-out data: accuracies compare only "
                          "where the data is the same)",
                 "zh": "与当前模型比较（各自用自己的留出数据：只有数据相同时准确率才可比）"},
    "per_intent": {ENGLISH: "Per intent (held-out predictions)", "zh": "各意图（留出预测）"},
    "wrong": {ENGLISH: "Examples it gets wrong", "zh": "判断错误的例子"},
    "editor": {ENGLISH: "Your intents (native YAML)", "zh": "你的意图（原生 YAML）"},
    "language_menu": {ENGLISH: "Language (overrides the intents' own `language:`)",
                      "zh": "语言（覆盖意图文件里的 `language:`）"},
    "detect": {ENGLISH: "from the examples", "zh": "从例句判断"},
    "validation": {ENGLISH: "Validation", "zh": "校验结果"},
    "upload_refused": {ENGLISH: "**Upload refused:** {reason}. The editor is empty now: fix the file and upload it "
                                "again, or reload the page for the intents of the model in use.",
                       "zh": "**上传被拒：**{reason}。编辑器已清空：修正文件后重新上传，或刷新页面查看当前模型的意图。"},
    "loaded": {ENGLISH: "Loaded {intents} intents and {questions} questions from {name}.",
               "zh": "已从 {name} 读入 {intents} 个意图和 {questions} 个问题。"},
    "cannot_read": {ENGLISH: "**Cannot read the intents:** {reason}", "zh": "**无法读取意图：**{reason}"},
    "found_errors": {ENGLISH: "**{errors} errors**, {warnings} warnings.", "zh": "**{errors} 个错误**，{warnings} 个警告。"},
    "no_problems": {ENGLISH: "No problems found.", "zh": "没有发现问题。"},
    "data_language": {ENGLISH: " Language: {code}{how}. {composition}", "zh": " 语言：{code}{how}。{composition}"},
    "from_script": {ENGLISH: " (from the examples' script)", "zh": "（从例句的文字判断）"},
    "no_corrections": {ENGLISH: "No feedback corrections waiting.", "zh": "没有待加入的反馈更正。"},
    "corrections_added": {ENGLISH: "Added {n} corrected examples. Validate, then train.",
                          "zh": "已加入 {n} 条更正的例句。先校验，再训练。"},
    "fix_first": {ENGLISH: "**Fix the errors first:** {field}: {message}", "zh": "**请先修正错误：**{field}：{message}"},
    "training_refused": {ENGLISH: "**Training refused:** {reason}", "zh": "**训练被拒：**{reason}"},
    "trained": {ENGLISH: "Trained version **{version}** ({language}) in {seconds:.1f} s. {composition} Read the "
                         "report below, then activate it. {notes}",
                "zh": "已训练版本 **{version}**（{language}），用时 {seconds:.1f} 秒。{composition}请看下面的报告，"
                      "然后启用它。{notes}"},
    "composed": {ENGLISH: "{user} intents of yours and {builtin} built-in ones.", "zh": "你的意图 {user} 个，内置意图 {builtin} 个。"},
    "alone": {ENGLISH: "{user} intents of yours, without the built-in skills.", "zh": "你的意图 {user} 个，不含内置技能。"},
    "yours": {ENGLISH: "yours", "zh": "你的"},
    "builtin": {ENGLISH: "built-in", "zh": "内置"},
    "voice_note": {ENGLISH: "**Voice:** no pronunciation for {words}: spoken requests (with pocketsphinx) cannot "
                            "contain these words. Spell numbers and abbreviations as they are said, or use a common word.",
                   "zh": "**语音：**{words} 没有发音：（用 pocketsphinx 时）说出的请求里不能有这些词。"},
    "train_first": {ENGLISH: "Train a model first.", "zh": "请先训练一个模型。"},
    "cannot_activate": {ENGLISH: "**Cannot activate:** {reason}", "zh": "**无法启用：**{reason}"},
    "now_active": {ENGLISH: "Version **{name}** is now active; the chat uses it from the next message.",
                   "zh": "版本 **{name}** 已启用，聊天从下一条消息起使用它。"},
    # The Models tab
    "models_tab": {ENGLISH: "Models", "zh": "模型"},
    "intents_versions": {ENGLISH: "Intent model versions", "zh": "意图模型版本"},
    "dialogue_versions": {ENGLISH: "Dialogue model versions", "zh": "对话模型版本"},
    "version": {ENGLISH: "Version", "zh": "版本"},
    "activate": {ENGLISH: "Activate", "zh": "启用"},
    "rollback": {ENGLISH: "Roll back", "zh": "回滚"},
    "refresh": {ENGLISH: "Refresh", "zh": "刷新"},
    "is_active": {ENGLISH: "Version **{name}** is active.", "zh": "版本 **{name}** 已启用。"},
    "rolled_back": {ENGLISH: "Rolled back: version **{name}** is active.", "zh": "已回滚：版本 **{name}** 已启用。"},
    "cannot_roll_back": {ENGLISH: "**Cannot roll back:** {reason}", "zh": "**无法回滚：**{reason}"},
    "choose_version": {ENGLISH: "**Cannot activate:** {reason}. Choose a version in the list.",
                       "zh": "**无法启用：**{reason}。请在列表中选择一个版本。"},
    "warming": {ENGLISH: "⏳ Preparing {what} in the background ({seconds:.0f} s so far): the robot answers what it "
                         "knows already; chit-chat follows when it is ready.",
                "zh": "⏳ 正在后台准备{what}（已用 {seconds:.0f} 秒）：机器人已经能回答它会的问题，闲聊稍后就绪。"},
    "warming_dialogue": {ENGLISH: "the chat model", "zh": "聊天模型"},
    "warming_whisper": {ENGLISH: "the speech recogniser", "zh": "语音识别模型"},
    "warming_encoder": {ENGLISH: "a faster sentence encoder", "zh": "更快的句子编码器"},
    "warming_voice": {ENGLISH: "the reply voice", "zh": "回复语音"},
}
HEADERS = {  # table headers and metric names, by language (English where a language has none)
    ENGLISH: {"severity": "severity", "line": "line", "field": "field", "message": "message", "intent": "intent",
              "origin": "origin", "precision": "precision", "recall": "recall", "f1": "f1", "support": "support",
              "text": "text", "true": "true", "predicted": "predicted", "confidence": "confidence", "active": "active",
              "version": "version", "held_out": "measured on", "in_scope_accuracy": "in-scope accuracy",
              "oos_recall": "out-of-scope recall", "macro_f1": "macro F1", "n_intents": "intents",
              "n_examples": "examples", "threshold": "out-of-scope threshold", "train_seconds": "training seconds",
              "entities.micro.f1": "entity F1", "method": "method", "init": "start", "steps": "steps",
              "tokens_seen": "tokens", "val_bits_per_char": "validation bits/char", "metric": "metric",
              "new_model": "new model", "model_in_use": "model in use"},
    "zh": {"severity": "级别", "line": "行", "field": "字段", "message": "说明", "intent": "意图", "origin": "来源",
           "precision": "精确率", "recall": "召回率", "f1": "F1", "support": "样本数", "text": "文本", "true": "正确意图",
           "predicted": "预测意图", "confidence": "置信度", "active": "启用", "version": "版本", "held_out": "评估数据",
           "in_scope_accuracy": "范围内准确率", "oos_recall": "超出范围召回率", "macro_f1": "宏平均 F1",
           "n_intents": "意图数", "n_examples": "例句数", "threshold": "超出范围阈值", "train_seconds": "训练秒数",
           "entities.micro.f1": "实体 F1", "method": "方法", "init": "起点", "steps": "步数", "tokens_seen": "词元数",
           "val_bits_per_char": "验证每字符比特", "metric": "指标", "new_model": "新模型", "model_in_use": "当前模型"},
}


def headers(language: str, *keys: str) -> list[str]:
    """Column headers (or metric names) in `language`."""
    own = HEADERS.get(base_language(language), HEADERS[ENGLISH])
    return [own.get(key, HEADERS[ENGLISH][key]) for key in keys]


def words(language: str) -> dict[str, str]:
    """Every fixed string of the page in `language`, English where it has no translation."""
    language = base_language(language)
    return {key: texts.get(language, texts[ENGLISH]) for key, texts in STRINGS.items()}
