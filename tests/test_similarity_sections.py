"""Similarity on sections of 8, 12 and 30 (issue 29): the copying pair first whatever the size,
a mistake three students made on their own below every pair that shares code."""
import io
import pytest

from grader.course.loader import load_course
from grader.grade import Session
from grader.instructor.batch import discover, run_batch
from grader.instructor.gradebook import Gradebook
from grader.instructor.progress import Progress
from grader.instructor.similarity.behaviour import common_threshold, shared_outputs
from grader.instructor.similarity.ranking import rank
from similarity_class import COPIERS, TRIO, section_names, write_section

COURSE = load_course()
A01 = COURSE.assignment("01_gradient_descent")
SIZES = (8, 12, 30)


@pytest.fixture(scope="module")
def section(pool, expected, tmp_path_factory):
    """A section of 30 batch-graded on 01 with hidden cases; its first 8 and 12 students are
    sections of 8 and 12 built the same way (the copying pair, the trio, the others)."""
    root = tmp_path_factory.mktemp("sections")
    subs, results = root / "submissions", root / "results"
    write_section(subs, A01.folder, A01.module, max(SIZES))
    session = Session(pool, (A01,), secret="sections", expected=expected,
                      one_fork_per_student=True, max_timeout=5)
    book = Gradebook(results / "gradebook.sqlite")
    try:
        outcome = run_batch(session, discover(subs), book, results,
                            progress=Progress(max(SIZES), io.StringIO()))
        rows = book.wrong_outputs()
    finally:
        book.close()
    assert not outcome.failed and len(outcome.graded) == max(SIZES)
    return subs, rows


def ranked(section, size):
    subs, rows = section
    names = section_names(size)
    return rank(COURSE, [r for r in rows if r[0] in names], sorted(names), subs)


def is_pair(p, names) -> bool:
    return {p.a, p.b} <= set(names)


@pytest.mark.parametrize("size", SIZES)
def test_the_copying_pair_ranks_first_on_a_section_of_any_size(section, size):
    sim = ranked(section, size)
    first = sim.pairs[0]
    assert {first.a, first.b} == set(COPIERS)
    # their wrong output is the catalogue's "sum instead of mean", returned by them alone and
    # backed by their code: evidence, not a teaching point
    assert first.behaviour.shared and all(s.catalogued and len(s.students) == 2
                                         for s in first.behaviour.shared)
    assert first.behaviour.score(first.code) > 0 and first.code > 0.3
    assert first.carried_by == "code and behaviour"
    assert "carried by code and behaviour" in first.evidence()
    assert not any(set(m.students) == set(COPIERS) for m in sim.common)
    assert first.score > 2 * sim.pairs[1].score


@pytest.mark.parametrize("size", SIZES)
def test_three_who_made_the_same_mistake_alone_rank_below_every_pair_sharing_code(section,
                                                                                  size):
    sim = ranked(section, size)
    trio = [p for p in sim.pairs if is_pair(p, TRIO)]
    assert len(trio) == 3 and all(p.behaviour.shared and p.code == 0 for p in trio)
    with_code = [sim.pairs.index(p) for p in sim.pairs if p.code > 0]
    assert len(with_code) > 3
    assert min(sim.pairs.index(p) for p in trio) > max(with_code)
    assert all(p.score == 0 and p.carried_by == "nothing" for p in trio)
    # and the instructor is told what it is: a mistake they made each on their own
    mistake = next(m for m in sim.common if m.test.endswith("/mse_grad"))
    assert set(mistake.students) == set(TRIO)
    assert mistake.independent == (size >= 20)  # in 8 or 12, three is already common


@pytest.mark.parametrize("size", SIZES)
def test_pairs_say_which_signal_carried_them(section, size):
    for p in ranked(section, size).pairs:
        assert p.carried_by in ("code", "behaviour", "code and behaviour", "nothing")
        if p.code > 0 and not p.behaviour.score(p.code):
            assert p.carried_by == "code" and p.evidence().startswith("carried by code (")


def test_the_common_threshold_never_makes_two_students_common():
    assert [common_threshold(n) for n in (2, 8, 12, 30, 300)] == [3, 3, 3, 5, 45]
    # a wrong output two students alone return, in a section of two to three hundred
    for n in (2, 8, 12, 30, 300):
        rows = [(s, "01/f", "h1", True, "sig", "") for s in ("a", "b")]
        shared, pairs = shared_outputs(rows, n)
        assert not shared[0].common and pairs[("a", "b")].score() == 1.0


def test_no_code_passage_only_two_students_share_is_dropped(section):
    owners = ranked(section, 8).index._owners()
    pair_only = [k for k, who in owners.items() if who == set(COPIERS)]
    assert pair_only  # kept after the common passages were dropped
    assert all(len(who) < common_threshold(8) for who in owners.values())
