"""The export worker's streaming keeps memory flat: leads go through the real CSV writer and the
real part buffer (``export_worker.ExportRun``) into a part sink that keeps only each part's size,
and the peak of Python allocations writing 200,000 leads is about that of writing 20,000 (the part
buffer's, not the file's). Also: parts are S3-sized, numbered in order, recorded with their leads;
and a resumed run writes only the leads after the last recorded one. No AWS, no timing."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterable, Iterator
from typing import Any

from leads_shared import export_worker
from leads_shared.csv_format import S3_MIN_PART_SIZE
from leads_shared.lead_listing import LeadFilters
from leads_shared.models.exports import ExportJob, UploadedPart
from leads_shared.models.leads import Lead

MiB = 1024 * 1024
NOTES = "Met at the trade show; wants a demo for the whole team. " * 8  # ~450 bytes a row in all


LEAD = Lead(
    tenant_id="acme", id=1, first_name="Lead", last_name="Smith", email="lead@example.com",
    phone="+1 555 0100", company="Acme Inc", job_title="CTO", source="Website", status="new",
    notes=NOTES, tags="vip", assigned_to=2, assigned_to_name="Bob Baker",
    created_at="2026-01-01T00:00:00.000000Z", updated_at="2026-01-01T00:00:00.000000Z",
)  # fmt: skip


def leads(count: int, start: int = 1) -> Iterator[Lead]:
    """``count`` leads made one at a time (the source holds none of them), in name order."""
    for n in range(start, start + count):
        yield LEAD.model_copy(update={"id": n, "first_name": f"Lead{n:07d}", "email": f"lead{n}@example.com"})


class FakeJobs:
    """The export store's writes a run makes, on one job held by one claim."""

    def __init__(self) -> None:
        self.progress_calls: list[int] = []

    def started_upload(self, job: ExportJob, claim: str, upload_id: str) -> ExportJob:
        return job.model_copy(update={"upload_id": upload_id})

    def add_part(
        self, job: ExportJob, claim: str, part: UploadedPart, rows: int, last: str | None
    ) -> ExportJob:
        assert part.number == len(job.parts) + 1
        parts = [*job.parts, part]
        return job.model_copy(
            update={"parts": parts, "rows_written": rows, "progress": rows, "last_sort_key": last}
        )

    def progress(self, job: ExportJob, claim: str, rows: int) -> bool:
        self.progress_calls.append(rows)
        return True


class SizeSink:
    """An S3 stand-in that keeps each part's size (and, when asked, its bytes)."""

    def __init__(self, keep: bool = False, first: int = 1) -> None:
        self.first = first  # the number of the first part this run uploads
        self.sizes: list[int] = []
        self.keep = keep
        self.data: list[bytes] = []

    def start_upload(self, key: str, content_type: str = "text/csv") -> str:
        return "upload-1"

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        assert number == self.first + len(self.sizes)
        self.sizes.append(len(data))
        if self.keep:
            self.data.append(bytes(data))
        return f'"etag-{number}"'

    def complete_upload(self, key: str, upload_id: str, parts: Iterable[tuple[int, str]]) -> None:
        pass

    def abort_upload(self, key: str, upload_id: str) -> None:
        pass


def new_job(**fields: Any) -> ExportJob:
    values: dict[str, Any] = {
        "tenant_id": "acme", "export_id": "e1", "status": "running", "filters": LeadFilters(),
        "key": "tmp/exports/acme/e1.csv", "created_by": 1, "created_at": "2026-01-01T00:00:00.000000Z",
        "expires_at": 0, "claim": "run-1",
    }  # fmt: skip
    return ExportJob(**{**values, **fields})


def run_of(
    sink: SizeSink, jobs: FakeJobs, job: ExportJob | None = None, **kw: Any
) -> export_worker.ExportRun:
    run = export_worker.ExportRun(job or new_job(), "run-1", jobs, sink, **kw)  # type: ignore[arg-type]
    run.start_upload()
    return run


def peak_writing(count: int) -> tuple[int, SizeSink, export_worker.ExportRun]:
    """Peak bytes Python allocated while writing ``count`` leads (the run set up beforehand)."""
    sink, jobs = SizeSink(), FakeJobs()
    run = run_of(sink, jobs)
    source = leads(count)
    gc.collect()
    tracemalloc.start()
    try:
        assert run.write(source) is True
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sink, run


def test_memory_stays_flat_from_20000_to_200000_leads() -> None:
    small, small_sink, _ = peak_writing(20_000)
    large, large_sink, run = peak_writing(200_000)

    # the file is ten times larger, in S3-sized parts (the 20,000 leads already fill one part)
    assert sum(large_sink.sizes) > 9 * sum(small_sink.sizes) > 9 * export_worker.PART_BYTES
    assert len(large_sink.sizes) >= 10 and len(small_sink.sizes) >= 2
    assert all(size >= S3_MIN_PART_SIZE for size in large_sink.sizes[:-1])
    assert run.job.rows_written == 200_000 and len(run.job.parts) == len(large_sink.sizes)
    # memory does not follow: the part buffer (and its bytes, as uploaded) and little else
    assert large < 1.5 * small, (small / MiB, large / MiB)
    assert large < 2 * export_worker.PART_BYTES + 4 * MiB, large / MiB


def test_progress_is_recorded_within_a_part_every_so_many_leads() -> None:
    jobs = FakeJobs()
    run = run_of(SizeSink(), jobs)
    run.write(leads(25_000))
    assert jobs.progress_calls == [10_000, 20_000]


def whole_file(sink: SizeSink) -> bytes:
    return b"".join(sink.data)


def test_a_resumed_run_writes_the_leads_after_the_last_recorded_one_once() -> None:
    """The first run stops after its second part (out of time); the next run reads the same
    leads again and writes those after the recorded sort key: the parts make the one file."""
    whole, stopped, resumed = SizeSink(keep=True), SizeSink(keep=True), SizeSink(keep=True)
    run_of(whole, FakeJobs(), part_bytes=4096).write(leads(100))

    parts_done = iter([False, True])
    first = run_of(stopped, FakeJobs(), part_bytes=4096, out_of_time=lambda: next(parts_done))
    assert first.write(leads(100)) is False
    assert len(first.job.parts) == 2 and 0 < first.job.rows_written < 100

    resumed.first = 3
    second = run_of(resumed, FakeJobs(), first.job, part_bytes=4096)
    assert second.write(leads(100)) is True

    assert whole_file(stopped) + whole_file(resumed) == whole_file(whole)
    assert whole_file(whole).count(b"\r\n") == 101 and second.job.rows_written == 100
    assert [part.number for part in second.job.parts] == list(range(1, len(whole.sizes) + 1))
