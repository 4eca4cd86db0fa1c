"""Email to members. A service renders its message (forum/templates/mail/) and queues it; a worker delivers it once
the write unit that made it commits (nothing is mailed about a change that rolled back), by SMTP with Flask-Mail.
With no ``MAIL_SERVER`` configured the worker sends nothing and logs that; with ``MAIL_LOG_UNSENT`` (``make run``) it
logs each message whole, so a developer can follow the links. Each message is one template: its first line is the subject, the rest the plain-text body."""
import logging
import smtplib

from flask import current_app, render_template
from flask_mail import Message

from forum.database import after_commit
from forum.extensions import mail

logger = logging.getLogger(__name__)


def queue(to: str, template: str, *, headers: dict[str, str] | None = None, **context) -> None:
    """Mail ``template`` rendered with ``context`` to ``to`` once the caller's write unit commits, with ``headers``
    besides the usual ones."""
    subject, _, body = render_template(f"mail/{template}.txt", **context).partition("\n")
    message = {"to": to, "subject": subject.strip(), "body": body.strip() + "\n", "headers": headers or {}}
    after_commit(lambda: _hand_to_worker(message))


def _hand_to_worker(message: dict) -> None:
    from bots.tasks import send_email  # the tasks import the services

    send_email.delay(message)


def deliver(message: dict) -> None:
    """Send one queued message (the worker's side of ``queue``)."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        if config["MAIL_LOG_UNSENT"]:
            logger.warning("No MAIL_SERVER is set, so this message was not sent:\nTo: %s\nSubject: %s\n\n%s",
                           message["to"], message["subject"], message["body"])
        else:
            logger.error("No MAIL_SERVER is set: a message to %s (%r) was not sent", message["to"], message["subject"])
        return
    try:
        mail.send(Message(subject=message["subject"], recipients=[message["to"]], body=message["body"],
                          sender=config["MAIL_DEFAULT_SENDER"], extra_headers=message.get("headers")))
    except smtplib.SMTPException as error:
        if not _refused_for_good(error):
            raise  # the task tries again later
        logger.error("The mail server refused a message to %s (%r) for good: %s", message["to"], message["subject"], error)


def _refused_for_good(error: smtplib.SMTPException) -> bool:
    """A 5xx answer (RFC 5321's permanent failures: no such mailbox, a sender refused) will not change on a retry;
    a 4xx one, or a dropped connection, may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500
