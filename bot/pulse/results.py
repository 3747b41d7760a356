"""Pulse survey results: per round, the ease score's distribution and mean, the share of
respondents naming each time sink, and the comments in random order; the latest round next
to the previous one.

A round's results are shown only once it has closed, and only with at least the threshold
of respondents (deps.config.pulse_min_respondents, never below 3). Closed, because results
that change while a round is open let anyone who looks before and after one person answers
read that person's answer off the difference.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, DividerBlock

from bot.config import Config
from bot.core.moments import show
from bot.core.wording import mrkdwn
from bot.deps import Deps
from bot.pulse import text as pulse_text
from bot.slack.replies import MAX_BLOCKS, text_blocks
from storage import pulse_answers as store
from storage.pulse_answers import EASE_SCORES, SINKS, Answer, RoundRow

MIN_THRESHOLD = 3
# How far back "the previous round" is looked for: a year of weekly rounds.
COMPARE_ROUNDS = 52
# A time sink "rises" or "falls" only when its share moves by this many percentage points
# (as shown, rounded): in a small group one person more or less would otherwise read as a
# trend.
SINK_MOVE_POINTS = 10
TOP_SINKS = 3
BAR_WIDTH = 12


@dataclass(frozen=True)
class RoundResult:
    round: RoundRow
    respondents: int
    ease_counts: tuple[int, ...]  # how many chose 1, 2, 3, 4, 5
    sink_counts: dict[str, int]  # respondents naming each sink
    comments: tuple[str, ...]  # in random order

    @property
    def rated(self) -> int:
        return sum(self.ease_counts)

    @property
    def ease_mean(self) -> float | None:
        if not self.rated:
            return None
        total = sum(score * n for score, n in zip(EASE_SCORES, self.ease_counts, strict=True))
        return total / self.rated

    def share(self, sink: str) -> float:
        return self.sink_counts[sink] / self.respondents if self.respondents else 0.0


@dataclass(frozen=True)
class Change:
    """The latest shown round against the previous shown round."""

    previous: RoundResult
    ease: tuple[float, float] | None  # mean before, mean after
    rising: list[tuple[str, float, float]]  # sink, share before, share after
    falling: list[tuple[str, float, float]]


def is_respondent(answer: Answer) -> bool:
    """A comment alone does not make a respondent: the threshold counts people who rated or
    named a time sink."""
    return answer.ease is not None or bool(answer.sinks)


def aggregate(round_row: RoundRow, answers: Sequence[Answer], rng: random.Random) -> RoundResult:
    respondents = [a for a in answers if is_respondent(a)]
    comments = [a.comment for a in answers if a.comment]
    rng.shuffle(comments)
    return RoundResult(
        round=round_row,
        respondents=len(respondents),
        ease_counts=tuple(sum(a.ease == score for a in respondents) for score in EASE_SCORES),
        sink_counts={sink: sum(sink in a.sinks for a in respondents) for sink in SINKS},
        comments=tuple(comments),
    )


def threshold(config: Config) -> int:
    return max(MIN_THRESHOLD, config.pulse_min_respondents)


def may_show(result: RoundResult, needed: int) -> bool:
    return result.round.closed_at is not None and result.respondents >= needed


def compare(latest: RoundResult, previous: RoundResult) -> Change:
    before, after = previous.ease_mean, latest.ease_mean
    moves = [(sink, previous.share(sink), latest.share(sink)) for sink in SINKS]

    def points(move: tuple[str, float, float]) -> int:
        return round(move[2] * 100) - round(move[1] * 100)

    rising = sorted((m for m in moves if points(m) >= SINK_MOVE_POINTS), key=lambda m: -points(m))
    falling = sorted((m for m in moves if -points(m) >= SINK_MOVE_POINTS), key=points)
    return Change(
        previous=previous,
        ease=(before, after) if before is not None and after is not None else None,
        rising=rising,
        falling=falling,
    )


def _results(deps: Deps, channel_id: str | None, count: int) -> list[RoundResult]:
    """The latest `count` rounds, newest first; comments shuffled with a fresh seed."""
    rng = random.Random(secrets.randbits(64))
    db = deps.store.db
    return [aggregate(r, store.answers(db, r.id), rng) for r in store.rounds(db, channel_id, count)]


def _latest_change(results: Sequence[RoundResult], needed: int) -> Change | None:
    shown = [r for r in results if may_show(r, needed)]
    return compare(shown[0], shown[1]) if len(shown) > 1 else None


def _labelled(moves: Sequence[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    return [(pulse_text.PULSE_SINK_LABELS[sink], a, b) for sink, a, b in moves]


def _change_lines(change: Change, tz: str) -> list[str]:
    lines = [pulse_text.pulse_change_heading(show(change.previous.round.opened_at, tz))]
    if change.ease is not None:
        lines.append(pulse_text.pulse_ease_change(*change.ease))
    if change.rising:
        lines.append(pulse_text.pulse_sinks_moved(True, _labelled(change.rising)))
    if change.falling:
        lines.append(pulse_text.pulse_sinks_moved(False, _labelled(change.falling)))
    if not (change.rising or change.falling):
        lines.append(pulse_text.pulse_sinks_steady(SINK_MOVE_POINTS))
    return lines


def _round_lines(result: RoundResult, needed: int, tz: str) -> list[str]:
    row = result.round
    lines = [pulse_text.pulse_round_heading(show(row.opened_at, tz))]
    if row.closed_at is None:
        missing = max(0, needed - result.respondents)
        lines.append(
            pulse_text.pulse_round_open(show(row.closes_at, tz), result.respondents, missing)
        )
        return lines
    if not may_show(result, needed):
        lines.append(
            pulse_text.pulse_round_hidden(show(row.closed_at, tz), result.respondents, needed)
        )
        return lines
    lines.append(pulse_text.pulse_round_shown(show(row.closed_at, tz), result.respondents))
    mean = result.ease_mean
    if mean is None:
        lines.append(pulse_text.PULSE_NO_EASE)
    else:
        lines.append(pulse_text.pulse_ease_mean(mean, result.rated))
        widest = max(result.ease_counts)
        for score, count in zip(EASE_SCORES, result.ease_counts, strict=True):
            bar = "█" * round(count / widest * BAR_WIDTH)
            lines.append(pulse_text.pulse_ease_bar(score, bar, count))
    lines.append(pulse_text.PULSE_SINKS_HEADING)
    named = sorted((s for s in SINKS if result.sink_counts[s]), key=lambda s: -result.share(s))
    for sink in named:
        label = pulse_text.PULSE_SINK_LABELS[sink]
        lines.append(
            pulse_text.pulse_sink_share(label, result.share(sink), result.sink_counts[sink])
        )
    if not named:
        lines.append(pulse_text.PULSE_NO_SINKS)
    if result.comments:
        lines.append(pulse_text.pulse_comments_heading(len(result.comments)))
        for comment in result.comments:
            # Shown as written, but never as mentions or links.
            lines.append("\n".join(f"> {line}" for line in mrkdwn(comment).split("\n")))
    return lines


def results_reply(deps: Deps, channel_id: str, rounds: int) -> tuple[str, list[Block]]:
    """/pulse results [N rounds]: the latest N rounds of this channel's survey, each shown or
    saying why not, after the change from the previous shown round."""
    results = _results(deps, channel_id, max(rounds, COMPARE_ROUNDS))
    if not results:
        return pulse_text.PULSE_NO_ROUNDS, text_blocks(pulse_text.PULSE_NO_ROUNDS)
    needed = threshold(deps.config)
    header = pulse_text.pulse_results_header(channel_id, needed)
    blocks = text_blocks(header)
    change = _latest_change(results, needed)
    if change is not None:
        blocks += text_blocks("\n".join(_change_lines(change, deps.tz)))
    for result in results[:rounds]:
        blocks += [DividerBlock(), *text_blocks("\n".join(_round_lines(result, needed, deps.tz)))]
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], *text_blocks(pulse_text.PULSE_RESULTS_TRUNCATED)]
    return header, blocks


def summary_lines(deps: Deps, channel_id: str | None) -> list[str]:
    """mrkdwn lines for the weekly summary: the latest round that may be shown, next to the
    previous one; [] when there is none. `channel_id` None looks at every survey."""
    needed = threshold(deps.config)
    shown = [r for r in _results(deps, channel_id, COMPARE_ROUNDS) if may_show(r, needed)]
    if not shown:
        return []
    latest = shown[0]
    change = compare(latest, shown[1]) if len(shown) > 1 else None
    assert latest.round.closed_at is not None
    lines = [
        pulse_text.pulse_summary_heading(show(latest.round.closed_at, deps.tz), latest.respondents)
    ]
    if latest.ease_mean is not None:
        delta = change.ease[1] - change.ease[0] if change and change.ease else None
        lines.append(pulse_text.pulse_summary_ease(latest.ease_mean, delta))
    named = sorted((s for s in SINKS if latest.sink_counts[s]), key=lambda s: -latest.share(s))
    if named:
        top = [(pulse_text.PULSE_SINK_LABELS[s], latest.share(s)) for s in named[:TOP_SINKS]]
        lines.append(pulse_text.pulse_summary_sinks(top))
    if change is not None and change.rising:
        lines.append(pulse_text.pulse_sinks_moved(True, _labelled(change.rising)))
    if change is not None and change.falling:
        lines.append(pulse_text.pulse_sinks_moved(False, _labelled(change.falling)))
    if latest.comments:
        lines.append(pulse_text.pulse_summary_comments(len(latest.comments)))
    return lines
