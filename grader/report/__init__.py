"""Stage 4, reporting: what a student and an instructor read.

``student`` writes a student's result as terminal text and as Gradescope's ``results.json``
(atomically, control characters made inert), ``html`` renders the self-contained
``report.html`` (Jinja2) and ``plots`` draws its pictures (matplotlib, Agg).

In: a ``StudentResult`` (``judge.results``). Out: text and files. Nothing is decided here:
a report shows what the judge said, and hidden cases only as the judge allowed.
"""
