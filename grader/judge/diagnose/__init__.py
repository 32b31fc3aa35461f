"""Explaining failures, the way a TA would: what is wrong, and why.

- ``catalogue``: a course's known mistakes, matched by output or by error;
- ``patterns``: generic causes read from the numbers and the case (any course), drawing on
  ``outputs`` (findings over a whole output), ``trajectories`` (findings on paths) and
  ``case`` (a case's inputs as the diagnoses read them);
- ``variants``: the reference re-run on varied inputs (a subset, a scaled step);
- ``errors``: exceptions whose cause is known whatever the exercise;
- ``uses``: which contract names a submission's definitions call (for attribution).
"""
from grader.judge.diagnose.catalogue import Diagnoser
from grader.judge.diagnose.cause import Diagnosis
from grader.judge.diagnose.errors import explain_error
from grader.judge.diagnose.patterns import generic
from grader.judge.diagnose.trajectories import own_loop_holds

__all__ = ["Diagnoser", "Diagnosis", "explain_error", "generic", "own_loop_holds"]
