"""What the person watching a run sees on stderr: one-line notes and the progress bar."""

from __future__ import annotations

import sys
import time


def say(text: str) -> None:
    """A line for the person watching (stderr, flushed)."""
    print(text, file=sys.stderr, flush=True)


class Progress:
    """One line on stderr: what runs now, how far, and the time left."""

    def __init__(self, total: float) -> None:
        """`total`: the run's planned seconds (time-based) or requests (count-based)."""
        self.total = max(total, 1)
        self.done = 0.0
        self.started = time.monotonic()

    def show(self, label: str) -> None:
        """Print the bar with `label` for the step about to run."""
        frac = self.done / self.total
        elapsed = time.monotonic() - self.started
        left = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * 20)
        say(f"[{bar:<20}] {frac:4.0%}  ~{left:4.0f}s left  {label}")

    def advance(self, amount: float) -> None:
        """Count the seconds (or requests) of what is done."""
        self.done += amount
