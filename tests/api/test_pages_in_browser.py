"""The pages the forum serves (topic digests, tactic notebooks, Discourse's print view, the forms mailed links open) in
a real browser: headless Chromium driven by Playwright, against the app behind a real HTTP server.

What no parser on the server side shows: what Chromium itself builds from a page, loads for it and runs in it.
A page must load nothing but itself (the print view: images at most, as its policy allows), run no script,
break no rule of its own Content Security Policy (a violation would mean the sanitiser let through something
only the policy stopped), and print. The XSS corpus goes through every page, under the page's policy and with
the policy switched off, so that the sanitiser alone is shown to keep the payloads inert.

Chromium comes from the system (Debian's package ``chromium``; FORUM_CHROMIUM names another binary). Without it
these tests skip, unless FORUM_REQUIRE_SERVICES=1 (CI), where they fail.
"""
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from forum.database import write_unit
from forum.extensions import db
from forum.models import EmailLevel, EmailTokenPurpose, User
from forum.services import email_tokens, unsubscribes, users
from tests.api.demo_dialogue import APPROVED, DIALOGUE
from tests.api.factories import set_columns
from tests.databases import unavailable
from tests.xss_corpus import ALLOWED_TAGS, DANGEROUS_SCHEMES, PAYLOADS, URL_ATTRIBUTES, payload_topic

# As headless Chromium runs as root on a closed network: no sandbox, no GPU, none of its own calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
# The elements the digest template itself writes: user text adds none.
DIGEST_TAGS = frozenset({"header", "section", "article", "h1", "h2", "h3", "h4", "dl", "dt", "dd", "p", "ul", "ol", "li", "a", "blockquote"})
DIGEST_SECTIONS = ["Counts", "Participants", "Guiding questions", "Summary", "Examples by tactic", "Resources mentioned",
                   "Unanswered questions"]  # fmt: skip
# Recorded before the page's own content runs: what the Content Security Policy refused.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.effectiveDirective} ${event.blockedURI} ${event.sample}`);
});
"""
# Every reason the document Chromium built would run a script or carry one, under ``root``. Arguments: the selector of
# the roots to search, the tags allowed in them, the attributes that hold URLs, the URL schemes refused.
HARM_IN_DOM = """
([rootSelector, allowedTags, urlAttributes, dangerousSchemes]) => {
  const harm = [];
  for (const root of document.querySelectorAll(rootSelector)) {
    for (const element of root.querySelectorAll("*")) {
      const tag = element.localName;
      if (!allowedTags.includes(tag)) harm.push(`element <${tag}>`);
      for (const attribute of element.attributes) {
        const name = attribute.localName.toLowerCase();
        if (name.startsWith("on")) harm.push(`<${tag} ${name}>`);
        if (urlAttributes.includes(name)) {
          let scheme = "";
          try { scheme = new URL(attribute.value, document.baseURI).protocol; } catch (error) { continue; }
          if (dangerousSchemes.includes(scheme)) harm.push(`<${tag} ${name}="${attribute.value}">`);
        }
      }
    }
  }
  if (document.scripts.length) harm.push(`${document.scripts.length} script elements`);
  if (window.frames.length) harm.push(`${window.frames.length} frames`);
  return harm;
}
"""


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("FORUM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        unavailable("Chromium not found (apt-get install chromium, or set FORUM_CHROMIUM to a Chromium or Chrome binary)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page as Chromium loaded it, and everything it tried to do meanwhile."""

    page: object
    status: int
    requests: list[tuple[str, str]] = field(default_factory=list)  # (resource type, URL), beyond the page itself
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught errors and console errors

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations")

    def harm(self, root_selector: str, allowed_tags) -> list[str]:
        return self.page.evaluate(HARM_IN_DOM, [root_selector, sorted(allowed_tags), sorted(URL_ATTRIBUTES), list(DANGEROUS_SCHEMES)])

    def tags_in(self, root_selector: str) -> set[str]:
        return set(self.page.evaluate("(selector) => [...document.querySelectorAll(selector)].map((e) => e.localName)", root_selector))


@pytest.fixture
def visit(browser):
    """``visit(url, bypass_csp=False)``: the page loaded in a fresh browser context. Requests other than for the page
    itself are recorded and refused (this machine's network is closed anyway); dialogs are recorded and dismissed."""
    contexts = []

    def open_page(url: str, *, bypass_csp: bool = False) -> Visit:
        context = browser.new_context(bypass_csp=bypass_csp)
        contexts.append(context)
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        seen = Visit(page, 0)

        def route(request_route):
            request = request_route.request
            if request.url == url:
                request_route.continue_()
            else:
                seen.requests.append((request.resource_type, request.url))
                request_route.abort()

        def dialog(opened):
            seen.dialogs.append(f"{opened.type}: {opened.message}")
            opened.dismiss()

        page.route("**/*", route)
        page.on("dialog", dialog)
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.on("console", lambda message: seen.errors.append(message.text) if _is_error(message) else None)
        response = page.goto(url, wait_until="load")
        seen.status = response.status
        return seen

    yield open_page
    for context in contexts:
        context.close()


def _is_error(message) -> bool:
    """A console error, other than Chromium's note on a request this test refused (those are in ``requests``)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def pdf_pages(document: bytes) -> int:
    assert document.startswith(b"%PDF-")
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", document))


def test_topic_digest_in_chromium_loads_nothing_runs_nothing_and_prints(live_server, visit, demo):
    seen = visit(f"{live_server}/t/{demo.id}/digest.html")
    assert seen.status == 200
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    page = seen.page
    assert page.title() == f"Digest: {DIALOGUE['title']}"
    assert page.locator("h1").inner_text() == DIALOGUE["title"]
    assert page.locator("body > section > h2").all_inner_texts() == DIGEST_SECTIONS
    shown = {section.locator("h3").inner_text(): section.locator("article.example").count() for section in page.locator("section.tactic").all()}
    assert shown == Counter(tactic for _, tactic in APPROVED)
    assert page.locator("#summary li").count() > 0 and page.locator("#summary li").first.is_visible()

    # Printed: links to other sites show their address after their text, and the page makes a PDF of several pages.
    page.emulate_media(media="print")
    resource = page.locator("#resources a[href^='http']").first
    address = resource.get_attribute("href")
    assert resource.evaluate("(a) => getComputedStyle(a, '::after').content") == f'" <{address}>"'
    assert pdf_pages(page.pdf(format="A4")) >= 2
    page.emulate_media(media="screen")
    assert resource.evaluate("(a) => getComputedStyle(a, '::after').content") == "none"


def test_tactic_notebook_in_chromium(live_server, visit, demo):
    seen = visit(f"{live_server}/tag/training/digest.html")
    assert seen.status == 200
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    page = seen.page
    assert page.title() == "Tactic notebook: training"
    assert page.locator("section.topic h2").all_inner_texts() == [DIALOGUE["title"]]
    assert page.locator("section.topic article.example").count() == sum(1 for _, tactic in APPROVED if tactic == "training")
    assert pdf_pages(page.pdf(format="A4")) >= 1


def test_print_view_in_chromium_shows_every_post_with_its_subject(live_server, visit, demo):
    seen = visit(f"{live_server}/t/{demo.slug}/{demo.id}/print")
    assert seen.status == 200
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    page = seen.page
    subjects = [spec["raw"].strip().splitlines()[0].removeprefix("## ") for spec in DIALOGUE["posts"]]
    assert page.locator("article.post .cooked > h2:first-child").all_inner_texts() == subjects
    assert seen.harm(".cooked", ALLOWED_TAGS) == []
    page.emulate_media(media="print")
    assert pdf_pages(page.pdf(format="A4")) > 5  # 31 posts


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["under the page's policy", "policy off, the sanitiser alone"])
def test_xss_corpus_stays_inert_in_chromium(live_server, visit, member, bypass_csp):
    topic = payload_topic(member)

    printed = visit(f"{live_server}/t/{topic.slug}/{topic.id}/print", bypass_csp=bypass_csp)
    assert printed.status == 200
    assert printed.page.locator("article.post").count() == len(PAYLOADS) + 1
    assert (printed.dialogs, printed.errors, printed.violations()) == ([], [], [])
    # Images are the posts' own (their addresses are payloads too); nothing else is ever fetched.
    assert {kind for kind, _ in printed.requests} <= {"image"}
    assert printed.harm(".cooked", ALLOWED_TAGS) == []

    # The digests quote the payloads as text: they add no element to the page's own.
    for path, title in ((f"/t/{topic.id}/digest.html", "h1"), ("/tag/training/digest.html", "section.topic h2")):
        seen = visit(live_server + path, bypass_csp=bypass_csp)
        assert seen.status == 200
        assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], []), path
        assert seen.tags_in("body *") <= DIGEST_TAGS, path
        assert seen.harm("body", DIGEST_TAGS) == [], path
        assert seen.page.locator(title).inner_text() == "Payloads <script>alert(1)</script> **x**"
        assert seen.page.locator("article.example").count() == len(PAYLOADS)


def test_password_reset_page_in_chromium_sets_the_password(live_server, visit, member):
    with write_unit(db.session):
        token = email_tokens.issue(member, EmailTokenPurpose.PASSWORD_RESET, member.email)
    seen = visit(f"{live_server}/u/password-reset/{token}")
    assert seen.status == 200
    page = seen.page
    assert page.locator("form strong").inner_text() == "member"
    page.fill("#password", "a brand new passphrase")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("[role=status]").inner_text().startswith("Your password was changed.")
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    db.session.rollback()
    assert users.authenticate("member", "a brand new passphrase") is not None


def test_new_address_page_in_chromium_changes_nothing_until_confirmed(live_server, visit, member):
    with write_unit(db.session):
        token = email_tokens.issue(member, EmailTokenPurpose.EMAIL_CHANGE, "amara@ngo.example.org")
    seen = visit(f"{live_server}/u/confirm-new-email/{token}")
    assert seen.status == 200
    db.session.rollback()
    assert users.find_by_email("amara@ngo.example.org") is None
    with seen.page.expect_navigation():
        seen.page.click("button[type=submit]")
    assert seen.page.locator("[role=status]").inner_text() == "amara@ngo.example.org is now the email address of member."
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    db.session.rollback()
    assert users.find_by_email("amara@ngo.example.org").id == member.id


@pytest.mark.parametrize("kind", ["activation", "unsubscribe"])
def test_activation_and_unsubscribe_pages_in_chromium_act_only_on_their_button(live_server, visit, make_user, kind):
    waiting = make_user(username="waiting")
    if kind == "activation":
        set_columns(User, waiting.id, active=False)
        with write_unit(db.session):
            path = "/u/activate-account/" + email_tokens.issue(db.session.get(User, waiting.id), EmailTokenPurpose.ACTIVATION, waiting.email)
    else:
        path = urlsplit(unsubscribes.link_for(waiting)).path
    seen = visit(live_server + path)
    assert seen.status == 200 and seen.page.locator("form strong").first.inner_text() == "waiting"
    db.session.rollback()
    assert (db.session.get(User, waiting.id).active, db.session.get(User, waiting.id).email_level) == (
        kind != "activation", EmailLevel.ONLY_WHEN_AWAY)  # opening the page changed nothing
    with seen.page.expect_navigation():
        seen.page.click("button[type=submit]")
    assert "waiting" in seen.page.locator("[role=status]").inner_text()
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    db.session.rollback()
    user = db.session.get(User, waiting.id)
    assert user.active if kind == "activation" else user.email_level == EmailLevel.NEVER


def test_invitation_page_in_chromium_makes_the_account(live_server, visit, moderator):
    from forum.services import invites
    from tests.api.test_invites import mailed_proof

    request = invites.check_request(moderator, custom_message="Join our dialogue on <b>trainings</b>.",
                                    max_redemptions_allowed=None, topic_id=None, group_ids=[], group_names=[], expires_at=None)
    issued = invites.invite_by_email(moderator, request, "browser_invitee@example.org", skip_email=True)
    seen = visit(f"{live_server}/invites/{issued.key}?t={mailed_proof(issued.invite.id)}")
    assert seen.status == 200
    page = seen.page
    assert page.locator("form blockquote").inner_text() == "Join our dialogue on <b>trainings</b>."
    page.fill("#username", "browser_joiner")
    page.fill("#password", "a long enough password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("[role=status]").inner_text().startswith("Welcome, browser_joiner")
    assert (seen.requests, seen.dialogs, seen.errors, seen.violations()) == ([], [], [], [])
    db.session.rollback()
    joined = users.find_by_username("browser_joiner")
    assert (joined.email, joined.active) == ("browser_invitee@example.org", True)
