"""The intent classifier trained for real on the default assets: paraphrases it never saw, nonsense,
calibration, and the model folder round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robot.intents.bundle import load_bundle, save_bundle
from robot.intents.classifier import IntentClassifier, familiarity, unit_rows
from robot.intents.schema import normalise

# Written by hand for this test; none of them is a training example (checked below).
PARAPHRASES = {
    "hello, anybody home?": "greet",
    "i'm heading out now, bye": "goodbye",
    "thank you kindly": "thanks",
    "what exactly are you?": "identity",
    "is this a real human being?": "bot_challenge",
    "what sort of things can you help with?": "capabilities",
    "how are you holding up?": "how_are_you",
    "do you have a funny joke for me": "joke",
    "could you tell me the current time": "time",
    "which day of the month is it today": "date",
    "what's 81 divided by 9": "calculate",
    "please call me Oscar": "remember_name",
    "do you still know my name?": "recall_name",
    "yes, that's correct": "affirm",
    "no, definitely not": "deny",
    "who built this robot?": "creator",
    "how many years have you been around": "age",
    "i'm feeling really good today": "mood_happy",
    "i feel so sad and alone": "mood_sad",
    "you are really clever": "compliment",
    "you're a useless machine": "insult",
    "is it going to rain later": "weather",
    "i've got nothing to do and i'm bored": "bored",
    "oh sorry, i messed up": "apology",
    "where do you actually live": "location",
    "hahaha that's hilarious": "laugh",
}
NONSENSE = ["asdf qwerty zxcv", "purple monkey dishwasher", "the quarterly earnings of the mining sector",
            "how do i replace a bicycle chain", "🤖🤖🤖", "what is the boiling point of mercury"]


def test_paraphrases_are_held_out(trained):
    _, data, _ = trained
    seen = {normalise(t) for t in data.labelled_examples()[0]}
    assert not seen & {normalise(t) for t in PARAPHRASES}


def test_held_out_paraphrases_land_in_the_right_intent(trained):
    classifier, _, _ = trained
    predictions = classifier.predict(list(PARAPHRASES))
    wrong = {text: p.intent for (text, want), p in zip(PARAPHRASES.items(), predictions) if p.intent != want}
    assert len(wrong) <= 2, wrong


def test_nonsense_is_out_of_scope(trained):
    classifier, _, _ = trained
    predictions = classifier.predict(NONSENSE)
    assert [p.intent for p in predictions] == [None] * len(NONSENSE)
    assert all(p.score < classifier.threshold for p in predictions)


def test_calibration_is_learned_from_held_out_data(trained):
    classifier, _, metrics = trained
    assert 0.01 < classifier.threshold < 0.9 and 0.05 < classifier.temperature < 20  # confidence x familiarity^4
    assert metrics["held_out"].endswith("out-of-fold predictions")
    assert metrics["in_scope_accuracy"] > 0.8 and metrics["n_intents"] >= 25
    ranking = classifier.predict(["what time is it"])[0].ranking
    assert abs(sum(c for _, c in ranking) - 1) < 0.05 and ranking == sorted(ranking, key=lambda r: -r[1])


def test_context_gating_never_picks_an_ineligible_intent(trained):
    classifier, data, _ = trained
    eligible = {i.name for i in data.intents} - {"another_joke"}
    assert classifier.predict(["tell me another one"], eligible)[0].intent != "another_joke"
    assert classifier.predict(["tell me another one"])[0].intent == "another_joke"


def test_model_folder_round_trip(trained, tmp_path, encoder):
    classifier, data, metrics = trained
    save_bundle(tmp_path, classifier, data, metrics, "robot train intents")
    assert {p.name for p in tmp_path.iterdir()} >= {"model.safetensors", "examples.safetensors", "config.json",
                                                    "metrics.json", "README.md", "intents.yaml"}
    loaded, loaded_data, tagger = load_bundle(tmp_path, encoder=encoder)
    assert tagger is None  # the default intents carry no entity annotations
    texts = list(PARAPHRASES)[:5]
    assert np.allclose(loaded.logits(encoder.encode(texts)), classifier.logits(encoder.encode(texts)), atol=1e-5)
    assert loaded.threshold == classifier.threshold and loaded_data.intents == data.intents
    scores = [p.score for p in classifier.predict(texts)]
    assert np.allclose([p.score for p in loaded.predict(texts)], scores, atol=1e-3)  # examples kept in float16
    fresh = IntentClassifier.load(tmp_path)  # loads its own encoder and checks its sha256
    assert fresh.encoder.sha256 == encoder.sha256


def test_embedding_cache_returns_the_same_vectors(encoder):
    texts = ["a sentence to cache", "another one"]
    first = encoder.encode(texts)
    assert encoder.cache is not None and len(encoder.cache.get(texts)) == 2
    assert np.allclose(encoder.encode(texts), first)


def test_embedding_cache_is_bounded_and_per_thread(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from robot.intents.encoder import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache.sqlite", "k:", max_rows=50)

    def write(worker: int) -> int:  # one connection per thread: no "objects created in a thread" error
        texts = [f"{worker}-{k}" for k in range(40)]
        cache.put(texts, np.full((40, 4), worker, dtype=np.float32))
        return len(cache.get(texts))

    with ThreadPoolExecutor(4) as pool:
        assert all(found > 0 for found in pool.map(write, range(4)))
    assert cache.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 50
    cache.put(["newest"], np.ones((1, 4), dtype=np.float32))
    assert "newest" in cache.get(["newest"]) and cache.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 50


def test_training_leaves_the_global_rng_alone_and_repeats_itself():
    """A retrain draws its randomness from its own generators: torch's global RNG (chat sampling in another
    thread) is never reseeded, and the same data and seed give the same head whatever that RNG was."""
    import torch

    from robot.intents.train import TrainConfig, fit_head

    features = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    targets = np.arange(40) % 4
    config = TrainConfig(hidden=16, min_steps=5, epochs=1)
    heads, after = [], []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        heads.append(fit_head(features, targets, 4, config))
        after.append(torch.rand(3))
    assert not torch.equal(*after)  # a reseed inside training would make both streams continue alike
    assert all(torch.equal(a, b) for a, b in zip(heads[0].state_dict().values(), heads[1].state_dict().values()))


def test_the_head_trains_in_bfloat16_where_the_cpu_multiplies_it():
    """The head's products are compute-bound: bfloat16 where the CPU has it in hardware (1.5x faster), float32
    elsewhere; the head still fits its data."""
    import torch
    from torch.profiler import profile

    from robot.intents.classifier import native_bfloat16
    from robot.intents.train import TrainConfig, fit_head

    rng = np.random.default_rng(0)
    targets = np.arange(64) % 4
    features = (rng.normal(size=(64, 32)) + 8 * np.eye(4, 32)[targets]).astype(np.float32)
    with profile(record_shapes=True) as run:
        head = fit_head(features, targets, 4, TrainConfig(hidden=64))
    products = {t for e in run.events() if e.name in ("aten::addmm", "aten::mm")
                for t in e.input_dtypes if t not in ("", "Scalar")}
    assert products == ({"c10::BFloat16"} if native_bfloat16() else {"float"}), products
    with torch.inference_mode():
        assert (head(torch.from_numpy(features)).argmax(1).numpy() == targets).mean() > 0.9


def test_the_heads_batches_follow_the_data_size():
    """A step takes a quarter of a few hundred examples (at least 128 rows, at most 512), not a fixed 512:
    a user's intents composed with the built-in skills then train about as long as the intents alone."""
    from torch.profiler import profile

    from robot.intents.train import TrainConfig, batch_rows, dropout_bank, fit_head

    config = TrainConfig(hidden=16, min_steps=3, epochs=1)
    assert [batch_rows(n, config) for n in (85, 617, 1556, 15000)] == [128, 155, 389, 512]
    for examples, rows in [(85, 85), (617, 155), (3000, 512)]:
        features = np.random.default_rng(0).normal(size=(examples, 8)).astype(np.float32)
        masks = dropout_bank(rows, 8, config, torch.Generator().manual_seed(0))  # shared by a training's fits
        with profile(record_shapes=True) as run:
            fit_head(features, np.arange(examples) % 4, 4, config, dropout=masks)
        batches = {shapes[1][0] for e in run.events() if e.name == "aten::addmm" and (shapes := e.input_shapes)}
        assert max(batches) == rows, (examples, batches)


def test_onnx_encoder_matches_pytorch_on_padded_batches(encoder):
    """The CPU runs the encoder exported to ONNX Runtime: features and token states are PyTorch's, padded or not."""
    assert encoder.session is not None
    texts = ["hi", "a much longer sentence that forces padding on the others", "what time is it"]
    batch = encoder.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        eager, hidden = encoder.pooled(batch["input_ids"], batch["attention_mask"])
    assert np.allclose(encoder._forward(texts), eager.numpy(), atol=1e-5)
    assert np.allclose(encoder._forward(texts[:1]), eager[:1].numpy(), atol=1e-5)
    tokens = encoder.encode_tokens(texts)
    assert [t.offsets[0] for t in tokens] == [(0, 2), (0, 1), (0, 4)]
    assert torch.allclose(tokens[1].states, hidden[1, 1:-1], atol=1e-5)  # without [CLS] and [SEP]


def test_a_cpu_encoder_with_its_export_cached_never_loads_pytorch_weights(encoder):
    """Every process start (a retrain, `robot serve`) built a PyTorch model only the export reads: `robot serve`
    answered its first message 1.7 s later for it."""
    from robot.intents.encoder import SentenceEncoder

    again = SentenceEncoder(encoder.config)  # the session's encoder exported it
    assert again.session is not None and "pooled" not in vars(again)
    assert np.array_equal(again._forward(["what time is it"]), encoder._forward(["what time is it"]))


def test_data_without_negatives_still_learns_to_refuse(encoder, tmp_path):
    """The pytorch-chatbot intents have no out-of-scope examples: trained on them alone (--replace), "what time is
    it" was 'delivery' at 100%. Generic negatives give the model a rejection region; the card says so."""
    from robot.brain import Brain, Robot, Session
    from robot.intents.formats import load_intents
    from robot.intents.schema import check
    from robot.service import load_persona, train_intent_model
    from tests.conftest import FORMATS

    path = FORMATS / "pytorch-chatbot" / "intents.json"
    assert any("no out-of-scope examples" in p.message for p in check(load_intents(path)))
    result = train_intent_model([path], out=tmp_path / "model", device="cpu", encoder=encoder, replace_builtins=True)
    assert result.metrics["generic_negatives"] >= 40
    assert "generic negatives from the default persona" in (result.folder / "README.md").read_text()
    assert "oos:" not in (result.folder / "intents.yaml").read_text()  # the user's data is kept as it was
    robot = Robot(Brain.load(result.folder, "test", encoder=encoder), load_persona(), seed=0)
    for text in ["what time is it", "who wrote hamlet", "turn up the volume", "is it going to rain tomorrow"]:
        assert robot.respond(text, Session()).intent is None, text
    for text, intent in [("do you take credit cards", "payments"), ("how long does shipping take", "delivery"),
                         ("tell me something funny", "funny")]:
        assert robot.respond(text, Session()).intent == intent, text


def test_messages_arriving_together_are_encoded_together(encoder):
    """Under load the messages waiting for the encoder go through it in one batch; each caller still gets its
    own features and token states, the same as alone, and an error reaches every caller of its batch."""
    from concurrent.futures import ThreadPoolExecutor

    from robot.threads import Batcher

    texts = ["what time is it", "hi", "could you please tell me a rather long joke about robots", "ok"] * 8
    alone = [encoder._run([t]) for t in texts]
    sizes = []
    batcher = Batcher(lambda batch: (sizes.append(len(batch)), encoder._run_each(batch))[1], "test-encoder")
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(batcher, texts))
    assert max(sizes) > 1 and sum(sizes) == len(texts)
    for (features, tokens), (single, single_tokens) in zip(together, alone):
        assert np.allclose(features, single, atol=1e-5)
        assert tokens.offsets == single_tokens[0].offsets
        assert torch.allclose(tokens.states, single_tokens[0].states, atol=1e-5)
    failing = Batcher(lambda batch: 1 / 0, "test-failing")
    with pytest.raises(ZeroDivisionError):
        failing("hello")
    assert np.allclose(encoder.encode_message("what time is it")[0], alone[0][0], atol=1e-5)


def test_an_encoder_the_exporter_cannot_follow_runs_in_pytorch(encoder, monkeypatch, capsys):
    from robot.intents import encoder as module

    def cannot(*args):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(module, "onnx_session", cannot)
    slow = module.SentenceEncoder()
    assert slow.session is None and "runs in PyTorch" in capsys.readouterr().err
    texts = ["hi", "what time is it now"]
    assert np.allclose(slow._forward(texts), encoder._forward(texts), atol=1e-5)


def test_a_message_far_from_every_example_scores_lower(trained, tmp_path, encoder):
    """The score is the confidence times familiarity (cosine to the nearest training examples) to the 4th: a
    message like the examples keeps its confidence, one unlike all of them loses most of it. A folder saved
    before examples were kept scores by confidence alone."""
    classifier, data, metrics = trained
    features = encoder.encode(["what time is it right now", "the mitochondria is the powerhouse of the cell"])
    near, far = classifier.classify(features)
    known = familiarity(features, classifier.examples)
    assert known[0] > 0.8 > 0.5 > known[1] and near.score > 0.5 * near.confidence and far.score < 0.1 * far.confidence
    exact = familiarity(features, unit_rows(classifier.examples.float().numpy()))  # read in float32
    assert np.abs(known - exact).max() < 2e-3  # bfloat16 (where native) halves the bytes, not the precision we use
    assert classifier.sharpness == 4.0 and len(classifier.examples) == sum(len(i.examples) for i in data.intents)
    save_bundle(tmp_path, classifier, data, metrics, "robot train intents")
    (tmp_path / "examples.safetensors").unlink()
    older = IntentClassifier.load(tmp_path, encoder=encoder)
    assert older.examples is None and older.sharpness == 0.0
    assert all(p.score == p.confidence for p in older.predict(["what time is it right now"]))


def test_chat_messages_arriving_together_are_classified_together(trained, encoder, tmp_path):
    """Under load the messages waiting for an intent head go through it in one batch, each with its own model
    (two during a hot swap) and eligible intents: the same predictions as one at a time. The batch's thread has
    an OpenMP team of one while the rest of the process keeps its threads (checked in a fresh process at 2
    threads: the suite runs torch at 1)."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from robot.intents import classifier as module

    classifier, data, metrics = trained
    save_bundle(tmp_path, classifier, data, metrics, "robot train intents")
    other = IntentClassifier.load(tmp_path, encoder=encoder)
    other.threshold = 1.0  # refuses everything: a batch mixing the two models must keep them apart
    texts = ["what time is it right now", "tell me a joke", "hello there", "what is 2 plus 2"] * 8
    features = encoder.encode(texts)
    jobs = [(model, features[k:k + 1], {"greet"} if k % 3 == 0 else None)
            for k in range(len(texts)) for model in (classifier, other)]
    sizes = []
    batches = module.MESSAGES.run
    module.MESSAGES.run = lambda batch: (sizes.append(len(batch)), batches(batch))[1]
    try:
        with ThreadPoolExecutor(16) as pool:
            together = list(pool.map(lambda job: job[0].classify_message(job[1], job[2]), jobs))
    finally:
        module.MESSAGES.run = batches
    assert max(sizes) > 1 and sum(sizes) == len(jobs)
    alone = [model.classify(row, eligible)[0] for model, row, eligible in jobs]
    assert [(p.intent, [name for name, _ in p.ranking]) for p in together] == \
        [(p.intent, [name for name, _ in p.ranking]) for p in alone]
    assert np.allclose([p.score for p in together], [p.score for p in alone], atol=1e-5)
    assert {p.intent for p, (model, _, _) in zip(together, jobs) if model is other} == {None}
    assert {p.intent for p, (_, _, eligible) in zip(together, jobs) if eligible} <= {"greet", None}
    code = ("import torch; torch.set_num_threads(2); from robot.intents import classifier as c; "
            "c.MESSAGES.run = lambda batch: [torch.get_num_threads() for _ in batch]; "
            "print(c.MESSAGES(None), torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["1", "2"]
