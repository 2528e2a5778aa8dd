"""The chapters' timer, on a clock that the functions themselves advance (no real timing)."""

from backprop_lab import best_time, best_times


class Clock:
    def __init__(self):
        self.now, self.log = 0.0, []

    def __call__(self):
        return self.now

    def work(self, name, seconds):
        def fn():
            self.log.append(name)
            self.now += seconds
        return fn


def test_the_fastest_run_per_call_is_reported():
    clock = Clock()
    costs = iter([0.5, 0.2, 0.3, 0.2, 0.4, 0.9])  # per call, changing from call to call

    def fn():
        clock.now += next(costs)

    assert best_time(fn, repeats=3, number=2, clock=clock) == 0.25  # runs of 0.7, 0.5, 1.3 s


def test_runs_take_turns_and_calls_fill_the_budget():
    clock = Clock()
    a, b = clock.work("a", 0.125), clock.work("b", 0.375)  # binary fractions: exact sums
    assert best_times(a, b, repeats=2, budget=1.0, clock=clock) == [0.125, 0.375]
    # one warm-up call each, then runs of 8 and 3 calls (at least the budget), taking turns
    assert clock.log == ["a", "b"] + (["a"] * 8 + ["b"] * 3) * 2
