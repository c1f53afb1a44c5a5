"""The words of the customer's window, sent in the ``welcome`` in the customer's language so
that they are kept and translated with the rest of Atende (locale/). ``{name}`` marks are
filled in by the window."""

from django.utils.translation import gettext_lazy as _

STRINGS = {
    "open": _("Chat with us"),
    "close": _("Close the chat"),
    "unread": _("{count} new messages"),
    "message": _("Your message"),
    "placeholder": _("Write your message…"),
    "send": _("Send"),
    "choose": _("What is it about?"),
    "name": _("Your name (optional)"),
    "email": _("Your email (optional)"),
    "you": _("You"),
    "position": _("You are number {position} in the queue."),
    "estimate": _("Estimated wait: about {minutes} min."),
    "estimate_soon": _("Estimated wait: less than a minute."),
    "waiting": _("Your message arrived: someone will answer soon."),
    "reserved": _("Waiting for the person who usually answers you."),
    "answering": _("{agent} is answering."),
    "closed_team_at": _("We are closed now and open {when}. Your message will wait for us."),
    "closed_team": _("We are closed now. Your message will wait for us."),
    "team_closed_choice": _("closed now, opens {when}"),
    "team_closed_choice_plain": _("closed now"),
    "conversation_closed": _("This conversation is closed."),
    "rate_question": _("How was it?"),
    "rate_score": _("{score} of 5"),
    "comment": _("A comment (optional)"),
    "rate_send": _("Send rating"),
    "rated": _("Thank you for your rating."),
    "write_again": _("Write again to start a new conversation."),
    "reconnecting": _("Connection lost: reconnecting…"),
    "conversation": _("Conversation"),
}


def strings() -> dict:
    return {key: str(value) for key, value in STRINGS.items()}
