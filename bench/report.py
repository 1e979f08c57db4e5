"""A benchmark's result: measures next to the baseline measured in the same run, with their ratio."""

import json
from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Measure:
    name: str
    unit: str
    value: float
    baseline: float | None
    better: Literal["lower", "higher"] = "lower"

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline


@dataclass
class Report:
    subject: str
    description: str
    baseline_name: str
    measures: list[Measure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        header = ("measure", "carebridge", self.baseline_name, "ratio")
        rows = [
            (
                m.name,
                f"{m.value:,.2f} {m.unit}",
                "-" if m.baseline is None else f"{m.baseline:,.2f} {m.unit}",
                "-" if m.ratio is None else f"{m.ratio:.2f}x ({m.better} is better)",
            )
            for m in self.measures
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [f"{self.subject}: {self.description}", ""]
        for row in [header, tuple("-" * w for w in widths), *rows]:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_json(self) -> str:
        measures = [{**asdict(m), "ratio": m.ratio} for m in self.measures]
        return json.dumps({**asdict(self), "measures": measures}, indent=2)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0 to 100) by linear interpolation between the closest ranks."""
    if not samples:
        raise ValueError("no samples to take a percentile of")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
