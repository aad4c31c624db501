from ragft.evaluate.phases import PhaseClock
from ragft.evaluate.progress import ANSWERING, INDEX, SUMMARY, WARM_UP
from ragft.rag.progress import INDEXING


def test_eval_stages_become_phases_in_order_and_the_sync_events_stay_inside_the_index_phase():
    clock, heard = PhaseClock(), []
    report = clock.watch(lambda *event: heard.append(event))
    clock.start("train")
    for event in [(INDEX, 0, 1, "indexing"), (INDEXING, 0, 3, ""), (INDEXING, 3, 3, ""), (WARM_UP, 0, 1, "warm"),
                  (ANSWERING, 0, 2, "answering"), (ANSWERING, 1, 2, "rag"), (ANSWERING, 2, 2, "rag"),
                  (SUMMARY, 0, 1, "verdict")]:
        report(*event)
    clock.stop()

    assert list(clock.as_dict()) == ["train", "eval:index", "eval:warm-up", "eval:answering", "eval:summary"]
    assert len(heard) == 8     # the caller's callback hears every event, unchanged
    assert heard[1] == (INDEXING, 0, 3, "")


def test_a_phase_entered_twice_adds_up_and_cpu_seconds_count_the_work_done_in_it():
    clock = PhaseClock()
    with clock.phase("work"):
        sum(i * i for i in range(300_000))
    first = clock.phases["work"].cpu_seconds
    with clock.phase("idle"):
        pass
    with clock.phase("work"):
        sum(i * i for i in range(300_000))

    times = clock.as_dict()
    assert list(times) == ["work", "idle"]
    assert clock.phases["work"].cpu_seconds > first > 0
    assert set(times["idle"]) == {"seconds", "cpu_seconds", "load_start", "load_end"}
