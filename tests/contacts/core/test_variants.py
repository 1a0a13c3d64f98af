from __future__ import annotations

from collections import Counter

from contacts.core import figures
from contacts.core.variants import choose_variant


def test_the_choice_is_the_same_for_the_same_customer_and_template():
    split = [("A", 70), ("B", 30)]
    first = [choose_variant(code="service_invite", subject=n, split=split) for n in range(500)]
    assert first == [choose_variant(code="service_invite", subject=n, split=split) for n in range(500)]


def test_the_choice_follows_the_split_over_many_customers():
    split = [("A", 50), ("B", 30), ("C", 20)]
    counts = Counter(choose_variant(code="x", subject=n, split=split) for n in range(20_000))
    # binomial standard deviations on 20,000 are about 0.35 percentage points: 4 sigma is 1.4
    assert abs(counts["A"] / 20_000 - 0.5) < 0.014
    assert abs(counts["B"] / 20_000 - 0.3) < 0.013
    assert abs(counts["C"] / 20_000 - 0.2) < 0.012


def test_templates_draw_independently_and_no_split_gives_no_variant():
    split = [("A", 50), ("B", 50)]
    one = [choose_variant(code="one", subject=n, split=split) for n in range(2000)]
    two = [choose_variant(code="two", subject=n, split=split) for n in range(2000)]
    same = sum(a == b for a, b in zip(one, two, strict=True))
    assert 900 < same < 1100  # independent draws agree half the time
    assert choose_variant(code="one", subject=1, split=[]) == ""


def test_a_difference_is_proven_only_when_its_interval_leaves_out_zero():
    assert not figures.is_proven(None)
    assert not figures.is_proven((-0.02, 0.05))
    assert figures.is_proven((0.01, 0.05))
    assert figures.is_proven([-0.09, -0.01])
