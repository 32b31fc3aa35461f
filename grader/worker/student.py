"""Inside the confined worker: load the student's module and run the probes on it.

Nothing here ever sees an expected value. What goes back is plain data only.
"""
from __future__ import annotations

import copy
import os
import sys
import time
import traceback
import types
from pathlib import Path

from grader.worker import wire
from grader.course.probes import load_probe, run_probe
from grader.worker.messages import FRAMES, MESSAGE_CHARS, ORIGIN_CHARS, ErrorReport, phase
from grader.worker.sandbox import Limits, explain_no_space

def _libraries() -> tuple[str, ...]:
    """Each installation's ``lib`` folders (``sys.prefix`` and its kin: the standard library,
    site-packages) and the grader's own folder, each ending in a separator."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    folders = [os.path.join(p, lib) for p in prefixes for lib in ("lib", "Lib", "lib64")]
    folders.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(sorted({os.path.join(os.path.abspath(f), "") for f in folders}))


LIBRARIES = _libraries()
"""Where the Python library, installed packages (torch, NumPy) and the grader live (each
installation's ``lib`` folders: a student's files may sit beside a virtual environment's
own): code raised in there is never a student's unfinished stub."""


def load_module(path: str, name: str) -> types.ModuleType:
    """Execute a student's file as module ``name``; errors keep the student's file and line."""
    # The text the grader reads (``submission.source_text``): UTF-8, an editor's byte-order
    # mark dropped, a coding line ignored. Compiled from bytes, a `# coding: utf-7` line ran
    # code that the grader's reading of the file saw as a comment.
    source = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(code, module.__dict__)
    return module


def describe_error(exc: BaseException, student_dir: str, course_root: str = "",
                   module_path: str = "") -> ErrorReport:
    """The exception as a student should see it: type, message, and their own frames.

    Kind ``course`` where the innermost frame is in the course's own files (a course probe, a
    grader-built model), not in the module graded (``module_path``): its ``origin`` is then
    ``<folder>/<file>.py line N``. Only a word for the student: the grader believes it only
    where the reference fails the same case too (``judge``)."""
    frames = []
    stack = traceback.extract_tb(exc.__traceback__)
    # Where it was raised, when not in the student's code (a library they called): plain text.
    origin = "/".join(Path(stack[-1].filename).parts[-2:]) + f":{stack[-1].name}" \
        if stack else ""
    in_course = _course_file(stack[-1].filename, course_root, module_path) if stack else ""
    if in_course:
        origin = f"{in_course} line {stack[-1].lineno}"
    for fs in stack:
        if os.path.abspath(fs.filename).startswith(student_dir):
            frames.append({"file": os.path.basename(fs.filename), "line": fs.lineno,
                           "function": fs.name, "code": (fs.line or "").strip()})
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append({"file": os.path.basename(exc.filename), "line": exc.lineno or 0,
                       "function": "<module>", "code": (exc.text or "").strip()})
    kind = "error"
    # Unfinished only where the student's own code raised it (a stub's ``raise``, in a file
    # or a notebook's cell), never where torch did (a tensor on the ``meta`` device, a
    # module without ``forward``) or the course's own files.
    if isinstance(exc, NotImplementedError) and not in_course and not (
            stack and os.path.abspath(stack[-1].filename).startswith(LIBRARIES)):
        kind = "not_implemented"
    elif isinstance(exc, MemoryError):
        kind = "memory"
    elif isinstance(exc, SystemExit):
        kind = "exit"
    elif in_course:
        kind = "course"
    try:
        message = (explain_no_space(exc) or str(exc))[:MESSAGE_CHARS]
    except BaseException:  # a hostile __str__
        message = "<the exception's message could not be read>"
    return ErrorReport(kind=kind, type=type(exc).__name__, message=message,
                       frames=frames[-FRAMES:], origin=origin[:ORIGIN_CHARS])


def _course_file(filename: str, course_root: str, module_path: str) -> str:
    """``filename`` relative to the course folder when it is one of the course's files other
    than the module graded; '' otherwise."""
    if not course_root or not filename:
        return ""
    path = os.path.abspath(filename)
    root = os.path.abspath(course_root)
    if not path.startswith(root + os.sep) or \
            (module_path and path == os.path.abspath(module_path)):
        return ""
    return os.path.relpath(path, root).replace(os.sep, "/")


def _forget_student_modules(student_dir: str, before: set[str]) -> None:
    """Drop helper modules imported from the student's folders before the next module.
    Only modules new since ``before`` are looked at (torch alone brings thousands)."""
    for name in [n for n in sys.modules if n not in before]:
        path = getattr(sys.modules[name], "__file__", None) or ""
        if isinstance(path, str) and os.path.abspath(path).startswith(student_dir):
            del sys.modules[name]


def run(request: dict, channel: int, hidden_inputs) -> None:
    """Import each student module in turn and make its public calls, then its hidden ones
    (``messages.phase``); one message per event. ``hidden_inputs()`` waits for the hidden
    calls' inputs (by key), which the fork server sends only once it has cut what this
    process printed: they are never here while a public call runs."""
    student_dir = os.path.abspath(request["student_dir"])
    send = lambda msg: wire.write_frame(channel, msg)
    result_bytes = Limits(**request.get("limits", {})).result_bytes
    course_root = request.get("course", {}).get("root", "")
    base_path = list(sys.path)
    before = set(sys.modules)
    loaded: dict[int, types.ModuleType] = {}
    for mi, spec in enumerate(request["modules"]):
        _forget_student_modules(student_dir, before)
        sys.path[:] = [os.path.dirname(spec["module_path"])] + base_path
        send({"event": "importing", "module": mi})
        notebook = spec["module_path"].endswith(".ipynb")
        try:
            if notebook:
                module = load_notebook(spec, request["kernel"],
                                       lambda: send({"event": "kernel_ready", "module": mi}))
            else:
                module = load_module(spec["module_path"], spec["module_name"])
        except BaseException as exc:
            send({"event": "import_error", "module": mi, "error": describe_error(exc, student_dir)})
            if notebook:
                return
            continue
        send({"event": "imported", "module": mi, "notes": []})
        loaded[mi] = module
        for i in phase(spec, hidden=False):
            run_call(module, spec["calls"][i], mi, i, request["device"], spec["module_path"],
                     student_dir, channel, course_root, result_bytes)
        if notebook and mi + 1 < len(request["modules"]):
            return  # a process serves one kernel: the modules left get a fresh fork
    hidden = [(mi, i) for mi in loaded for i in phase(request["modules"][mi], hidden=True)]
    if not hidden:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    send({"event": "public_done"})
    inputs = hidden_inputs()
    for mi, i in hidden:
        spec = request["modules"][mi]
        call = dict(spec["calls"][i])
        call["inputs"] = inputs.get(call["key"]) if isinstance(inputs, dict) else None
        run_call(loaded[mi], call, mi, i, request["device"], spec["module_path"],
                 student_dir, channel, course_root, result_bytes)


def load_notebook(spec: dict, kernel: dict, ready) -> types.ModuleType:
    """Serve the notebook's kernel (the fork server runs its cells), then wrap its names."""
    from grader.worker.kernel import serve
    from grader.worker.notebook import read
    if "error" in kernel:
        raise RuntimeError(kernel["error"])
    read(spec["module_path"])  # not a notebook: say so before any kernel starts
    namespace = serve(kernel["connection_file"], ready, kernel["forbid_sockets"],
                      os.path.dirname(spec["module_path"]))
    module = types.ModuleType(spec["module_name"])
    module.__file__ = spec["module_path"]
    module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("_")})
    return module


HELD_INPUTS: dict = {}
"""Decoded inputs by key, filled by the fork server before it forks (children inherit it)."""


def inputs_of(call: dict) -> dict:
    """The call's inputs: sent with it, or held since the fork (copied: student code may
    change them in place, and another call may use the same ones)."""
    if "inputs" in call:
        return call["inputs"]
    return copy.deepcopy(HELD_INPUTS[call["key"]])


def run_call(module, call: dict, mi: int, i: int, device: str, module_path: str,
             student_dir: str, channel: int, course_root: str = "",
             result_bytes: int = Limits.result_bytes) -> None:
    head, payload = call_event(module, call, mi, i, device, module_path, student_dir,
                               course_root, result_bytes)
    if payload is None:
        wire.write_frame(channel, head)
    else:  # the output travels as a part of its own: the fork server relays it undecoded
        wire.write_payload(channel, wire.join_parts(head, [payload]))


def call_event(module, call: dict, mi: int, i: int, device: str, module_path: str,
               student_dir: str, course_root: str = "",
               result_bytes: int = Limits.result_bytes) -> tuple[dict, bytes | None]:
    """Make one call: its event, and its output encoded (None for an error). What a fork
    sends, and what a student's self-check reads in its own process (``selfrun``)."""
    if call["name"] not in vars(module):
        return {"event": "error", "module": mi, "index": i, "error": {
            "kind": "missing", "type": "NameError", "frames": [],
            "message": f"`{call['name']}` is not defined in {Path(module_path).name}"}}, None
    started = time.perf_counter()
    try:
        probe = load_probe(call["probe"], call.get("probe_module", ""), course_root)
        output = run_probe(module, probe, call["name"], inputs_of(call), device, call["seed"])
        payload = wire.dumps(output)
    except BaseException as exc:
        return {"event": "error", "module": mi, "index": i,
                "error": describe_error(exc, student_dir, course_root, module_path)}, None
    if len(payload) > result_bytes:
        return {"event": "error", "module": mi, "index": i, "error": too_large(
            "the result is", len(payload), result_bytes)}, None
    return {"event": "result", "module": mi, "index": i,
            "seconds": time.perf_counter() - started}, payload


def too_large(what: str, size: int, limit: int) -> ErrorReport:
    """The error of a result too large to send back: ``what`` came to ``size`` bytes."""
    return ErrorReport(kind="too_large", type="ResultTooLarge", frames=[], origin="",
                       message=f"{what} {size / 2**20:.1f} MiB once encoded; at most "
                               f"{limit / 2**20:.0f} MiB can be sent back to the grader")


def import_course_probes(request: dict) -> None:
    """Import the course's probe modules a request names (before confinement: they live in
    the course folder, which the confined worker cannot read)."""
    course = request.get("course") or {}
    if course.get("root"):
        from grader.course.modules import import_course_module
        for name in course.get("probes", []):
            import_course_module(Path(course["root"]), name)
