"""X-PagerDuty-Signature against PagerDuty's own published test vector (go-pagerduty's
webhookv3 test): the exact body bytes, the secret as plain text."""

from __future__ import annotations

from pathlib import Path

from bot.sources.pagerduty.webhook import signature, signature_matches

PAYLOADS = Path(__file__).parent.parent / "fakes" / "pagerduty_payloads"
BODY = (PAYLOADS / "go-pagerduty_signature_test_body.json").read_bytes()
SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
VECTOR = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
MISMATCH = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"


def test_the_body_is_the_published_one() -> None:
    assert len(BODY) == 1655


def test_the_published_vector_passes() -> None:
    assert signature(SECRET, BODY) == VECTOR
    assert signature_matches(SECRET, BODY, VECTOR)


def test_the_published_mismatch_fails() -> None:
    assert not signature_matches(SECRET, BODY, MISMATCH)


def test_one_match_among_several_is_enough_during_a_rotation() -> None:
    assert signature_matches(SECRET, BODY, f"{MISMATCH},{VECTOR}")
    assert signature_matches(SECRET, BODY, f"{VECTOR}, {MISMATCH}")
    assert not signature_matches(SECRET, BODY, f"{MISMATCH},{MISMATCH}")


def test_missing_malformed_or_changed_is_refused() -> None:
    for header in ("", "v1=", ",", VECTOR[3:], VECTOR.upper(), "v0=" + VECTOR[3:], "é" + VECTOR):
        assert not signature_matches(SECRET, BODY, header), header
    assert not signature_matches(SECRET, BODY + b" ", VECTOR)
    assert not signature_matches(SECRET + "x", BODY, VECTOR)
