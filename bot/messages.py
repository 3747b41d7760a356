"""Every sentence Shipshape says to a person, in one place.

Errors say what was found and how to fix it; usage errors come with a correct example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.windows import FIRST_DAY, LAST_DAY

if TYPE_CHECKING:
    from storage.records import Deploy

# ---- user text in Slack ------------------------------------------------------------------


def mrkdwn(text: str) -> str:
    """Text a person or GitHub wrote, made safe to put in mrkdwn (a section, a context, a
    message's `text`). Slack reads `<...>` as mentions and links (`<!channel>`,
    `<@U...>`, `<http://evil|Click>`) and `&` as the start of an entity; escaped as Slack's
    "Escaping text" says, they show exactly as written. Only for Slack: the CLI prints the
    real text, and plain_text objects (headers, buttons, modal fields) are never escaped.
    Apply it once, to the raw value: escaping twice would show `&amp;lt;`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- generic command errors ----------------------------------------------------------------

UNCLOSED_QUOTE = 'A double quote is not closed. Put values with spaces in matching double quotes: at="2026-11-20 14:05".'
INTERNAL_ERROR = (
    "Something went wrong on Shipshape's side and nothing was stored. "
    "Please try again; if it keeps happening, ask whoever runs Shipshape to check its log."
)


def could_not_post(channel_id: str, text: str) -> str:
    return (
        f"{text}. I could not post this in <#{channel_id}> because I am not a member there: "
        "invite me with `/invite @shipshape` to have these posted in the channel."
    )


def more_lines(count: int) -> str:
    return f"… and {count} more {'line' if count == 1 else 'lines'}: more than one Slack message can hold."


# ---- answers when nothing could be done, or the post failed --------------------------------


def _yours(command: str | None) -> str:
    return f"your `{command}`" if command else "this"


def database_busy(command: str | None) -> str:
    return (
        f"The database is busy right now, so {_yours(command)} was not recorded: nothing was "
        "stored. Please try again in a moment."
    )


def database_busy_cli(waited: float) -> str:
    return (
        "The database is busy: another program (the bot, a backup, a sqlite3 shell) kept it "
        f"for the {waited:.0f} seconds I waited, so nothing was stored. Try again in a moment."
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


GITHUB_WEBHOOK_BUSY = (
    "The database is busy right now, so nothing of this delivery was stored; redeliver it "
    "from GitHub in a minute."
)


def usage_reply(problem: str, example: str) -> str:
    if not example:
        return f":warning: {problem}"
    return f":warning: {problem}\nFor example: `{example}`"


def text_too_long(length: int, limit: int) -> str:
    return f"That command is {length} characters long; the limit is {limit}. Shorten it."


def unknown_key(key: str, known: Sequence[str]) -> str:
    options = ", ".join(f"`{k}=`" for k in known) or "none"
    return f"`{key}=` is not an option here. Options: {options}."


def unknown_flag(flag: str, known: Sequence[str]) -> str:
    flags = ", ".join(f"`--{f}`" for f in known) or "none"
    return f"`{flag}` is not a flag here. Flags: {flags}."


def flag_takes_no_value(flag: str) -> str:
    return f"`--{flag}` takes no value. Write it alone: `--{flag}`."


def repeated_key(key: str) -> str:
    return f"`{key}` is given twice. Give each option once."


def empty_value(key: str) -> str:
    return f"`{key}=` has no value. Write it as `{key}=VALUE`, quoting values with spaces."


def unexpected_words(words: Sequence[str], grammar: str) -> str:
    shown = " ".join(words)
    return f"I did not expect `{shown}` there. The form is `{grammar}`; quote values with spaces."


def bad_limit(value: int, maximum: int) -> str:
    return f"{value} is not a number of rows I can show. Use a number from 1 to {maximum}."


def bad_id(kind: str, value: str) -> str:
    return f"`{value}` is not a {kind} id. Ids are numbers, like `42` or `#42`."


def bad_service(value: str) -> str:
    return (
        f"`{value}` is not a service name. Use letters, digits, `.`, `_`, `-` or `/`, "
        "starting with a letter or digit (at most 80 characters), like `api` or `checkout-web`."
    )


def bad_env(value: str, limit: int) -> str:
    return (
        f"`{value[:40]}` is not an environment name: give one of 1 to {limit} characters, "
        'like `env=staging` or, with spaces, `env="eu west"`.'
    )


def env_name(env: str) -> str:
    """An environment as replies show it: quoted when it has spaces, as it is typed."""
    return f'"{env}"' if any(c.isspace() for c in env) else env


# What a good value of each free-text field looks like, for refusals that name a field.
_FIELD_EXAMPLES = {
    "service": ("service name", "api"),
    "version": ("version", "v1.2.3"),
    "env": ("environment", "env=staging"),
    "sha": ("commit sha", "sha=a1b2c3d"),
    "repo": ("repository", "repo=acme/api"),
    "url": ("link", "url=https://ci.example.com/run/7"),
    "title": ("title", "Checkout errors"),
}


def unprintable(key: str, found: str) -> str:
    what, example = _FIELD_EXAMPLES.get(key, (key, ""))
    like = f", like `{example}`" if example else ""
    return (
        f"The {what} contains {found}, an invisible character that can hide or reorder what "
        f"people read. Type it again without it{like}."
    )


def bad_version(value: str, limit: int) -> str:
    return f"`{value[:40]}` is not a version: use one word of at most {limit} characters, like `v1.2.3`."


def bad_sha(value: str) -> str:
    return f"`{value}` is not a commit sha. Give 7 to 40 hex characters, like `sha=a1b2c3d`."


def bad_repo(value: str) -> str:
    return f"`{value}` is not a GitHub repository. Write it as OWNER/NAME, like `repo=acme/api`."


URL_EXAMPLE = "url=https://ci.example.com/run/7"
URL_NOT_HTTP = "it does not start with http:// or https://"
URL_NO_HOST = "it names no host"
URL_UNREADABLE = "it has a host or port that cannot be read"


def url_has(char: str) -> str:
    return "it has a space in it" if char.isspace() else f"it has `{char}` in it"


def bad_url(value: str, problem: str) -> str:
    return (
        f"`{value[:80]}` is not a link: {problem}. Give one full http(s) URL, like `{URL_EXAMPLE}`."
    )


def url_too_long(length: int, limit: int) -> str:
    return f"The link is {length} characters long; the limit is {limit}. Give a shorter one, like `{URL_EXAMPLE}`."


def bad_status(value: str) -> str:
    return f"`status={value}` is not a deploy status. Use `status=success` or `status=failed`."


def bad_severity(value: str) -> str:
    return f"`sev={value}` is not a severity. Use 1 (most severe) to 4, like `sev=2`."


def bad_time(key: str, value: str, reason: str, tz: str) -> str:
    if reason == "future":
        return f"`{key}={value}` is in the future. Record things once they have happened."
    if reason == "too_old":
        return f"`{key}={value}` is before the year 2000. Check the date."
    return (
        f"I can't read `{key}={value}` as a time. Use ISO-8601 like `{key}=2026-11-20T14:05Z`, "
        f'or `{key}="2026-11-20 14:05"` (taken in {tz}), or `{key}="15m ago"`, `{key}="2h ago"`, '
        f'`{key}="yesterday 14:00"`.'
    )


def deploy_not_found(deploy_id: int) -> str:
    return (
        f"There is no deploy #{deploy_id}. `/deploy list` shows the latest deploys and their ids."
    )


def incident_not_found(incident_id: int) -> str:
    return (
        f"There is no incident #{incident_id}. `/incident list all` shows incidents and their ids."
    )


def already_recorded(kind: str, record_id: int) -> str:
    return f"{kind} #{record_id} was already recorded from this request; nothing was added."


# ---- /deploy -------------------------------------------------------------------------------

DEPLOY_GRAMMAR = (
    "/deploy SERVICE [VERSION] [env=ENV] [sha=SHA] [repo=OWNER/NAME] [at=TIME] "
    "[status=success|failed] [url=URL] [--hotfix] [--rollback[=DEPLOY_ID]]"
)
DEPLOY_EXAMPLE = "/deploy api v1.2.3 env=production sha=a1b2c3d"
DEPLOY_LIST_GRAMMAR = "/deploy list [SERVICE] [N]"
DEPLOY_LIST_EXAMPLE = "/deploy list api 10"
DEPLOY_UNDO_EXAMPLE = "/deploy undo 42"
MISSING_SERVICE = "The service is missing. Name the service that was deployed."
UNDO_NEEDS_ONE_ID = "Name one deploy to undo by its id."
UNDO_MISSING_ID = "The deploy id is missing. Name the deploy to undo by its id."
HOTFIX = "hotfix"
DEPLOY_HELP = f"""*Record a deploy*
`{DEPLOY_GRAMMAR}`
• `/deploy api v1.2.3`: api v1.2.3 reached production just now
• `/deploy web env=staging at="15m ago"`: a staging deploy 15 minutes ago
• `/deploy api v1.2.4 --hotfix`: an unplanned fix (counts toward rework rate)
• `/deploy api v1.2.2 --rollback`: rolls back the previous successful api deploy, which then counts as a failed change (`--rollback=42` names it)
• `/deploy api status=failed`: an attempt that never reached production (counted apart, in no metric)
Times: ISO-8601 (`at=2026-11-20T14:05Z`, `at="2026-11-20 14:05"` in the team time zone) or `at="15m ago"`, `at="yesterday 14:00"`.
*Other forms*
• `{DEPLOY_LIST_GRAMMAR}`: the latest deploys (10 by default)
• `/deploy undo ID`: delete a deploy recorded by mistake (within 24 hours from the channel it was recorded in; later, admins only)
• `/deploy` alone opens a form."""


def describe_deploy(deploy: Deploy) -> str:
    """ "api v1.2.3 to production"."""
    version = f" {deploy.version}" if deploy.version else ""
    return f"{deploy.service}{version} to {env_name(deploy.environment)}"


def deploy_recorded(deploy_id: int, what: str, failed: bool) -> str:
    sentence = f"Deploy #{deploy_id} recorded: {what}"
    if failed:
        sentence += " (failed attempt: it never reached users, so it counts in no metric)"
    return sentence


def recorded_by(user_id: str) -> str:
    return f"Recorded by <@{user_id}>"


def finished_at(when: str) -> str:
    return f"finished {when}"


def at_sha(short_sha: str, repo: str | None) -> str:
    return f"`{short_sha}` in {repo}" if repo else f"`{short_sha}`"


def rolls_back(deploy_id: int, what: str) -> str:
    return f"rolls back #{deploy_id} ({what}), which now counts as a failed change"


def rollback_of(deploy_id: int) -> str:
    return f"rollback of #{deploy_id}"


def link(url: str) -> str:
    """The deploy's `url=` as its own text, never under a label of ours: a label would let
    whoever recorded it dress any address up as "details" (`url` comes escaped, and was
    checked to be one clean http(s) URL with no `<`, `>` or `|`)."""
    return f"details: <{url}>"


def no_previous_deploy(service: str, env: str) -> str:
    return (
        f"There is no earlier successful deploy of {service} to {env_name(env)} to roll back. "
        "Name the deploy with `--rollback=ID` (see `/deploy list`)."
    )


def rollback_other_service(deploy_id: int, its_service: str, service: str) -> str:
    return (
        f"Deploy #{deploy_id} is of {its_service}, not {service}. A rollback undoes a deploy "
        f"of the same service: check the id with `/deploy list {service}`."
    )


def rollback_other_environment(deploy_id: int, its_env: str, env: str) -> str:
    return (
        f"Deploy #{deploy_id} went to {env_name(its_env)}, not {env_name(env)}. A rollback "
        f"undoes a deploy to the same environment: add `env={env_name(its_env)}` or check the "
        "id with `/deploy list`."
    )


def rollback_of_failed(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} was a failed attempt that never reached production, so there is "
        "nothing to roll back. Name the successful deploy you rolled back."
    )


def rollback_before_target(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} finished after this one, so this cannot roll it back. "
        "Check `at=` or the id."
    )


def no_deploys(service: str | None) -> str:
    return f"No deploys of {service} recorded yet." if service else "No deploys recorded yet."


def deploy_list_header(count: int, service: str | None, tz: str) -> str:
    what = f" of {service}" if service else ""
    return f"*Latest {count} deploys{what}* (times in {tz})"


def deploy_list_line(deploy_id: int, when: str, what: str, marks: Sequence[str]) -> str:
    return f"`#{deploy_id}` {when} · {what} · {', '.join(marks)}"


def undo_not_allowed(deploy_id: int, source: str, hours: int) -> str:
    if source != "slack":
        return f"Deploy #{deploy_id} came from {source}; only a Shipshape admin can delete it."
    return (
        f"Deploy #{deploy_id} can be undone by anyone only within {hours} hours of recording it "
        "and from the channel it was recorded in. Ask a Shipshape admin (SHIPSHAPE_ADMINS or a "
        "workspace admin) to delete it."
    )


def deploy_deleted(
    deploy_id: int, what: str, unlinked: Sequence[int], rollbacks: Sequence[int]
) -> str:
    lines = [f"Deploy #{deploy_id} ({what}) deleted."]
    for incident_id in unlinked:
        lines.append(f"Incident #{incident_id} was linked to it and is now unlinked.")
    for other in rollbacks:
        lines.append(f"Deploy #{other} rolled it back and no longer counts as a rollback.")
    return "\n".join(lines)


# ---- /incident -----------------------------------------------------------------------------

INCIDENT_OPEN_EXAMPLE = '/incident open api Checkout errors sev=2 at="15m ago"'
INCIDENT_RESOLVE_EXAMPLE = "/incident resolve 7"
INCIDENT_LINK_EXAMPLE = "/incident link 7 deploy=42"
INCIDENT_LIST_EXAMPLE = "/incident list all"
MISSING_SERVICE_AND_TITLE = (
    "The service and the title are missing. Name the affected service and describe the incident."
)
MISSING_INCIDENT_SERVICE = "The service is missing. Name the affected service."
MISSING_TITLE = "The title is missing. Describe the incident in a few words after the service name."
RESOLVE_NEEDS_ONE_ID = "Name one incident to resolve by its id."
RESOLVE_MISSING_ID = "The incident id is missing. Name the incident to resolve by its id."
LINK_NEEDS_ID_AND_DEPLOY = (
    "Name the incident and its cause: an incident id and `deploy=ID` or `deploy=none`."
)
LINK_MISSING_ID = "The incident id is missing. Name the incident, then its cause."
LINK_MISSING_DEPLOY = (
    "The cause is missing. After the incident id give `deploy=ID`, or `deploy=none` when no "
    "deploy caused it."
)
NO_DEPLOY_CAUSED = "No deploy caused this (`deploy=none`): it counts in no deploy's failure rate."
CHANGE_LINK = "Change link"
STILL_OPEN = "open"
INCIDENT_HELP = f"""*Record incidents*
• `/incident open SERVICE TITLE... [sev=1|2|3|4] [deploy=ID|none] [at=TIME]`: an incident that started at `at` (default now). It is linked to the latest successful production deploy of SERVICE at or before its start, unless `deploy=ID` names the cause or `deploy=none` says no change caused it.
  e.g. `{INCIDENT_OPEN_EXAMPLE}`
• `/incident resolve ID [at=TIME]`: it recovered (default now)
• `/incident link ID deploy=ID|none`: change what caused it
• `/incident list [open|all]`: open incidents (or all)
• `/incident` alone opens a form.
A linked incident makes its deploy a failed change; its recovery time counts as failed deployment recovery time."""


def unknown_incident_subcommand(word: str) -> str:
    return f"`{word}` is not something /incident does. Use `open`, `resolve`, `link`, `list` or `help`."


def title_too_long(length: int, limit: int) -> str:
    return f"The title is {length} characters long; keep it to {limit}."


def bad_incident_list(value: str) -> str:
    return f"`/incident list {value}` is not a listing I know. Use `/incident list` or `/incident list all`."


def link_to_failed_attempt(deploy_id: int) -> str:
    return (
        f"Deploy #{deploy_id} was a failed attempt that never reached production, so it cannot "
        "have caused an incident. Link the deploy that did reach production, or `deploy=none`."
    )


def already_resolved(incident_id: int, when: str) -> str:
    return f"Incident #{incident_id} was already resolved at {when}; nothing changed."


def resolve_before_start(incident_id: int, started: str) -> str:
    return (
        f"Incident #{incident_id} started at {started}; it cannot be resolved before that. "
        "Check `at=`."
    )


def incident_opened(incident_id: int, service: str, title: str, severity: int | None) -> str:
    sev = f" (sev {severity})" if severity else ""
    return f"Incident #{incident_id} opened on {service}: {title}{sev}"


def incident_resolved_title(incident_id: int, service: str, title: str, took: str) -> str:
    return f"Incident #{incident_id} on {service} resolved after {took}: {title}"


def incident_resolved(incident_id: int) -> str:
    return f"Incident #{incident_id} resolved."


def incident_relinked(incident_id: int, link_text: str) -> str:
    return f"Incident #{incident_id} updated. {link_text}"


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


def resolved_after(took: str) -> str:
    return f"resolved after {took}"


def cause_short(cause: str, deploy_id: int | None) -> str:
    if deploy_id:
        return f"deploy #{deploy_id}"
    return "no deploy" if cause == "none" else "not linked"


def no_incidents(only_open: bool) -> str:
    return "No open incidents." if only_open else "No incidents recorded yet."


def incident_list_header(count: int, only_open: bool, tz: str) -> str:
    what = "open incidents" if only_open else "latest incidents"
    return f"*{count} {what}* (times in {tz})"


def incident_list_line(
    incident_id: int, when: str, service: str, title: str, severity: int | None,
    state: str, cause: str, source: str,
) -> str:  # fmt: skip
    sev = f" sev {severity} ·" if severity else ""
    return f"`#{incident_id}` {when} · {service}: {title} ·{sev} {state} · {cause} · {source}"


def private_incident(incident_id: int) -> str:
    """Stands for the title of an incident opened in a private channel, outside it."""
    return f"Incident #{incident_id} (private channel)"


def link_modal_intro(incident_id: int, title: str) -> str:
    return f"What caused incident #{incident_id} ({title})?"


def severity_option(level: str) -> str:
    return {"1": "1: critical", "2": "2: major", "3": "3: minor", "4": "4: low"}[level]


# ---- /dora ---------------------------------------------------------------------------------

DORA_GRAMMAR = "/dora [SERVICE|all] [WINDOW] [env=ENV] [share]"
DORA_EXAMPLE = "/dora api 30d"
DORA_WINDOW_EXAMPLE = "/dora api last month"
DORA_RANGE_EXAMPLE = "/dora api from=2026-11-01 to=2026-11-30"
DORA_WINDOWS = (
    "`7d`, `30d` (the default), `90d`, any `Nd`, `this week`, `last week`, `this month`, "
    "`last month`, `this quarter`, `last quarter`, or `from=DATE to=DATE`"
)
DORA_NO_INDIVIDUALS = (
    "Shipshape reports teams, services and environments, never individuals: how fast and how "
    "safely changes reach users is a property of the delivery system, and numbers per person "
    "invite gaming and blame rather than better delivery. Nothing was looked up or stored. "
    "Ask about a service or the whole organisation instead, like `/dora api 30d` or `/dora all`."
)


def dora_range_missing(key: str) -> str:
    return f"`{key}=` is missing: `from=` and `to=` go together, give both dates."


DORA_WINDOW_AND_RANGE = "Give either a window like `7d` or `from=` and `to=`, not both."
DORA_CHANGE_NEW = "new (none in the window before)"


def dora_help(source: str) -> str:
    return f"""*DORA metrics for a service or the whole organisation*
`{DORA_GRAMMAR}`
• `/dora`: all services, the last 30 days, against the 30 days before
• `/dora api 7d`: one service, the last 7 days
• `/dora all last month env=staging`: staging instead of the production environments
• `{DORA_RANGE_EXAMPLE} share`: whole days in the team time zone, both included, posted in the channel
Windows: {DORA_WINDOWS}.
*How each metric is counted.* A deployment is a successful deploy to production; a failed attempt never reached users and is counted apart, in no metric.
• *{METRIC_FREQUENCY}*: deployments finished in the window, per week, and on how many days. Elite daily or more, high weekly, medium monthly.
• *{METRIC_LEAD_TIME}*: from a change's commit to the deployment that shipped it, median and p90, over the deployments whose changes are known (from GitHub). Elite under a day, high under a week, medium under 30 days.
• *{METRIC_FAILURE_RATE}*: the share of deployments that caused an incident or were rolled back. Elite 5% or less, high 10%, medium 15%.
• *{METRIC_RECOVERY}*: start to resolution of incidents caused by a deployment and resolved in the window, median and p90; beside it, time to restore over every incident. Elite under an hour, high under a day, medium under a week.
• *{METRIC_REWORK}*: the share of deployments that were hotfixes (`--hotfix`) or rollbacks. DORA gives it no band.
Each metric shows its change against the previous window of the same length (rates in percentage points). Bands follow the {source}.
{DORA_SUBSCRIBE_HELP}
Shipshape reports teams, services and environments, never individuals."""


def dora_not_a_person_key(key: str) -> str:
    return f"`{key}=` asks for one person's numbers. {DORA_NO_INDIVIDUALS}"


def dora_bad_window(text: str, reason: str, max_days: int) -> str:
    if reason == "days_out_of_range":
        return f"`{text}` is not a window I can show: use 1d to {max_days}d."
    return f"I can't read `{text}` as a window. Use {DORA_WINDOWS}."


WINDOW_DATES = f"{FIRST_DAY} to {LAST_DAY}"


def dora_bad_range(start: str, end: str, reason: str, tz: str) -> str:
    if reason == "end_before_start":
        return f"`to={end}` is not after `from={start}`: the window must end after it starts."
    if reason == "out_of_range":
        return (
            f"`from={start} to={end}` goes outside the dates I can report on: "
            f"give dates from {WINDOW_DATES}."
        )
    return (
        f"I can't read `from={start} to={end}` as a window. Use dates like "
        f"`from=2026-11-01 to=2026-11-30` (whole days in {tz}, both included), or full times "
        "like `from=2026-11-01T09:00Z`, not in the future."
    )


def dora_metric(name: str, value: str, band: str | None) -> str:
    return f"*{name}*: {value} · *{band}*" if band else f"*{name}*: {value}"


def shared_by(user_id: str) -> str:
    return f"Shared by <@{user_id}>"


# ---- modals --------------------------------------------------------------------------------

DEPLOY_MODAL_TITLE = "Record a deploy"
INCIDENT_MODAL_TITLE = "Record an incident"
LINK_MODAL_TITLE = "Incident cause"
MODAL_SUBMIT = "Save"
MODAL_CANCEL = "Cancel"
FIELD_SERVICE = "Service"
FIELD_VERSION = "Version"
FIELD_ENV = "Environment"
FIELD_AT = "Finished at"
FIELD_STARTED = "Started at"
FIELD_STATUS = "Status"
FIELD_SHA = "Commit sha"
FIELD_REPO = "Repository (OWNER/NAME)"
FIELD_URL = "Link"
FIELD_KIND = "Kind"
FIELD_ROLLBACK = "Rolls back deploy"
FIELD_TITLE = "What is wrong"
FIELD_SEVERITY = "Severity"
FIELD_CAUSE = "Caused by deploy"
STATUS_SUCCESS = "success: it reached production"
STATUS_FAILED = "failed: it never reached production"
HOTFIX_OPTION = "Hotfix (an unplanned fix)"
AT_HINT = 'Leave empty for now, or "15m ago", "yesterday 14:00", "2026-11-20 14:05".'
ROLLBACK_HINT = 'A deploy id, or "previous" for the last successful one of this service.'
LINK_HINT = 'A deploy id, or "none" if no change caused it.'
CAUSE_HINT = (
    'A deploy id, or "none" if no change caused it. Empty links the latest production deploy.'
)


# ---- App Home ------------------------------------------------------------------------------

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

# ---- App Home metrics ----------------------------------------------------------------------

HOME_TOP_SERVICES = "*Most deployments, last 30 days*"
HOME_NO_DEPLOYMENTS = (
    "No deployments to production in the last 30 days. Record one with `/deploy api v1.2.3`."
)


def home_top_service(service: str, count: int) -> str:
    noun = "deployment" if count == 1 else "deployments"
    return f"• {service}: {count} {noun}"


def cannot_open_database(path: str, error: str) -> str:
    return (
        f"Cannot open the database SHIPSHAPE_DB={path} ({error}). "
        "Point SHIPSHAPE_DB at a writable file path."
    )


def no_database(path: str) -> str:
    return (
        f"There is no database at SHIPSHAPE_DB={path}. Run this in the folder where "
        "`shipshape serve` runs, or set SHIPSHAPE_DB to its database file."
    )


# ---- CLI report and demo -------------------------------------------------------------------
# The words of a metrics report; /dora in Slack and `shipshape report` in a terminal both
# use them, so the two always say the same thing.


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


REPORT_METRIC = "metric"
REPORT_VALUE = "value"
REPORT_BAND = "band"
REPORT_CHANGE = "vs previous window"
METRIC_FREQUENCY = "Deployment frequency"
METRIC_LEAD_TIME = "Change lead time"
METRIC_FAILURE_RATE = "Change failure rate"
METRIC_RECOVERY = "Failed deployment recovery time"
METRIC_REWORK = "Deployment rework rate"
METRIC_RESTORE = "Time to restore, all incidents"
NO_BAND = "-"
NO_DEPLOYMENTS = "no deployments in this window"
NO_CHANGES_KNOWN = "no changes known for these deployments"
NO_RECOVERIES = "no incident caused by a deployment was resolved in this window"
NO_RESTORES = "no incident was resolved in this window"
NO_CHANGE = "no change"


def report_title(service: str | None, environment: str | None) -> str:
    where = env_name(environment) if environment else "production"
    return f"Delivery health: {service or 'all services'}, {where}"


def report_window(start: str, end: str, previous_start: str) -> str:
    return f"{start} up to {end}; compared with {previous_start} up to {start}"


def frequency_value(count: int, per_week: float) -> str:
    return f"{count} ({per_week:.1f} a week)"


def frequency_counted(count: int, deploy_days: int) -> str:
    return f"{_count(count, 'deployment')} on {_count(deploy_days, 'deploy day')}"


def median_p90(median: str, p90: str) -> str:
    return f"median {median}, p90 {p90}"


def lead_counted(with_changes: int, deployments: int, changes: int) -> str:
    return (
        f"lead time known for {with_changes} of {_count(deployments, 'deployment')} "
        f"({_count(changes, 'change')})"
    )


def failure_counted(failed: int, deployments: int) -> str:
    return (
        f"{failed} of {_count(deployments, 'deployment')} failed in production "
        "(an incident or a rollback)"
    )


def recovery_counted(incidents: int) -> str:
    return f"{_count(incidents, 'incident')} caused by a deployment, resolved in this window"


def rework_counted(rework: int, deployments: int) -> str:
    return f"{rework} of {_count(deployments, 'deployment')} were hotfixes or rollbacks"


def restore_counted(incidents: int) -> str:
    return f"{_count(incidents, 'incident')} resolved in this window, caused by a deploy or not"


def failed_attempts(count: int) -> str:
    return f"{_count(count, 'failed deploy attempt')} (never reached production; in no metric)"


def change_up_down(up: bool, amount: str, was: str) -> str:
    return f"{'↑' if up else '↓'} {amount} (was {was})"


def change_none(was: str) -> str:
    return f"{NO_CHANGE} (was {was})"


def percentage_points(points: float) -> str:
    return f"{points:.1f} pts"


def bands_source(source: str) -> str:
    return f"Bands: {source}. Rates and durations are explained by `/dora help`."


REPORT_WINDOWS = (
    "--window 7d, 30d (the default), 90d or any Nd, 'this week', 'last week', 'this month', "
    "'last month', 'this quarter', 'last quarter'; or --from DATE --to DATE"
)
REPORT_WINDOW_OR_DATES = "Give either --window or --from and --to, not both."
REPORT_FROM_TO_TOGETHER = (
    "--from and --to go together: give both, like --from 2026-11-01 --to 2026-11-30."
)


def report_bad_window(text: str, reason: str, max_days: int) -> str:
    if reason == "days_out_of_range":
        return f"{text!r} is not a window I can report: use 1d to {max_days}d."
    return f"I can't read {text!r} as a window. Use {REPORT_WINDOWS}."


def report_bad_dates(start: str, end: str, reason: str, tz: str) -> str:
    if reason == "end_before_start":
        return f"--to {end} is not after --from {start}: the window must end after it starts."
    if reason == "out_of_range":
        return (
            f"--from {start} --to {end} goes outside the dates I can report on: give dates "
            f"from {WINDOW_DATES}, like --from 2026-11-01 --to 2026-11-30."
        )
    return (
        f"I can't read --from {start} --to {end} as a window. Use dates like --from 2026-11-01 "
        f"--to 2026-11-30 (whole days in {tz}, both included), or full times like "
        "2026-11-01T09:00Z, not in the future."
    )


CHART_TITLE = "Deployments and change failure rate per week"
CHART_DEPLOYMENTS = "deployments"
CHART_FAILURE_RATE = "change failure rate"


def demo_intro(services: Sequence[str], weeks: int, as_of: str) -> str:
    names = ", ".join(services[:-1]) + f" and {services[-1]}"
    return (
        f"Shipshape demo: {weeks} weeks of made-up delivery history for {names}, "
        f"as of {as_of}. Below is what /dora answers in Slack."
    )


def demo_heading(command: str) -> str:
    return f"== {command} =="


def demo_trend_line(week: str, deployments: int, rate: str) -> str:
    return f"{week}  {deployments:>3} deployments  {rate:>6} failed"


def demo_files(database: str, chart: str) -> str:
    return f"Demo database: {database}\nChart:         {chart}"


DEMO_NEXT_STEPS = """Next steps:
  1. Create the Slack app from manifest.yml: https://api.slack.com/apps > Create New App > From an app manifest (README.md, "Create the Slack app").
  2. uv run shipshape serve"""


def demo_not_ours(path: str) -> str:
    return (
        f"{path} exists and was not made by `shipshape demo`, so it is left alone. "
        "Choose another folder with --dir."
    )


def demo_cannot_write(directory: str, error: str) -> str:
    return f"Cannot write the demo into {directory} ({error}). Choose a writable folder with --dir."


# ---- GitHub webhook ------------------------------------------------------------------------
# Bodies of POST /github/webhook answers: GitHub shows them under the webhook's
# Settings > Webhooks > Recent Deliveries, where the person setting it up reads them.

GITHUB_WEBHOOK_NO_SECRET = (
    "GITHUB_WEBHOOK_SECRET is not set, so GitHub deliveries cannot be verified and none are "
    "accepted. Choose a long random secret, enter it as the Secret in the repository's or "
    "organisation's Settings > Webhooks > your webhook, set GITHUB_WEBHOOK_SECRET to the same "
    "value, and restart `shipshape serve`."
)
GITHUB_WEBHOOK_POST_ONLY = "POST only: GitHub sends webhook deliveries as POST requests."
GITHUB_WEBHOOK_BAD_SIGNATURE = (
    "X-Hub-Signature-256 is missing or does not match this body. Check that the webhook's "
    "Secret in GitHub is the same as GITHUB_WEBHOOK_SECRET."
)
GITHUB_WEBHOOK_PONG = "pong: the webhook reaches Shipshape and its signature checks out."
GITHUB_WEBHOOK_NO_PAYLOAD_FIELD = (
    "A form-encoded delivery needs a payload field. Set the webhook's Content type to "
    "application/json, or send the JSON in a field named payload."
)
GITHUB_WEBHOOK_FAILED = (
    "The delivery could not be stored and nothing of it was kept; "
    "redeliver it from GitHub once the problem in Shipshape's log is fixed."
)


def github_webhook_missing_header(name: str) -> str:
    return f"The {name} header is missing; GitHub sends it with every webhook delivery."


def github_webhook_bad_field(path: str, expected: str) -> str:
    return f"The payload has no usable {path} (expected {expected}), so nothing was stored."


def github_webhook_ignored(what: str) -> str:
    return f"{what}: not something Shipshape records, ignored."


# ---- GitHub sync and settings --------------------------------------------------------------
# `shipshape github sync|repo|repos` in the terminal, and the schedule's log lines.

GITHUB_TOKEN_PAGE = "https://github.com/settings/personal-access-tokens"
GITHUB_NOT_CONFIGURED = (
    "GITHUB_TOKEN is not set, and neither are the GitHub App settings, so Shipshape makes no "
    f"GitHub API calls. Create a fine-grained token at {GITHUB_TOKEN_PAGE} with read access "
    "to the repository's Contents, Deployments, Metadata and Pull requests, and set "
    "GITHUB_TOKEN to it (or set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and "
    "GITHUB_APP_INSTALLATION_ID)."
)
GITHUB_REPO_EXAMPLE = "shipshape github repo acme/api service=api-gateway sync=on"
GITHUB_SYNC_PHASES = {
    "deployments": "Deployments   ",
    "pulls": "Pull requests ",
    "commits": "Commits       ",
    "linking": "Deploy commits",  # of deploys outside the default branch, by comparison
}
GITHUB_NO_REPOS = f"No repositories configured yet. Add one with:\n  {GITHUB_REPO_EXAMPLE}"
GITHUB_SYNC_INTERRUPTED = (
    "Stopped. What was read so far is stored; run the same command again to go on."
)


def bad_clock_time(word: str) -> str:
    return f"`{word}` is not a time of day: use 24-hour HH:MM from 00:00 to 23:59, like `09:00`."


def github_bad_repo(value: str) -> str:
    return (
        f"{value!r} is not a GitHub repository. Write it as OWNER/NAME, "
        "like: shipshape github sync acme/api"
    )


def github_bad_since(value: str, tz: str) -> str:
    return (
        f"I can't read --since {value} as a date. Use a day like --since 2026-09-01 "
        f"(midnight in {tz}), a time like --since 2026-09-01T09:00Z, or --since '30d ago'; "
        "not in the future."
    )


def github_bad_credentials(api_url: str) -> str:
    return (
        f"{api_url} refused the credentials (401 Bad credentials). Check that GITHUB_TOKEN is "
        f"a current token (create one at {GITHUB_TOKEN_PAGE}), or that the GitHub App "
        "settings belong to an installed app."
    )


def github_repo_not_found(repo: str, api_url: str) -> str:
    return (
        f"{repo} was not found at {api_url} (404). Check the spelling (OWNER/NAME), and that "
        "the token or GitHub App may read this repository: a private repository it cannot "
        "see is reported as not found."
    )


def github_refused(repo: str, status: int, detail: str) -> str:
    return (
        f"GitHub answered {status} while reading {repo}: {detail[:200]}. Check the token's "
        "permissions (read access to Contents, Deployments, Metadata and Pull requests)."
    )


def github_unreachable(api_url: str, error: str) -> str:
    return (
        f"Cannot reach the GitHub API at {api_url} ({error[:200]}). Check the network, and "
        "GITHUB_API_URL for GitHub Enterprise Server (like https://github.example.com/api/v3)."
    )


def github_rate_limited(repo: str, reset_at: str | None) -> str:
    """`reset_at` as the team reads it (bot.core.moments.show)."""
    when = f"resets at {reset_at}" if reset_at else "resets within the hour"
    return (
        f"GitHub's API rate limit is used up while syncing {repo}; it {when}. Everything read "
        "so far is stored: run the sync again after that and it continues where it stopped."
    )


def github_sync_summary(
    repo: str, deployments: int, statuses: int, pulls: int, commits: int, calls: int
) -> str:
    return (
        f"{repo}: {deployments} deployments, {statuses} statuses read, {pulls} merged pull "
        f"requests, {commits} new commits; {calls} API calls."
    )


def github_sync_range(repo: str, since: str) -> str:
    return f"Syncing {repo} from {since}."


def github_settings_lines(
    repo: str,
    service: str,
    service_is_default: bool,
    label: str,
    label_is_default: bool,
    deploy_on: str,
    sync: bool,
    synced_at: str | None,
) -> str:
    """`synced_at` as the team reads it (bot.core.moments.show)."""
    counted = {
        "deployments": "deployments (deployment_status events and the sync)",
        "release": "releases published",
    }.get(deploy_on, f"runs of the workflow {deploy_on.removeprefix('workflow:')!r}")
    return "\n".join(
        [
            repo,
            f"  service         {service}"
            + (" (the repository's name)" if service_is_default else ""),
            f"  incident-label  {label}" + (" (the default)" if label_is_default else ""),
            f"  deploy-on       {deploy_on}: {counted} count as deploys",
            f"  sync            {'on' if sync else 'off'}"
            + (" (on the schedule of shipshape serve)" if sync else ""),
            f"  synced up to    {synced_at or 'never synced'}",
        ]
    )


def github_repo_bad_setting(problem: str) -> str:
    return f"{problem} For example: {GITHUB_REPO_EXAMPLE}"


def github_repo_unknown_key(word: str) -> str:
    return github_repo_bad_setting(
        f"{word!r} is not a setting. Settings are service=NAME, incident-label=LABEL, "
        "deploy-on=deployments|release|workflow:NAME and sync=on|off."
    )


def github_repo_bad_label(value: str, limit: int) -> str:
    return github_repo_bad_setting(
        f"incident-label={value!r} must be a GitHub label name of 1 to {limit} characters."
    )


def github_repo_bad_deploy_on(value: str) -> str:
    return github_repo_bad_setting(
        f"deploy-on={value!r} is not one of deployments, release or workflow:NAME (NAME is "
        "the workflow's name as GitHub shows it, like workflow:Deploy)."
    )


def github_repo_bad_sync(value: str) -> str:
    return github_repo_bad_setting(f"sync={value!r} must be on or off.")


# ---- Weekly summary content ----------------------------------------------------------------
# The summary's text, blocks and terminal form, and the speed-versus-stability check.

SUMMARY_WEEK_EXAMPLE = "--week 2026-W47"


def summary_bad_week(text: str) -> str:
    return (
        f"{text!r} is not a week: write an ISO week as YYYY-Www, like 2026-W47 "
        "(the week of Monday 16 November 2026)."
    )


def summary_no_such_week(text: str, year: int, weeks: int) -> str:
    return f"{text!r} does not exist: {year} has ISO weeks 1 to {weeks}, like {year}-W{weeks:02d}."


def summary_week_years(text: str, first: int, last: int) -> str:
    return f"{text!r} is out of range: give a week from {first} to {last}, like 2026-W47."


def summary_week_not_over(week: str, last_complete: str) -> str:
    return (
        f"{week} is not over yet, and a summary covers a whole week. The last complete week "
        f"is {last_complete}: --week {last_complete}."
    )


def summary_title(week: str, service: str | None) -> str:
    return f"Weekly summary {week}: {service or 'all services'}"


def summary_week_span(start: str, end: str) -> str:
    return f"Monday {start} up to Monday {end}, compared with the week before"


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _per_week(per_week: float) -> str:
    return f"{per_week:.1f}"


def _recent_baseline(k_r: int, k_b: int) -> str:
    return f"{k_r} in the last 4 weeks against {k_b} in the 8 before"


def check_deploys_rose(before: float, now: float, k_r: int, k_b: int, p: float) -> str:
    return (
        f"Deploys per week rose from {_per_week(before)} to {_per_week(now)} "
        f"({_recent_baseline(k_r, k_b)}, {p_value(p)})"
    )


def check_failures(
    rose: bool, before: str, now: str, f_b: int, k_b: int, f_r: int, k_r: int, p: float
) -> str:
    counts = f"{f_b}/{k_b} → {f_r}/{k_r}, {p_value(p)}"
    if rose:
        return f"the change failure rate rose from {before} to {now} ({counts})"
    return f"the change failure rate did not rise significantly ({before} to {now}, {counts})"


CHECK_NO_BASELINE = (
    "there were no deployments in the 8 weeks before to compare the failure rate with"
)
CHECK_FLAG_HEADLINE = "Speed is outrunning stability."
CHECK_GOOD_NEWS_HEADLINE = (
    "Good news: you deploy more often, and the change failure rate has not risen with it."
)
CHECK_FAILURES_HEADLINE = "The change failure rate is rising."
CHECK_NO_CHANGE_HEADLINE = "Speed versus stability: no significant change."
CHECK_THIN_HEADLINE = "Speed versus stability: too little data to tell."
CHECK_BOTH_THIN_HEADLINE = (
    "Deploys and the change failure rate both look higher, but there is too little data to be sure."
)


def check_flag(deploys: str, failures: str) -> str:
    return f"{deploys} while {failures}."


def check_good_news(deploys: str, failures: str) -> str:
    return f"{deploys}, and {failures}."


def check_failures_rising(failures: str, before: float, now: float, k_r: int, k_b: int) -> str:
    return (
        f"{failures[0].upper()}{failures[1:]}, while deploys per week did not rise significantly "
        f"({_per_week(before)} to {_per_week(now)}; {_recent_baseline(k_r, k_b)})."
    )


def check_no_change(
    before: float, now: float, k_r: int, k_b: int, p: float | None, failures: str | None
) -> str:
    tested = f", {p_value(p)}" if p is not None else ""
    return (
        f"Deploys per week went from {_per_week(before)} to {_per_week(now)} "
        f"({_recent_baseline(k_r, k_b)}{tested}); {failures or CHECK_NO_BASELINE}."
    )


def check_shortfall(failed: bool, need: int, have: int) -> str:
    what = "failed deployments" if failed else "deployments"
    return f"need at least {need} {what} in the last 4 weeks, have {have}"


def check_thin(shortfalls: Sequence[str]) -> str:
    return "; ".join(shortfalls).capitalize() + "."


def check_look_first(services: Sequence[tuple[str, str, str]]) -> str:
    named = ", ".join(f"{name} ({before} → {now})" for name, before, now in services)
    return f"Look first at: {named}."


SUMMARY_INCIDENTS = "Open incidents"
SUMMARY_NO_INCIDENTS = "No open incidents."


def summary_incident(
    incident_id: int, service: str, title: str, severity: int | None, since: str
) -> str:
    sev = f" (sev {severity})" if severity is not None else ""
    return f"#{incident_id} {service}: {title}{sev}, open since {since}"


def summary_more_incidents(more: int) -> str:
    return f"and {more} more (`/incident list open`)"


SUMMARY_PULSE = "Pulse survey"
SUMMARY_CHECK = "Speed versus stability"


def summary_chart(first: str, last: str) -> str:
    return (
        f"The chart shows deployments per week (bars) and the change failure rate (line), "
        f"{first} to {last}."
    )


def summary_trend_heading(first: str, last: str) -> str:
    return f"== Deployments and change failure rate per week, {first} to {last} (the chart) =="


def summary_heading(title: str) -> str:
    return f"== {title} =="


# ---- Weekly summary subscriptions and posting ----------------------------------------------
# /dora subscribe|unsubscribe|subscriptions, the schedule, and `shipshape summary --post`.

DORA_SUBSCRIBE_GRAMMAR = "/dora subscribe [DAY] [HH:MM] [TZ] [service=SERVICE]"
DORA_SUBSCRIBE_EXAMPLE = "/dora subscribe monday 09:00 Europe/Berlin service=api"
DORA_SUBSCRIBE_HELP = f"""*Weekly summary in this channel* (subscribing and unsubscribing: admins only)
• `{DORA_SUBSCRIBE_GRAMMAR}`: every week at this day and time (default Monday 09:00 in the team time zone), for all services or one
• `/dora unsubscribe`: stop it · `/dora subscriptions`: every subscribed channel"""
WEEKDAYS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
SUBSCRIBE_ADMINS_ONLY = (
    "Only Shipshape admins can subscribe a channel to the weekly summary or stop it: the "
    "people listed in SHIPSHAPE_ADMINS, and workspace admins and owners. Ask one of them; "
    "`/dora subscriptions` shows what is set up."
)
NOT_SUBSCRIBED = (
    "This channel has no weekly summary, so there is nothing to stop. "
    "`/dora subscriptions` lists the channels that have one."
)
NO_SUBSCRIPTIONS = (
    f"No channel gets the weekly summary yet. An admin can start one in a channel with "
    f"`{DORA_SUBSCRIBE_EXAMPLE}`."
)
SUBSCRIPTIONS_HEADER = "*Weekly summaries in this workspace*"
SUBSCRIBE_INVITE_ME = (
    "I am not a member of this channel, so the weekly summary cannot be posted here yet: "
    "invite me with `/invite @shipshape`."
)
SUMMARY_POST_NEEDS_CHANNEL = (
    "--post needs --channel: the channel id to post in, like --channel C012AB3CD "
    "(the channel's details > About > Channel ID)."
)


def subscribe_bad_word(word: str) -> str:
    return (
        f"I can't read `{word}` as a day (monday to sunday), a time (HH:MM, 24-hour) or a "
        "time zone (an IANA name like Europe/Berlin)."
    )


def subscribe_twice(what: str, first: str, second: str) -> str:
    return f"Two {what}s, `{first}` and `{second}`: give one."


def subscription_schedule(day: str, time: str, tz: str, service: str | None) -> str:
    which = f"{service} only" if service else "all services"
    return f"every {WEEKDAYS[day]} at {time} ({tz}), {which}"


NEXT_RUN_FORMAT = "ddd D MMM HH:mm"  # pendulum's tokens: "Mon 30 Nov 09:00"


def subscription_next(when: str) -> str:
    """`when` in the subscription's time zone, formatted with NEXT_RUN_FORMAT."""
    return f"next on {when}"


def subscribed(schedule: str, upcoming: str, user_id: str) -> str:
    return (
        f"Weekly summary {schedule}, in this channel; {upcoming}. "
        f"Set up by <@{user_id}>; `/dora unsubscribe` stops it."
    )


def subscription_changed(schedule: str, was: str, upcoming: str, user_id: str) -> str:
    return (
        f"Weekly summary in this channel changed to {schedule} (was {was}); {upcoming}. "
        f"Changed by <@{user_id}>."
    )


def subscription_unchanged(schedule: str, upcoming: str) -> str:
    return f"This channel already gets the weekly summary {schedule}; {upcoming}. Nothing changed."


def unsubscribed(was: str, user_id: str) -> str:
    return f"Weekly summary stopped in this channel (it was {was}). Stopped by <@{user_id}>."


def disabled_reason(code: str) -> str:
    """Why Slack refused a summary, from its error code."""
    why = {
        "channel_not_found": "Slack could not find the channel (deleted, or private without me)",
        "not_in_channel": "I am not a member of the channel; invite me with `/invite @shipshape`",
        "is_archived": "the channel is archived",
    }.get(code, "Slack refused the post")
    return f"{why} ({code})"


def subscription_line(channel_id: str, schedule: str, disabled: str | None) -> str:
    line = f"• <#{channel_id}>: {schedule}"
    if disabled is None:
        return line
    return f"{line}. *Stopped*: {disabled}. An admin's `/dora subscribe` there starts it again."


def summary_chart_title(week: str) -> str:
    return f"Deployments and change failure rate per week, 12 weeks up to {week}"


def summary_posted(week: str, channel_id: str, ts: str, chart: bool) -> str:
    told = "" if chart else " The chart could not be uploaded; the log says why."
    return f"posted: the summary of {week} in {channel_id} ({ts}).{told}"


def summary_already_posted(week: str, channel_id: str, posted_at: str, ts: str) -> str:
    return f"already posted for {week} in {channel_id} at {posted_at} ({ts}); nothing was posted."


def summary_being_posted(week: str, channel_id: str, claimed_at: str) -> str:
    return (
        f"the summary of {week} in {channel_id} is being posted by another process since "
        f"{claimed_at}; nothing was posted. If that process died, run this again in 10 minutes."
    )


def summary_post_failed(week: str, channel_id: str, error: str) -> str:
    return (
        f"not posted: Slack answered {error} for the summary of {week} in {channel_id}. "
        "Nothing is kept, so running this again tries again."
    )


def summary_post_disabled(week: str, channel_id: str, code: str) -> str:
    return (
        f"not posted: {disabled_reason(code)}. The summary of {week} in {channel_id} was not "
        "posted, and the channel's subscription is stopped until an admin subscribes again."
    )


# ---- Pulse surveys: rounds ------------------------------------------------------------------
# /pulse start|now|stop|help, the audience, sending, reminders and closing.

PULSE_GRAMMAR = "/pulse start [#CHANNEL|@USERGROUP] [weekly|biweekly] [DAY] [HH:MM]"
PULSE_START_EXAMPLE = "/pulse start biweekly friday 14:00"
PULSE_RESULTS_EXAMPLE = "/pulse results 3 rounds"
PULSE_CADENCES = {"weekly": "every week", "biweekly": "every other week"}
PULSE_DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
PULSE_ADMINS_ONLY = (
    "Only Shipshape admins can start, send or stop pulse surveys: the people listed in "
    "SHIPSHAPE_ADMINS, and workspace admins and owners. Anyone can see the results with "
    "`/pulse results`."
)
PULSE_NO_SURVEY = (
    "There is no pulse survey in this channel. An admin can start one here with "
    f"`{PULSE_START_EXAMPLE}`."
)
PULSE_NOBODY_TO_ASK = (
    "Nobody there could be asked: every member is a bot, deactivated, or chose "
    '"Stop asking me". Nothing was started. Pick a channel or group with people in it.'
)


def pulse_help(min_respondents: int) -> str:
    return f"""*Pulse surveys: a short anonymous survey by DM about getting changes to production*
`{PULSE_GRAMMAR}` (admins)
• `/pulse start`: ask the members of this channel every other week, Friday 14:00
• `/pulse start @platform-team weekly monday 10:00`: ask a user group every week
• `/pulse start <#C0123ABCD> biweekly thursday 15:30`: ask another channel's members (give its id if Slack sends only its name); results stay in the channel you started it from
• `/pulse now` (admins): send a round now (the open round closes first)
• `/pulse results [N rounds]`: the latest rounds (2 by default) and the change from the one before
• `/pulse stop` (admins): stop the survey and close its open round
Each round DMs three questions (how easy it was to get a change into production, where time was lost, an optional comment), with "Skip this round" and "Stop asking me". One reminder after a day; a round closes after 6 days or at the next round.
*Anonymous by construction*: answers are stored with no name, no user id and no time. While a round is open only a keyed fingerprint lets a person change their answer; its key is deleted when the round closes, so afterwards nothing links an answer to anyone. Results show only for rounds with at least {min_respondents} respondents."""


def pulse_unknown_subcommand(word: str) -> str:
    return (
        f"`{word}` is not something /pulse does. Use `start`, `now`, `results`, `stop` or `help`."
    )


def pulse_bad_start_word(word: str) -> str:
    return (
        f"I can't read `{word}` in `/pulse start`. Give a #channel or @group, `weekly` or "
        "`biweekly`, a day like `friday` and a time like `14:00`, in any order."
    )


def pulse_given_twice(what: str, first: str, second: str) -> str:
    return f"Give one {what}, not both `{first}` and `{second}`."


def pulse_channel_by_name(name: str) -> str:
    return (
        f"Slack sent `#{name}` as plain text, so I can't tell which channel it is. Run "
        "`/pulse start` in that channel itself, or give its id (open the channel's details: "
        "the id, like C0123ABCD, is at the bottom of the About tab)."
    )


def pulse_unknown_usergroup(handle: str) -> str:
    return (
        f"There is no user group `@{handle}` in this workspace. Check the handle in "
        "People > User groups, and type it as `@handle`."
    )


def pulse_audience_unreadable(audience: str, error: str) -> str:
    if error in ("channel_not_found", "not_in_channel"):
        return (
            f"I can't see who is in {audience} ({error}). For a private channel, invite me "
            "first with `/invite @shipshape`; nothing was started."
        )
    return f"Slack would not list the members of {audience} ({error}); nothing was started."


def pulse_bad_rounds(value: str, maximum: int) -> str:
    return f"`{value}` is not a number of rounds I can show. Use a number from 1 to {maximum}."


def pulse_started(
    audience: str,
    people: int,
    cadence: str,
    day: str,
    time: str,
    tz: str,
    first: str,
    min_respondents: int,
    replaced: bool,
) -> str:
    what = "Pulse survey settings replaced" if replaced else "Pulse survey started"
    someone = "1 person" if people == 1 else f"{people} people"
    return (
        f"{what}: {someone} in {audience} will be asked {PULSE_CADENCES[cadence]} on "
        f"{PULSE_DAY_NAMES[day]} at {time} ({tz}). The first round goes out {first}"
        " (or now with `/pulse now`).\n"
        "Answers are anonymous: they are stored with no name or user id, and results are "
        f"shown only for rounds with at least {min_respondents} respondents (`/pulse results`)."
    )


def pulse_round_opened(round_id: int, audience: str, closes: str) -> str:
    return (
        f"Round {round_id} is open: the survey is going out by DM to {audience}, about one "
        f"person a second. It closes {closes}; see `/pulse results` once people have answered."
    )


def pulse_stopped(audience: str, closed_round: bool) -> str:
    also = " Its open round is closed." if closed_round else ""
    return (
        f"The pulse survey of {audience} is stopped: no more rounds.{also} Past results stay "
        f"available with `/pulse results`; `{PULSE_START_EXAMPLE}` starts it again."
    )


# ---- Pulse surveys: answers and results -----------------------------------------------------
# The DM survey, its buttons and modal, and /pulse results.

PULSE_DM_TEXT = "Pulse survey: how easy was it to ship this week? Three quick, anonymous questions."
PULSE_REMINDER_TEXT = "Reminder: the pulse survey is still open. Three quick, anonymous questions."
PULSE_DM_INTRO = "*Pulse survey* · three quick questions about the last week. It takes a minute, and your answers are anonymous."
PULSE_DM_REMINDER = "*A reminder: the pulse survey is still open* · three quick questions about the last week, anonymous. Skip it if you'd rather not."
PULSE_Q_EASE = "*1. How easy was it to get a change into production this week?*"
PULSE_Q_SINKS = "*2. Where did you lose time you wish you hadn't?* Tick any that apply."
PULSE_Q_COMMENT = "*3. Anything else you'd like to say?* Optional."
# Labels of storage.pulse_answers.SINKS, in the survey's order (SPEC.md "Pulse surveys").
PULSE_SINK_LABELS = {
    "ci": "waiting on CI",
    "flaky_tests": "flaky tests",
    "code_review": "waiting for code review",
    "deploy_process": "the deploy process or approvals",
    "environments": "environments or setup",
    "requirements": "unclear requirements",
    "incidents": "incidents or on-call interruptions",
    "meetings": "meetings",
    "other": "other",
}
PULSE_ADD_COMMENT = "Add a comment"
PULSE_EDIT_COMMENT = "Edit your comment"
PULSE_SKIP = "Skip this round"
PULSE_STOP_ASKING = "Stop asking me"
PULSE_START_ASKING = "Start asking me again"
PULSE_STOP_CONFIRM_TITLE = "Stop the pulse surveys?"
PULSE_STOP_CONFIRM_TEXT = "You won't get pulse survey DMs from Shipshape any more, from any channel. Only you can undo this, with a button in the next message."
PULSE_STOP_CONFIRM_NO = "Keep asking me"
PULSE_ANONYMOUS = ":lock: Anonymous by design: answers are stored without your name or user id, and results are shown only for rounds with enough answers that nobody's can be picked out."
PULSE_SKIPPED = ":zzz: You skipped this round, so nothing of yours is counted and you get no reminder. Changed your mind? Answer above until the round closes."
PULSE_STOPPED_TEXT = "You won't get pulse surveys any more."
PULSE_STOPPED = "You won't get pulse surveys any more. An admin starting a survey can't add you back; only you can, with the button below. An answer you already gave to the current round still counts."
PULSE_RESTARTED = "You're back on the list: you'll get the next pulse survey round."
PULSE_CLOSED = "This pulse survey round has closed, thank you. Rounds with enough answers show their results with `/pulse results` in the survey's channel."
PULSE_NOT_INVITED = "This survey round wasn't sent to you, so I can't take an answer from you for it. Each round goes to the members of the channel or user group its survey was started for, as they were when the round began."
PULSE_MODAL_TITLE = "Pulse survey"
PULSE_COMMENT_LABEL = "Your comment"
PULSE_COMMENT_NOTE = "Anything you write here is shown exactly as written, without your name, to people who look at this survey's results, once the round has enough answers. Leave it empty to remove your comment."
PULSE_NO_ROUNDS = "There are no pulse survey rounds here yet. An admin can start a survey with `/pulse start`, or send a round now with `/pulse now`."
PULSE_SINKS_HEADING = "*Where time was lost* (share of respondents who named it)"
PULSE_NO_SINKS = "• nobody named a time sink"
PULSE_NO_EASE = "*Ease of shipping*: nobody rated it"
PULSE_RESULTS_TRUNCATED = (
    "… and more than one Slack message can hold. Ask for fewer rounds, like `/pulse results 1`."
)


def pulse_ease_button(score: int) -> str:
    return {1: "1 · very hard", 5: "5 · very easy"}.get(score, str(score))


def pulse_closes(when: str) -> str:
    return f"This round closes {when}; you can change your answers until then."


def pulse_saved(ease: int | None, sinks: Sequence[str], has_comment: bool) -> str:
    """What was saved, in the DM: `sinks` are labels."""
    rated = f"{ease} of 5" if ease is not None else "not answered"
    lost = ", ".join(sinks) if sinks else "none ticked"
    comment = "added" if has_comment else "none"
    return f":white_check_mark: *Saved.* Ease: {rated} · Time lost: {lost} · Comment: {comment}"


def pulse_round_closed(closed_on: str, next_on: str | None, newer_open: bool) -> str:
    """`next_on` is when the survey's next round comes, None when it has been stopped."""
    if newer_open:
        after = "a newer round is open: answer it in its own message"
    elif next_on:
        after = f"the next one comes on {next_on}"
    else:
        after = "its survey has been stopped, so no other round is planned"
    return f"This round closed on {closed_on}, so it takes no more answers; {after}."


def pulse_comment_too_long(length: int, limit: int) -> str:
    return f"Your comment is {length} characters long; keep it to {limit}. Nothing was saved."


def pulse_results_header(channel_id: str, threshold: int) -> str:
    return (
        f"*Pulse survey results for <#{channel_id}>* (a round's results are shown once it "
        f"has closed with at least {threshold} respondents)"
    )


def pulse_round_heading(opened_on: str) -> str:
    return f"*Round sent {opened_on}*"


def _answers(count: int) -> str:
    return f"{count} answer" if count == 1 else f"{count} answers"


def pulse_round_open(closes_on: str, respondents: int, needed: int) -> str:
    so_far = f"Open until {closes_on}: {_answers(respondents)} so far"
    if needed > 0:
        return f"{so_far}; needs {needed} more {'answer' if needed == 1 else 'answers'} before its results can be shown."
    return f"{so_far}, enough to show. Results appear when it closes, so no single late answer can be picked out."


def pulse_round_hidden(closed_on: str, respondents: int, threshold: int) -> str:
    return (
        f"Closed {closed_on} with {_answers(respondents)}: fewer than {threshold}, so its "
        "results stay hidden to keep every answer anonymous."
    )


def pulse_round_shown(closed_on: str, respondents: int) -> str:
    return f"Closed {closed_on} · {respondents} respondents"


def pulse_ease_mean(mean: float, answered: int) -> str:
    return f"*Ease of shipping*: {mean:.1f} of 5 on average ({answered} rated it)"


def pulse_ease_bar(score: int, bar: str, count: int) -> str:
    return f"`{pulse_ease_button(score):>13}` {bar} {count}"


def pulse_sink_share(label: str, share: float, count: int) -> str:
    return f"• {label}: {share:.0%} ({count})"


def pulse_comments_heading(count: int) -> str:
    return f"*Comments* ({count}, in random order)"


def pulse_change_heading(opened_on: str) -> str:
    return f"*Since the previous round shown* (sent {opened_on})"


def pulse_ease_change(before: float, after: float) -> str:
    return f"Ease of shipping: {after:.1f} of 5 ({after - before:+.1f} from {before:.1f})"


def pulse_sinks_moved(rising: bool, moves: Sequence[tuple[str, float, float]]) -> str:
    """`moves` are (label, share before, share after)."""
    head = "Rising" if rising else "Falling"
    shown = ", ".join(f"{label} {before:.0%} → {after:.0%}" for label, before, after in moves)
    return f"{head}: {shown}"


def pulse_sinks_steady(points: int) -> str:
    return f"Time sinks: none moved by {points} points or more"


def pulse_summary_heading(closed_on: str, respondents: int) -> str:
    return f"Latest round closed {closed_on}, {respondents} respondents."


def pulse_summary_ease(mean: float, change: float | None) -> str:
    since = f" ({change:+.1f} since the previous round)" if change is not None else ""
    return f"Ease of shipping: {mean:.1f} of 5{since}"


def pulse_summary_sinks(top: Sequence[tuple[str, float]]) -> str:
    return "Most time lost to: " + ", ".join(f"{label} {share:.0%}" for label, share in top)


def pulse_summary_comments(count: int) -> str:
    return f"{count} {'comment' if count == 1 else 'comments'}: `/pulse results` in the survey's channel shows them."


# ---- malformed requests (answered 400: Slack and GitHub show the reason) -------------------


def json_too_deep(where: str, limit: int) -> str:
    return (
        f"{where} is JSON nested more than {limit} levels deep; Slack and GitHub never send that."
    )


def not_json_object(where: str, sender: str) -> str:
    return f"{where} is not a JSON object, as a {sender} is."


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


# ---- shipshape export: where the output goes -----------------------------------------------


def export_over_database(output: str, database: str) -> str:
    return (
        f"-o {output} is the database ({database}); writing there would erase it. "
        "Choose another file, e.g. -o deploys.csv."
    )


def export_no_folder(folder: str) -> str:
    return f"The folder {folder} does not exist; create it first, or choose e.g. -o deploys.csv."


def export_cannot_write(output: str, reason: str | None) -> str:
    return (
        f"Cannot write {output} ({reason or 'refused'}); choose another file, e.g. -o deploys.csv."
    )
