"""Memory per shape up to the cap (issue 21, class 5): one huge cue or segment, and Whisper JSON at
its smallest, stay within 4 × input + 200 MB.

One huge SRT or WebVTT cue, or JSON-lines segment, peaked at 17-21 × its size at 8 MB (each cue's
text split into a list of words, twice); Whisper JSON of minimal segments at 19 × (the document
parsed whole, then a tuple per segment). Now a cue is collapsed a megabyte at a time
(`turns.one_line`) and Whisper segments are read one at a time off the text: 8-11 × at 8 MB,
5.0-5.6 × at 32 MB (`make bench` section 6 has 16 and 64 MB). Peak RSS of one job (JobRunner,
extractive engine) in a fresh process, over the process before it.
"""

from __future__ import annotations

import pytest

# Peak / input at 8 MB before the fix, in the comments; the bound leaves room for a busy machine.
SHAPES = {
    "one huge SRT cue": 12.0,  # 19.5 ×
    "one huge WebVTT cue": 12.0,  # 20.5 ×
    "one huge JSON-lines segment": 13.0,  # 17.4 ×
    "minimal Whisper JSON segments": 12.0,  # 18.9 ×
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.load  # a memory measurement in a fresh process per shape: seconds each
def test_one_huge_cue_or_minimal_segments_stay_within_the_memory_budget(shape: str) -> None:
    from bench.memory_shapes import rss_peak

    fig = rss_peak(shape, 8_000_000)
    assert fig["peak_bytes"] <= 4 * fig["bytes"] + 200 * 2**20
    assert fig["peak_bytes"] <= SHAPES[shape] * fig["bytes"], (
        f"{fig['peak_bytes'] / fig['bytes']:.1f} × the input"
    )
