"""When the chief saves: multiples of --save_checkpoint_steps crossed,
--save_checkpoint_secs passed, the last step."""

from mnist_tf1.run_dir import save_schedule


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_due_when_the_global_step_crosses_a_multiple_whoever_took_it():
    schedule = save_schedule.SaveSchedule(100, None, 1000, 0, clock=Clock())
    assert not schedule.due(1) and not schedule.due(99)
    assert schedule.due(100)
    # Another worker took step 100: the chief next sees 103; still due.
    assert schedule.due(103)
    schedule.saved(103)
    assert not schedule.due(150) and not schedule.due(199)
    assert schedule.due(250)
    assert schedule.next_step(103) == 200


def test_due_at_the_last_step_and_never_past_it():
    schedule = save_schedule.SaveSchedule(300, None, 1000, 900, clock=Clock())
    assert not schedule.due(950)
    assert schedule.due(1000)
    assert schedule.next_step(950) == 1000
    assert schedule.next_step(900) == 1000


def test_due_by_time_once_steps_were_taken():
    clock = Clock()
    schedule = save_schedule.SaveSchedule(1000, 30, 5000, 0, clock=clock)
    assert not schedule.time_due()
    clock.now += 29
    assert not schedule.due(10)
    clock.now += 1
    assert schedule.time_due() and schedule.due(10)
    # Nothing new to save: not due by time.
    assert not schedule.due(0)
    schedule.saved(10)
    assert not schedule.time_due() and not schedule.due(11)


def test_a_continued_run_counts_from_its_restored_step():
    schedule = save_schedule.SaveSchedule(1000, None, 5000, 2000,
                                          clock=Clock())
    assert not schedule.due(2001) and not schedule.due(2999)
    assert schedule.due(3000)
    assert schedule.next_step(2000) == 3000
