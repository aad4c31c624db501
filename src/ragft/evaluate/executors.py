"""Who answers an eval's questions: this process one at a time, `concurrency` threads (provider generators wait
on the network, so N requests in flight make the run ~N times faster), or Ray actors across a cluster.

`answer_all` yields the records in the order of the work given, whatever order they finish in, so questions.jsonl
is the same file however a run was executed and a resumed run skips exactly what was written. At most a window
of `2 x workers` questions is in flight ahead of the next one to write. Retries on 429 and 5xx (honouring
Retry-After) stay in the one HTTP client (ragft.llm.http), per request, so threads back off independently.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from ragft.evaluate.config import EvalConfig
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.records import QuestionRecord

# Generators that compute on this machine: threads would only contend for its cores (and one loaded model).
SERIAL_GENERATORS = frozenset({"local"})

Work = tuple[EvalItem, int, Any]            # (item, repeat, system)
Answer = Callable[..., QuestionRecord]      # scoring.answer_and_score(system, item, repeat, config, judge)


def answer_all(work: Sequence[Work], answer: Answer, config: EvalConfig, judge=None, index=None,
               warm: Sequence[EvalItem] = ()) -> Iterator[QuestionRecord]:
    """The records of `work`, in its order. `index`: the run's Index, reopened read-only by Ray workers;
    `warm`: questions each Ray worker answers once, untimed, before its first timed one."""
    if config.engine == "ray":
        yield from _on_ray(work, answer, config, getattr(index, "path", None), warm)
    elif config.concurrency > 1:
        yield from _on_threads(work, answer, config, judge)
    else:
        for item, repeat, system in work:
            yield answer(system, item, repeat, config, judge)


def in_order(work: Iterable[Any], submit: Callable[[Any], Any], result: Callable[[Any], Any],
             window: int) -> Iterator[Any]:
    """Submit at most `window` items ahead of the oldest unfinished one; yield results in submission order."""
    pending: deque = deque()
    items = iter(work)
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


def _on_threads(work: Sequence[Work], answer: Answer, config: EvalConfig, judge) -> Iterator[QuestionRecord]:
    serial = threading.Lock()

    def one(job: Work) -> QuestionRecord:
        item, repeat, system = job
        if system.config.generator in SERIAL_GENERATORS:
            with serial:
                return answer(system, item, repeat, config, judge)
        return answer(system, item, repeat, config, judge)

    pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="ragft-eval")
    try:
        yield from in_order(work, lambda job: pool.submit(one, job), lambda future: future.result(),
                            2 * config.concurrency)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class EvalWorker:
    """A Ray actor: builds the run's systems from the config (its own generators and a read-only handle on the
    run's index), then answers one question at a time."""

    def __init__(self, config: EvalConfig, index_path: str | None, answer: Answer, warm: Sequence[EvalItem]):
        from ragft.evaluate.systems import BuildContext, build_system, retriever_index_dir
        from ragft.rag.engine import Index

        index = None
        if index_path is not None:
            index = Index.open(index_path, embedder=config.embedder, create=False)
        context = BuildContext(index=index, max_tokens=config.max_tokens, index_builder=lambda retriever: Index.open(
            retriever_index_dir(Path(index_path).parent, retriever), embedder=retriever, create=False))
        self.systems = {system.name: build_system(system, context) for system in config.systems}
        self.config, self.answer_fn, self.judge = config, answer, _judge(config)
        for system in self.systems.values():
            for item in warm:
                try:
                    system.answer(item, config.seed)
                except Exception:     # noqa: BLE001 - the timed pass records the error on the question
                    pass

    def answer(self, item: EvalItem, repeat: int, system: str) -> QuestionRecord:
        return self.answer_fn(self.systems[system], item, repeat, self.config, self.judge)


def _judge(config: EvalConfig):
    if not config.judge:
        return None
    from ragft.llm import create_generator
    from ragft.rag.grounding import LLMJudge

    return LLMJudge(create_generator(config.judge, **config.judge_options))


def _on_ray(work: Sequence[Work], answer: Answer, config: EvalConfig, index_path: Path | None,
            warm: Sequence[EvalItem]) -> Iterator[QuestionRecord]:
    from ragft.rag.distributed import connect

    if not work:
        return
    ray = connect(config.address)
    workers = config.concurrency if config.concurrency > 1 else max(1, int(ray.cluster_resources().get("CPU", 1)))
    actor = ray.remote(num_cpus=1, max_restarts=3, max_task_retries=3)(EvalWorker)
    path = None if index_path is None else str(index_path)
    pool = [actor.remote(config, path, answer, list(warm)) for _ in range(min(workers, len(work)))]
    turn = iter(range(len(work)))

    def submit(job: Work):
        item, repeat, system = job
        return pool[next(turn) % len(pool)].answer.remote(item, repeat, system.name)

    try:
        yield from in_order(work, submit, ray.get, 2 * len(pool))
    finally:
        for worker in pool:
            ray.kill(worker)
