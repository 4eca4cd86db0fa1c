"""``flask forum ...`` commands."""
import click
from flask.cli import AppGroup

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
