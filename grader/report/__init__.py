"""Stage 4, reporting: what a student and an instructor read.

``student`` writes a student's result as terminal text and as Gradescope's ``results.json``
(atomically, control characters made inert), ``html`` renders the self-contained
``report.html`` and ``plots`` draws its pictures as SVG (``chart``, through a Jinja2
template).

In: a ``StudentResult`` (``judge.results``). Out: text and files. Nothing is decided here:
a report shows what the judge said, and hidden cases only as the judge allowed.
"""
