"""The driver's side: connect to a cluster (or start a local one) and grade a class there.

``DaskRunner`` is a batch runner (see ``batch.run_batch``): the students go out as tasks, the
results come back in the order they finish, and the batch writes them exactly as it writes
the local pool's. Dask retries a task whose worker died (another worker takes it); a
student's own code can only kill its fork, which costs that student's checks, as locally.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from grader.instructor.batch import Finished, RunnerLost
from grader.instructor.cluster.payload import (SubmissionTooLarge, attach, decisions,
                                               pack_course, pack_student)
from grader.instructor.cluster.worker import PLUGIN, REPAIRS, GraderPlugin, grade_student

CONNECT_TIMEOUT = 10.0
WORKERS_TIMEOUT = 60.0
RETRIES = 2
ARRIVAL_POLL = 0.02
"""How long the driver sleeps when no student has arrived (it looks whether the batch was told
to stop between two looks; a signal is recorded, not raised, while it waits)."""


class ClusterError(Exception):
    """The cluster cannot be used (unreachable, no workers, no GPU worker): one line."""


def connect(spec: str):
    """``tcp://host:port`` (an existing scheduler) or ``local:N`` (N local worker processes)."""
    import logging
    from distributed import Client, LocalCluster
    # Dask logs its reconnection attempts with tracebacks; the batch says what happened in
    # one line of its own (a lost scheduler, a lost worker is simply retried).
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.startswith("distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    if spec.startswith("local:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise ClusterError(f"--cluster {spec}: write local:N with N >= 1 workers")
        import dask
        # Dask's own housekeeping, tuned for dashboards, costs CPU the students' code would
        # rather have on a small machine: the statistical profiler samples every worker thread
        # 100 times a second, the event-loop watchdog ticks every 20 ms, the system monitor
        # polls psutil twice a second. (A cluster of your own: see docs/cluster.md.)
        dask.config.set({"distributed.worker.profile.enabled": False,
                         "distributed.admin.tick.interval": "1s",
                         "distributed.admin.system-monitor.interval": "5s",
                         "distributed.worker.memory.monitor-interval": "1s"})
        # Each worker: one fork server and two threads (see worker.GraderPlugin.setup).
        cluster = LocalCluster(n_workers=n, threads_per_worker=2, processes=True,
                               dashboard_address=None, silence_logs=50)
        return Client(cluster)
    try:
        return Client(spec, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {spec}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                           ) from None


def close(client) -> None:
    cluster = client.cluster if hasattr(client, "cluster") else None
    client.close()
    if cluster is not None:
        cluster.close()


class DaskRunner:
    """Grades on a Dask cluster; the driver process writes everything."""

    def __init__(self, client, session, max_timeout: float | None = None,
                 pictures: str = "failing"):
        from grader.course.fingerprint import grader_version
        self.client, self.session = client, session
        self.pictures = pictures
        self._fetched: dict = {}
        """Results fetched together (``_fetch``), by task key, until ``result`` takes them."""
        self.version = grader_version(session.course[0].course_root)
        """What the batch records; the workers write it into each results.json."""
        self.course = session.course
        self.max_timeout = max_timeout
        self.address = getattr(client.scheduler, "address", "the scheduler")
        self.resources = {"GPU": 1} if session.device.startswith("cuda") else None
        self.batch = uuid.uuid4().hex
        """This batch's name on the scheduler, where its workers share repair searches."""

    def prepare(self) -> None:
        from grader.course.loader import load_course
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except TimeoutError:
            raise ClusterError(f"no worker joined the scheduler at {self.address} within "
                               f"{WORKERS_TIMEOUT:.0f} s") from None
        self.check_nodes()
        if self.resources:
            workers = self.client.scheduler_info().get("workers", {}).values()
            if not any(w.get("resources", {}).get("GPU") for w in workers):
                raise ClusterError("--device cuda: no worker of the cluster offers a GPU "
                                   "(start GPU workers with `dask worker ... --resources GPU=1`)")
        root = self.course[0].course_root
        self.full_course = load_course(root)
        if not self.resources:  # the driver may have no GPU: then the workers compute them
            self.session.warm_expected()
        plugin = GraderPlugin(pack_course(Path(root)), [a.folder for a in self.course],
                              self.session.secret, self.session.device,
                              self.session.include_hidden, self.session.confine,
                              self.max_timeout, expected=self.session.expected.export(),
                              version=self.version, pictures=self.pictures,
                              diagnoses=self.session.diagnoser.export()
                              if self.session.diagnoser else [], batch=self.batch)
        self.client.register_plugin(plugin, name=PLUGIN)

    def check_nodes(self) -> None:
        """Every node (the scheduler too: it reads the tasks) imports the grader this machine
        runs, or the batch stops here, before any student is marked, naming each node."""
        import cloudpickle
        from grader.course.fingerprint import engine_version
        from grader.instructor.cluster import probe
        cloudpickle.register_pickle_by_value(probe)  # runs where the grader cannot import
        try:
            nodes = {f"the scheduler at {self.address}":
                     self.client.run_on_scheduler(probe.node_grader)}
            nodes.update({f"worker {address}": answer for address, answer in
                          self.client.run(probe.node_grader, on_error="return").items()})
        finally:
            cloudpickle.unregister_pickle_by_value(probe)
        mine = engine_version()
        wrong = []
        for node, answer in nodes.items():
            if isinstance(answer, BaseException):
                wrong.append(f"{node} did not answer ({type(answer).__name__}: {answer})")
            elif answer[0] is None:
                wrong.append(f"{node} cannot import the grader ({answer[1]})")
            elif answer[0] != mine:
                wrong.append(f"{node} runs grader {answer[0]}")
        if wrong:
            more = f"; and {len(wrong) - 3} other node(s)" if len(wrong) > 3 else ""
            raise ClusterError(f"this machine runs grader {mine}, but {'; '.join(wrong[:3])}"
                               f"{more}: install this grader in every node's environment "
                               "(`make venv` in the same checkout, docs/cluster.md) and "
                               "restart them; no student was graded")

    def submit(self, submission):
        """One student, as the batch collected it (its private copy and decisions)."""
        try:
            files = pack_student(submission.root)
        except SubmissionTooLarge as exc:
            return _Failed(exc)
        # a fresh key per run: a long-lived cluster must not hand back an earlier run's result
        return self.client.submit(grade_student, submission.name, files, decisions(submission),
                                  pure=False,
                                  key=f"grade-{submission.name}-{uuid.uuid4().hex[:12]}",
                                  retries=RETRIES,
                                  resources=self.resources)

    def as_completed(self, futures, stop=None):
        """Lists of finished students: whatever arrived since the last list (at least one),
        so the batch saves them together. Ends early once ``stop()`` is true."""
        from distributed import as_completed
        local = [f for f in futures if isinstance(f, _Failed)]
        remote = [f for f in futures if not isinstance(f, _Failed)]
        if local:
            yield local
        if not remote:
            return
        arriving = as_completed(remote)
        try:
            while not arriving.is_empty() and not (stop and stop()):
                ready = arriving.next_batch(block=False)
                if not ready:
                    time.sleep(ARRIVAL_POLL)
                    continue
                if any(f.status == "cancelled" for f in ready) and \
                        self.client.status != "running":
                    raise RunnerLost(self._lost())
                self._fetch([f for f in ready if f.status == "finished"])
                yield ready
        except (OSError, TimeoutError) as exc:
            raise RunnerLost(self._lost(exc)) from None

    def _fetch(self, finished) -> None:
        """The results of ``finished`` in one request (a worker sends all it holds at once),
        instead of one round trip each; whatever this misses, ``result`` asks for itself."""
        if len(finished) < 2:
            return
        try:
            got = self.client.gather(finished, errors="skip")
        except Exception:  # a worker gone meanwhile: each is asked for on its own
            return
        if len(got) == len(finished):
            self._fetched.update(zip((f.key for f in finished), got))

    def result(self, future):
        from concurrent.futures import CancelledError
        if isinstance(future, _Failed):
            raise future.error
        try:
            fetched = self._fetched.pop(future.key, None)
            result = fetched if fetched is not None else future.result()
        except CancelledError:
            raise RunnerLost(self._lost()) from None
        except (OSError, TimeoutError) as exc:
            if self.client.status != "running" or "scheduler" in str(exc).lower():
                raise RunnerLost(self._lost(exc)) from None
            raise
        if isinstance(result, Finished):  # results.json and the page made on the worker
            attach(result.result, self.full_course)
            if result.diagnoses and self.session.diagnoser is not None:  # for the store
                self.session.diagnoser.preload(result.diagnoses,
                                               self.course[0].course_root)
            return result
        return attach(result, self.full_course)

    def _lost(self, exc: BaseException | None = None) -> str:
        why = f" ({type(exc).__name__})" if exc else ""
        return f"lost the Dask scheduler at {self.address}{why}"

    def stop(self, futures) -> None:
        try:
            self.client.cancel([f for f in futures if not isinstance(f, _Failed)])
        except Exception:  # the scheduler may be the thing that went away
            pass

    def close(self) -> None:
        try:
            self.client.unregister_worker_plugin(PLUGIN)
        except Exception:
            pass
        try:  # the batch's shared repair searches leave the scheduler with it
            self.client.set_metadata([REPAIRS, self.batch], {})
        except Exception:
            pass


class _Failed:
    """A student that could not be sent (too large): fails like a task would."""

    def __init__(self, error: Exception):
        self.error = error
