"""The tokenizer through the Python binding: training, exact round trips, files, errors."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from bullet_native import BulletError
from bullet_native.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"
CHARACTERS = list("abcdeth.") + ["é", "ß", "न", "्", "中", "😀", "\n", "\r", "\t"]


def random_text(rng: random.Random, length: int, space_rate: float = 0.2) -> str:
    return "".join(" " if rng.random() < space_rate else rng.choice(CHARACTERS) for _ in range(length))


@pytest.fixture(scope="module")
def trained() -> Tokenizer:
    rng = random.Random(1)
    with Tokenizer.train(random_text(rng, 20_000), vocab_size=300) as tokenizer:
        yield tokenizer


def test_train_reports_what_it_did(trained: Tokenizer) -> None:
    assert trained.vocab_size == 300 == len(trained)
    assert trained.mode == "bpe"
    training = trained.info["training"]
    assert training["requested_vocab_size"] == 300
    assert training["alphabet_size"] == trained.info["alphabet_size"] == len(CHARACTERS)
    assert training["stop_reason"] == "vocab_size reached"
    assert repr(trained) == f"Tokenizer(mode='bpe', vocab_size=300, merges={trained.info['merges']})"
    vocab = trained.vocab()
    assert vocab["tokens"][:2] == ["<unk>", " "]
    assert len(vocab["scores"]) == 300
    assert len(vocab["merges"]) == trained.info["merges"]


def test_round_trip_on_random_texts_of_seen_characters(trained: Tokenizer) -> None:
    rng = random.Random(2)
    for _ in range(200):
        text = " " * rng.randrange(3) + random_text(rng, rng.randrange(0, 200), space_rate=0.35) + "  " * rng.randrange(2)
        ids = trained.encode(text)
        assert 0 not in ids
        assert trained.decode(ids) == text
        assert trained.decode_bytes(ids) == text.encode("utf-8")


def test_spaces_are_tokens_and_unknown_characters_are_id_zero(trained: Tokenizer) -> None:
    assert trained.encode("  ") == [1, 1]
    assert trained.encode("Q") == [0]
    assert trained.encode("") == []


def test_encode_as_numpy_and_decode_numpy(trained: Tokenizer) -> None:
    ids = trained.encode("a bé 中\n", as_numpy=True)
    assert ids.dtype == np.int32
    assert ids.tolist() == trained.encode("a bé 中\n")
    assert trained.decode(ids) == "a bé 中\n"


def test_encode_batch_equals_single_calls(trained: Tokenizer) -> None:
    rng = random.Random(3)
    texts = [random_text(rng, rng.randrange(0, 100)) for _ in range(40)] + [""]
    assert trained.encode_batch(texts, threads=2) == [trained.encode(t) for t in texts]


def test_char_mode_and_alphabet_cap() -> None:
    with Tokenizer.train("aaa bbb ccc d", vocab_size=64, mode="char", max_alphabet=2) as tokenizer:
        assert tokenizer.mode == "char"
        assert tokenizer.vocab()["tokens"] == ["<unk>", " ", "a", "b"]
        assert tokenizer.info["training"]["dropped_characters"] == 2
        assert tokenizer.encode("ad") == [2, 0]


def test_train_from_a_path_with_bom(tmp_path: Path) -> None:
    text_file = tmp_path / "text.txt"
    text_file.write_bytes(b"\xef\xbb\xbfone two\r\nthree two")
    with Tokenizer.train(text_file, vocab_size=64) as from_path, Tokenizer.train(path=str(text_file), vocab_size=64) as by_keyword:
        assert from_path.info["training"]["bom_skipped"] is True
        assert from_path.vocab() == by_keyword.vocab()
        assert from_path.decode(from_path.encode("one two\r\nthree")) == "one two\r\nthree"


def test_invalid_utf8_is_an_error_or_a_reported_replacement(tmp_path: Path) -> None:
    text_file = tmp_path / "bad.txt"
    text_file.write_bytes(b"abc \xff def")
    with pytest.raises(BulletError, match="offset 4"):
        Tokenizer.train(text_file, vocab_size=64)
    with Tokenizer.train(text_file, vocab_size=64, invalid_utf8="replace") as tokenizer:
        assert tokenizer.info["training"]["replaced_invalid_sequences"] == 1


def test_save_and_load_every_form(trained: Tokenizer, tmp_path: Path) -> None:
    text = "hé 中 the\nend  "
    trained.save(tmp_path / "tokenizer.json")
    document = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    assert document["model"]["type"] == "BPE"
    assert document["model"]["vocab"]["<unk>"] == 0
    with Tokenizer.load(tmp_path / "tokenizer.json") as loaded:
        assert loaded.vocab() == trained.vocab()
        assert loaded.encode(text) == trained.encode(text)
    with Tokenizer.train("ab ab abc", vocab_size=64) as small:
        small.save(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["merges.txt", "tokenizer.json", "vocab.txt"]
        with Tokenizer.load(tmp_path / "vocab.txt") as loaded:
            assert loaded.vocab() == small.vocab()


def test_same_text_and_settings_give_identical_files(tmp_path: Path) -> None:
    text = random_text(random.Random(4), 5000)
    for run in range(2):
        with Tokenizer.train(text, vocab_size=200) as tokenizer:
            tokenizer.save(tmp_path / f"run{run}.json")
    assert (tmp_path / "run0.json").read_bytes() == (tmp_path / "run1.json").read_bytes()


def test_load_the_tokenizer_of_a_bullet_file() -> None:
    with Tokenizer.load(FIXTURES / "reference-597vocab.bullet") as tokenizer:
        assert tokenizer.vocab_size == 597
        assert tokenizer.mode == "char"
        assert "training" not in tokenizer.info
        assert tokenizer.vocab()["tokens"][11] == "Explain"


def test_errors_carry_the_native_message(trained: Tokenizer, tmp_path: Path) -> None:
    with pytest.raises(BulletError, match="vocab_size 10 must be between 64 and 32000"):
        Tokenizer.train("abc", vocab_size=10)
    with pytest.raises(BulletError, match="mode \"words\""):
        Tokenizer.train("abc", mode="words")
    with pytest.raises(BulletError, match="outside the vocabulary"):
        trained.decode([0, 99999])
    with pytest.raises(BulletError, match="does not exist"):
        Tokenizer.load(tmp_path / "missing.json")
    with pytest.raises(ValueError):
        Tokenizer.train()


def test_close_frees_the_handle() -> None:
    tokenizer = Tokenizer.train("abc abd", vocab_size=64)
    tokenizer.close()
    tokenizer.close()
    assert repr(tokenizer) == "Tokenizer(closed)"
    with pytest.raises(ValueError, match="closed"):
        tokenizer.encode("a")
