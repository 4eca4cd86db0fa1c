"""``flask forum ...`` commands."""
import json
from functools import partial
from pathlib import Path

import click
from flask.cli import AppGroup

from forum.content.digests import FORMATS as DIGEST_FORMATS
from forum.models import Role
from forum.services import rebake, users
from forum.services.errors import ServiceError

forum_cli = AppGroup("forum", help="Manage the forum: users, API keys, demo data, maintenance.")


def _fail(error: ServiceError):
    raise click.ClickException(" ".join(error.messages))


@forum_cli.command("create-user")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default=None, help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value, show_default=True)
def create_user_command(username, email, password, name, role):
    """Create a user who can sign in with a password."""
    try:
        user = users.create_user(username, email=email, password=password, name=name, role=role)
    except ServiceError as error:
        _fail(error)
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@forum_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(username, password):
    """Give USERNAME a new password (the forum sends no reset mail); signs them out everywhere."""
    try:
        users.set_password(users.get_by_username(username), password)
    except ServiceError as error:
        _fail(error)
    click.echo(f"New password set for {username}; their sessions have ended.")


@forum_cli.command("api-key")
@click.argument("username")
@click.option("--all-users", is_flag=True, help="An admin key that may act as any user (Api-Username).")
@click.option("--description", default=None)
def api_key_command(username, all_users, description):
    """Create an API key for USERNAME; the key is printed on the last line, once."""
    try:
        owner = users.get_by_username(username)
        if all_users and not owner.is_admin:
            raise click.ClickException("--all-users keys can only be created by an admin.")
        _, plain = users.create_api_key(None if all_users else owner, created_by=owner, description=description)
    except ServiceError as error:
        _fail(error)
    scope = "all users" if all_users else username
    click.echo(f"API key for {scope} (shown once; use it with the Api-Key and Api-Username headers):")
    click.echo(plain)


@forum_cli.command("demo")
def demo_command():
    """Load the demo forum (idempotent): users, categories and a threaded dialogue."""
    from forum.demo import load_demo

    result = load_demo()
    click.echo(
        f"Demo data: {result.users_created} users, {result.categories_created} categories, "
        f"{result.topics_created} topics created ({result.posts_created} posts), {result.summaries_made} summarised."
    )
    click.echo(f"Demo admin: username {result.admin_username}, password {result.admin_password}")


@forum_cli.command("rebake")
def rebake_command():
    """Queue every post to be re-rendered by the worker (after a renderer or allowlist change)."""
    from bots.tasks import rebake_post

    post_ids = rebake.post_ids_to_rebake()
    for post_id in post_ids:
        rebake_post.delay(post_id)
    click.echo(f"Queued {len(post_ids)} posts for rebaking.")


@forum_cli.command("digest")
@click.argument("topic_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--category", "categories", multiple=True, metavar="ID_OR_SLUG", help="Every topic of a category (repeatable).")
@click.option("--tactic", "tactic_names", multiple=True, metavar="NAME", help="A tactic notebook across topics (repeatable).")
@click.option("--format", "-f", "formats", multiple=True, type=click.Choice(DIGEST_FORMATS), default=("md",), show_default=True,
              help="Repeat for several formats.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="The folder to write to.")
@click.option("--redact", is_flag=True, help="Pseudonymous participants; e-mail addresses and phone numbers masked.")
@click.option("--as", "username", metavar="USERNAME", help="Export what this user may see (default: what anyone may see signed out).")
def digest_command(topic_ids, categories, tactic_names, formats, output, redact, username):
    """Export digests of topics (TOPIC_IDS, --category) and tactic notebooks (--tactic) to a folder, one file
    per document and format: topic-<id>.<format>, tactic-<name>.<format>."""
    from tqdm import tqdm

    from forum.content.digests import render
    from forum.services import digests, tactics

    try:
        viewer = users.get_by_username(username) if username else None
        wanted_topics = list(dict.fromkeys(topic_ids))
        for category in categories:
            wanted_topics += [topic_id for topic_id in digests.category_topic_ids(viewer, category) if topic_id not in wanted_topics]
        tactic_tags = [tactics.get_tactic_tag(name) for name in tactic_names]
    except ServiceError as error:
        _fail(error)
    unknown = digests.unknown_topic_ids(viewer, wanted_topics)
    if unknown:
        raise click.ClickException(
            f"Unknown topic id(s): {', '.join(map(str, unknown))} (no such topic, or {username or 'an anonymous visitor'} "
            "may not see it). Nothing was exported."
        )
    if not wanted_topics and not tactic_tags:
        raise click.ClickException("Name topics (TOPIC_IDS or --category) or tactics (--tactic) to export.")
    output.mkdir(parents=True, exist_ok=True)
    jobs = [(f"topic-{topic_id}", partial(digests.topic_digest, viewer, topic_id, redact=redact)) for topic_id in wanted_topics]
    jobs += [(f"tactic-{tag.name}", partial(digests.tactic_notebook, viewer, tag.name, redact=redact)) for tag in tactic_tags]
    # tqdm draws on stderr only when it is a terminal, so logs and pipes get the last line alone.
    for stem, assemble in tqdm(jobs, desc="Exporting digests", unit="digest", disable=None):
        document = assemble()
        for format in formats:
            rendered = render(document, format)
            text = json.dumps(rendered, ensure_ascii=False, indent=2) + "\n" if format == "json" else rendered
            (output / f"{stem}.{format}").write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(jobs) * len(formats)} files ({len(jobs)} documents) to {output}.")
