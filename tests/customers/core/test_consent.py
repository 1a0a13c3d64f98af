"""Consent per channel and purpose as pure rules (customers.core.consent)."""

from __future__ import annotations

from customers.core.consent import ALL, MARKETING, PURPOSES, SERVICE, SURVEY, blocked_channels, refused_pairs


def test_no_row_allows_everything():
    assert refused_pairs([]) == frozenset()


def test_a_refusal_of_a_channel_with_no_purpose_refuses_every_purpose():
    refused = refused_pairs([("call", ALL, False)])
    assert refused == {("call", p) for p in PURPOSES}
    assert blocked_channels(refused) == {"call"}


def test_a_refusal_of_sales_calls_leaves_service_reminders_and_surveys():
    refused = refused_pairs([("call", MARKETING, False)])
    assert refused == {("call", MARKETING)}
    assert blocked_channels(refused) == frozenset()


def test_a_purposes_own_consent_outweighs_its_channels_refusal():
    # "no calls, except about the car's service"
    refused = refused_pairs([("call", ALL, False), ("call", SERVICE, True)])
    assert refused == {("call", SURVEY), ("call", MARKETING)}
    assert blocked_channels(refused) == frozenset()


def test_every_purpose_refused_one_by_one_blocks_the_channel():
    refused = refused_pairs([("sms", p, False) for p in PURPOSES])
    assert blocked_channels(refused) == {"sms"}
