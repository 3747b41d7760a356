"""The words of Shipshape's Slack toolkit: replies when nothing could be done, the incident
and metric cards, App Home, the shared modal buttons, and the 400 answers to malformed Slack
requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.wording import env_name, link, linkable, mrkdwn, plural

if TYPE_CHECKING:
    from storage.records import Deploy


# ---- replies when nothing could be done, or the post failed ---------------------------------


def could_not_post(channel_id: str, text: str) -> str:
    return (
        f"{text}. I could not post this in <#{channel_id}> because I am not a member there: "
        "invite me with `/invite @shipshape` to have these posted in the channel."
    )


def more_lines(count: int) -> str:
    return f"… and {plural(count, 'more line')}: more than one Slack message can hold."


def _yours(command: str | None) -> str:
    return f"your `{command}`" if command else "this"


def database_busy(command: str | None) -> str:
    return (
        f"The database is busy right now, so {_yours(command)} was not recorded: nothing was "
        "stored. Please try again in a moment."
    )


def admin_unconfirmed(command: str | None) -> str:
    return (
        "I could not confirm with Slack that you are a Shipshape admin (Slack did not answer "
        f"in time), so {_yours(command)} was not done: nothing was stored. Please try again "
        "in a moment."
    )


def post_failed(channel_id: str, code: str) -> str:
    return (
        f":warning: Only you can see this: it is recorded, but posting it in <#{channel_id}> "
        f"failed ({code}). No need to run the command again; share this yourself if the "
        "channel should know."
    )


def usage_reply(problem: str, example: str) -> str:
    if not example:
        return f":warning: {problem}"
    return f":warning: {problem}\nFor example: `{example}`"


# ---- the incident card ----------------------------------------------------------------------


def describe_deploy(deploy: Deploy) -> str:
    """ "api v1.2.3 to production"."""
    version = f" {deploy.version}" if deploy.version else ""
    return f"{deploy.service}{version} to {env_name(deploy.environment)}"


NO_DEPLOY_CAUSED = "No deploy caused this (`deploy=none`): it counts in no deploy's failure rate."
CHANGE_LINK = "Change link"


def incident_opened(incident_id: int, service: str, title: str, severity: int | None) -> str:
    sev = f" (sev {severity})" if severity else ""
    return f"Incident #{incident_id} opened on {service}: {title}{sev}"


def incident_resolved_title(incident_id: int, service: str, title: str, took: str) -> str:
    return f"Incident #{incident_id} on {service} resolved after {took}: {title}"


def caused_by(deploy_id: int, what: str, when: str) -> str:
    return f"Caused by deploy #{deploy_id} ({what}, finished {when}): it counts as a failed change."


def not_linked(service: str, started: str) -> str:
    return (
        f"Not linked to a deploy: no successful production deploy of {service} finished at or "
        f"before {started}. Use *{CHANGE_LINK}* if a deploy caused it."
    )


def started_at(when: str) -> str:
    return f"Started {when}"


def resolved_at(when: str) -> str:
    return f"resolved {when}"


def incident_origin(source: str, url: str | None, key: str | None) -> str | None:
    """The incident card's last line, saying which tool it came from with a link to its page
    there (mrkdwn); None for an incident typed in Slack or sent to the API."""
    if source == "gitlab":
        return f"from GitLab: {link(url, mrkdwn(url))}" if url and linkable(url) else "from GitLab"
    if source == "pagerduty":
        return f"from PagerDuty: {link(url, mrkdwn(key or 'incident'))}"
    return None


def private_incident(incident_id: int) -> str:
    """Stands for the title of an incident opened in a private channel, outside it."""
    return f"Incident #{incident_id} (private channel)"


# ---- the metric card ------------------------------------------------------------------------


def dora_metric(name: str, value: str, band: str | None) -> str:
    return f"*{name}*: {value} · *{band}*" if band else f"*{name}*: {value}"


def shared_by(user_id: str) -> str:
    return f"Shared by <@{user_id}>"


# ---- modals ---------------------------------------------------------------------------------
MODAL_SUBMIT = "Save"
MODAL_CANCEL = "Cancel"


# ---- App Home -------------------------------------------------------------------------------
HOME_TITLE = "Shipshape: delivery health"
HOME_INTRO = """Shipshape measures how fast and how safely changes reach users, for teams and services, never for individuals.
*Record what happens*
• `/deploy api v1.2.3`: a deploy reached production (`/deploy help` for every option)
• `/incident open api Checkout errors sev=2`: something broke; it is linked to the deploy that likely caused it
• `/incident resolve 7`: it recovered
*Read the numbers*
• `/dora`: deployment frequency, change lead time, change failure rate, failed deployment recovery time and rework rate
*Hear from engineers*
• `/pulse`: short anonymous surveys about where time is lost"""


HOME_TOP_SERVICES = "*Most deployments, last 30 days*"
HOME_NO_DEPLOYMENTS = (
    "No deployments to production in the last 30 days. Record one with `/deploy api v1.2.3`."
)


def home_top_service(service: str, count: int) -> str:
    return f"• {service}: {plural(count, 'deployment')}"


# Teams are listed by name: DORA's metrics describe one service's delivery, and comparing
# teams by them invites gaming rather than better delivery.
HOME_TEAMS = "*Teams, last 30 days* (by name, not ranked)"


def home_team(
    label: str, deployments: int, lead_median: str | None, failure_rate: str | None
) -> str:
    """One team's row: deployments, median lead time and change failure rate."""
    lead = f"lead time {lead_median}" if lead_median else "lead time unknown"
    failures = f"failure rate {failure_rate}" if failure_rate else "no failure rate"
    return f"• {label}: {plural(deployments, 'deployment')} · {lead} · {failures}"


# ---- malformed requests (answered 400: Slack shows the reason) ------------------------------
SLACK_BODY_NOT_UTF8 = "The body is not UTF-8 text, as Slack sends."
SLACK_PAYLOAD_NO_TYPE = (
    'The payload has no "type" text, as every Slack interaction has, '
    'e.g. {"type": "block_actions", ...}.'
)


def slack_command_missing(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{name}`" for name in names)
    return (
        f"The slash command has no {shown}; Slack sends command, user_id, channel_id, "
        "team_id and trigger_id with every command, e.g. command=/deploy&user_id=U123&..."
    )
