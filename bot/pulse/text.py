"""The pulse survey's words in a DM, its buttons and modal, and /pulse results."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.wording import plural

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


def pulse_round_open(closes_on: str, respondents: int, needed: int) -> str:
    so_far = f"Open until {closes_on}: {plural(respondents, 'answer')} so far"
    if needed > 0:
        return f"{so_far}; needs {plural(needed, 'more answer')} before its results can be shown."
    return f"{so_far}, enough to show. Results appear when it closes, so no single late answer can be picked out."


def pulse_round_hidden(closed_on: str, respondents: int, threshold: int) -> str:
    return (
        f"Closed {closed_on} with {plural(respondents, 'answer')}: fewer than {threshold}, so its "
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
    return f"{plural(count, 'comment')}: `/pulse results` in the survey's channel shows them."
