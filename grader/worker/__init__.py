"""Stage 2, running untrusted code: the trust boundary (see README.md in this folder).

Everything that touches a student's code or files: ``submission`` reads a student's folder
without following it, ``pool`` (the grader's side) sends requests to warm fork servers
(``zygote``), which supervise (``supervisor``) each student's confined ``child``
(``sandbox``), forked by a clean ``forker``; ``student`` runs inside the child, ``messages`` declares what the child may say, ``wire``
encodes plain data across every process boundary; ``kernel``/``notebook``/``provisioner``
run a notebook; ``selfrun`` is a student's self-check in their own process; ``device``
chooses the device.

In: a ``Job`` of calls (probe, name, inputs of public and hidden cases). Out: a
``JobOutcome`` of plain data (described outputs, error reports, printed text). Expected
values never cross into a student's process; only plain data comes back.
"""
