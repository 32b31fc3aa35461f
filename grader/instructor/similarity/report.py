"""``similarity.csv`` (one row per pair, most similar first) and ``similarity.html``."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.instructor.export import spreadsheet_row
from grader.instructor.similarity.code import highlighted
from grader.instructor.similarity.ranking import Similarity

CSV_COLUMNS = ("rank", "student_a", "student_b", "score", "same_wrong_outputs",
               "common_wrong_outputs", "both_wrong", "code_similarity", "evidence",
               "carried_by")


def csv_text(sim: Similarity) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spreadsheet_row(CSV_COLUMNS))
    for i, p in enumerate(sim.pairs, 1):
        writer.writerow(spreadsheet_row([
            i, p.a, p.b, f"{p.score:.3f}", p.behaviour.rare,
            len(p.behaviour.shared) - p.behaviour.rare, p.behaviour.both_wrong,
            f"{p.code:.3f}", p.evidence(), p.carried_by]))
    return out.getvalue()


def html_page(sim: Similarity, detailed: int = 20, rows: int = 200) -> str:
    """The ranked pairs (the first ``rows``), the common mistakes, and the first ``detailed``
    pairs' evidence with both files side by side, shared regions marked."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(Path(__file__).parent),
                      autoescape=select_autoescape(["j2", "html"]))
    details = []
    for rank, p in enumerate(sim.pairs[:detailed], 1):
        files = [{"folder": m.folder, "a": highlighted(sim.index.code(p.a, m.folder), m.slices_a),
                  "b": highlighted(sim.index.code(p.b, m.folder), m.slices_b),
                  "share_a": m.share_a, "share_b": m.share_b} for m in p.matches]
        details.append({"rank": rank, "pair": p, "files": files})
    return env.get_template("similarity.html.j2").render(sim=sim, details=details, rows=rows)
