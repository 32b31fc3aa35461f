"""Stage 3, judging: what a student's plain outputs earn, and why.

``expected`` runs the reference (trusted code, in the grader's process) for the values a
case should give, ``store`` keeps them between runs and ``public`` is the part a student's
copy ships; ``compare`` measures closeness the way ``torch.testing.assert_close`` does and
says where outputs differ; ``verdict`` turns one case's outcome into a ``CaseResult``
(passed, wrong, error, not graded) and ``ownloop`` applies the own-loop rule from calls of
the student's own functions; ``results`` is the result model every report reads; ``feedback``
holds the words of verdicts; ``diagnose/`` explains failures (a cause only with a witness).

In: a ``Course``'s cases and what came back from a student's fork (plain data only, from
``worker``). Out: ``StudentResult``s. Nothing here runs student code or trusts what a fork
says about itself: every point is computed here, from the student's outputs.
"""
