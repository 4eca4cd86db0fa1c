"""``flask forum digest``: topics, categories and tactic notebooks exported to a folder, in every format."""
import io
import json
from pathlib import Path

import html5lib
import jsonschema
import pytest
from markdown_it import MarkdownIt

from bots.tactics import Suggestion
from forum.extensions import db
from forum.models import Role, Topic
from forum.services import posts, review, tactics, topics, users
from tests.api.factories import make_category

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "digest-schema.json").read_text())


@pytest.fixture
def forum(app, make_user):
    """Two topics in a public category (one with an approved training example), one in a private category."""
    author, staff, insider = make_user(username="writer"), make_user(Role.MODERATOR, username="steward"), make_user(username="insider")
    public = make_category("Open dialogues")
    private = make_category("Closed room", restricted_to=(insider,))
    first = topics.create_topic(author, title="Training factory supervisors", raw="## Start\n\nWhat did training change?", category=public)
    example = posts.create_reply(author, first, raw="## Supervisors\n\nWe trained supervisors; call +1 555 010 9999 for the plans.")
    second = topics.create_topic(author, title="Rewarding the shops that say yes", raw="## Start\n\nWho has run a buycott?", category=public)
    hidden = topics.create_topic(insider, title="Our private notes on the mine", raw="## Start\n\nWhat do we tell the mine?", category=private)
    tags = {tag.name: tag for tag in tactics.tactic_tags()}
    [item] = review.file_tactic_suggestions(example, [Suggestion("training", 0.9, ("We trained supervisors",), "test-1")], tags)
    review.perform(staff, item.id, "approve_tag", version=item.version)
    return {"first": first.id, "second": second.id, "hidden": hidden.id, "public": public, "private": private}


def run(app, *arguments):
    return app.test_cli_runner().invoke(args=["forum", "digest", *map(str, arguments)])


def test_exports_topics_in_every_format(app, forum, tmp_path):
    result = run(app, forum["first"], forum["second"], "-f", "md", "-f", "html", "-f", "json", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(f"topic-{topic_id}.{format}" for topic_id in (forum["first"], forum["second"]) for format in ("md", "html", "json"))
    document = json.loads((tmp_path / f"topic-{forum['first']}.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["topic"]["title"] == "Training factory supervisors"
    assert [e["post_number"] for e in document["tactics"][0]["examples"]] == [2]
    tokens = MarkdownIt("commonmark").parse((tmp_path / f"topic-{forum['first']}.md").read_text())
    assert [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h1"] == ["Training factory supervisors"]
    html5lib.HTMLParser(strict=True).parse((tmp_path / f"topic-{forum['second']}.html").read_text())
    assert "Wrote 6 files (2 documents)" in result.output


def test_exports_a_category_and_a_tactic_redacted(app, forum, tmp_path):
    result = run(app, "--category", forum["public"].slug, "--tactic", "training", "-f", "json", "--redact", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"topic-{forum['first']}.json", f"topic-{forum['second']}.json", "tactic-training.json"]
    )
    notebook = json.loads((tmp_path / "tactic-training.json").read_text())
    assert notebook["redacted"] is True and [t["id"] for t in notebook["topics"]] == [forum["first"]]
    for path in tmp_path.iterdir():
        text = path.read_text()
        assert "writer" not in text and "555 010 9999" not in text
    assert "[phone hidden]" in (tmp_path / "tactic-training.json").read_text()


def test_a_category_export_leaves_out_its_unlisted_topics_unless_made_as_staff(app, forum, tmp_path):
    staff = users.find_by_username("steward")
    topics.set_status(staff, db.session.get(Topic, forum["second"]), "visible", False)
    assert run(app, "--category", forum["public"].slug, "-f", "json", "-o", tmp_path / "anonymous").exit_code == 0
    assert [path.name for path in (tmp_path / "anonymous").iterdir()] == [f"topic-{forum['first']}.json"]
    assert run(app, "--category", forum["public"].slug, "-f", "json", "--as", "steward", "-o", tmp_path / "staff").exit_code == 0
    assert sorted(path.name for path in (tmp_path / "staff").iterdir()) == sorted(f"topic-{n}.json" for n in (forum["first"], forum["second"]))


def test_a_private_category_is_exported_only_as_someone_who_may_read_it(app, forum, tmp_path):
    refused = run(app, "--category", forum["private"].id, "-o", tmp_path)
    assert refused.exit_code != 0 and "does not exist" in refused.output
    result = run(app, "--category", str(forum["private"].id), "--as", "insider", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert [path.name for path in tmp_path.iterdir()] == [f"topic-{forum['hidden']}.md"]


def test_unknown_ids_are_a_clear_error_and_nothing_is_written(app, forum, tmp_path):
    out = tmp_path / "out"
    result = run(app, forum["first"], 999999, forum["hidden"], "-o", out)
    assert result.exit_code != 0
    assert f"Unknown topic id(s): 999999, {forum['hidden']}" in result.output and "Nothing was exported" in result.output
    assert not out.exists()
    for arguments in (["--tactic", "no-such-tactic"], ["--category", "no-such-category"], ["--as", "nobody", forum["first"]]):
        result = run(app, *arguments, "-o", out)
        assert result.exit_code != 0 and result.output.startswith("Error:"), result.output
    assert run(app, "-o", out).exit_code != 0  # nothing named
    assert not out.exists()


def test_a_long_run_shows_progress_on_a_terminal(app, forum, tmp_path, monkeypatch):
    """tqdm draws only on a terminal; made to draw here, its bar reaches the end."""
    import tqdm

    bar, real_tqdm = io.StringIO(), tqdm.tqdm
    monkeypatch.setattr(tqdm, "tqdm", lambda *args, **kwargs: real_tqdm(*args, **{**kwargs, "disable": False, "file": bar}))
    result = run(app, forum["first"], forum["second"], "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert "Exporting digests: 100%" in bar.getvalue() and "2/2" in bar.getvalue()
