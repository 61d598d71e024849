"""Reading what our HTTP/2 code wrote with an independent parser (hyperframe)."""

from __future__ import annotations

from hyperframe.frame import Frame

__all__ = ["parse_frames"]


def parse_frames(data: bytes) -> list[Frame]:
    """Every frame in ``data`` (whole frames only), parsed by hyperframe."""
    frames = []
    while data:
        frame, length = Frame.parse_frame_header(memoryview(data[:9]))
        frame.parse_body(memoryview(data[9 : 9 + length]))
        frames.append(frame)
        data = data[9 + length :]
    return frames
