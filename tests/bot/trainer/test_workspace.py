"""A copy of a workspace for trials: the files a trainer edits, and Rasa's training cache."""

import sqlite3

from bot.trainer.workspace import Workspace, copy_workspace


def make_source(root):
    (root / "data" / "nlu").mkdir(parents=True)
    (root / "data" / "nlu" / "basics.yml").write_text("nlu: []\n")
    (root / "config.yml").write_text("language: zh\n")
    (root / "domain.yml").write_text("intents: [greet]\n")
    (root / "tests" / "nlu").mkdir(parents=True)
    (root / "tests" / "nlu" / "heldout.yml").write_text("nlu: []\n")
    cache = root / ".rasa" / "cache"
    (cache / "tmpentry").mkdir(parents=True)
    (cache / "tmpentry" / "policy.bin").write_bytes(b"weights")
    with sqlite3.connect(cache / "cache.db") as db:
        db.execute("CREATE TABLE cache_entry (fingerprint_key TEXT, result_location TEXT)")
        db.execute("INSERT INTO cache_entry VALUES ('k', '.rasa/cache/tmpentry')")
    db.close()
    return root


def test_a_copy_holds_what_the_workbench_edits_and_no_cache_unless_asked(tmp_path):
    source = make_source(tmp_path / "repo")
    copy = copy_workspace(source, tmp_path / "copy")
    for name in ("data/nlu/basics.yml", "config.yml", "domain.yml", "tests/nlu/heldout.yml"):
        assert (copy / name).read_text() == (source / name).read_text()
    assert not (copy / ".rasa").exists()


def test_the_training_cache_is_linked_and_its_index_is_a_copy_of_its_own(tmp_path):
    source = make_source(tmp_path / "repo")
    copy = copy_workspace(source, tmp_path / "copy", with_training_cache=True)
    cached = Workspace(copy, tmp_path / "state", tmp_path / "models").rasa_cache
    assert cached == copy / ".rasa" / "cache"
    entry = cached / "tmpentry" / "policy.bin"
    assert entry.read_bytes() == b"weights"
    assert entry.stat().st_ino == (source / ".rasa/cache/tmpentry/policy.bin").stat().st_ino
    index = cached / "cache.db"
    assert index.stat().st_ino != (source / ".rasa/cache/cache.db").stat().st_ino
    with sqlite3.connect(index) as db:
        db.execute("INSERT INTO cache_entry VALUES ('new', 'elsewhere')")
    db.close()
    with sqlite3.connect(source / ".rasa/cache/cache.db") as db:
        assert db.execute("SELECT fingerprint_key FROM cache_entry").fetchall() == [("k",)]
    db.close()
