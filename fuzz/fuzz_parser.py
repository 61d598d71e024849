"""Long-running fuzzer for the sans-IO HTTP/1.1 codec and the body decoders.

With atheris installed (``pip install atheris``) this is a coverage-guided libFuzzer target::

    python fuzz/fuzz_parser.py -max_total_time=600 -max_len=4096 fuzz/corpus

Each input picks a target with its first byte: the response parser (any bytes, any split,
with or without a HEAD request, restarted after each keep-alive response), a decoder
(``gzip``, ``deflate`` or both), or ``encode_request_head``. Any exception that is not an
``AiosonicError`` (or, for the request head, a head with an injected line) is a crash:
libFuzzer stops and writes the input to ``crash-<sha1>``. Replay it with
``python fuzz/fuzz_parser.py crash-<sha1>``.

Without atheris (or with ``--hypothesis``) it runs the hypothesis properties of
``tests/fuzz/test_parser_fuzz.py`` in rounds of fresh random examples until ``--seconds``
have passed::

    python fuzz/fuzz_parser.py --hypothesis --seconds 600
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = [
    b"\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\n",
    b"\x01\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
    b"\x02GET\x00/\x00Host\x00example.com",
]


def _targets() -> object:
    """Import the code under test (instrumented when atheris is in charge)."""
    from aiosonic import _decode, _http11, exceptions

    return _http11, _decode, exceptions


def make_one_input(http11: object, decode: object, exceptions: object) -> object:
    import atheris

    parser_cls = http11.ResponseParser  # type: ignore[attr-defined]
    encode_head = http11.encode_request_head  # type: ignore[attr-defined]
    make_decoder = decode.make_decoder  # type: ignore[attr-defined]
    aiosonic_error = exceptions.AiosonicError  # type: ignore[attr-defined]
    invalid_request = exceptions.InvalidRequest  # type: ignore[attr-defined]

    class Sink:
        def on_head(self, head: object) -> None:
            pass

        def on_body(self, data: bytes) -> None:
            pass

        def on_complete(self, keep_alive: bool) -> None:
            pass

    encodings = [b"gzip", b"deflate", b"gzip, deflate", b"deflate, gzip"]

    def pieces(fdp: atheris.FuzzedDataProvider) -> list[bytes]:
        cuts = [fdp.ConsumeIntInRange(0, 64) for _ in range(fdp.ConsumeIntInRange(0, 8))]
        data = fdp.ConsumeBytes(fdp.remaining_bytes())
        out, pos = [], 0
        for size in cuts:
            out.append(data[pos : pos + size])
            pos += size
        out.append(data[pos:])
        return out

    def fuzz_parser(fdp: atheris.FuzzedDataProvider) -> None:
        head_request = fdp.ConsumeBool()
        restart = fdp.ConsumeBool()
        max_head = 65536 if fdp.ConsumeBool() else fdp.ConsumeIntInRange(1, 256)
        parser = parser_cls(Sink(), max_head_size=max_head, max_headers=fdp.ConsumeIntInRange(0, 8))
        parser.start(head_request)
        try:
            for piece in pieces(fdp):
                parser.feed(piece)
                if restart and parser.idle:
                    parser.start(head_request)
            parser.feed_eof()
        except aiosonic_error:
            pass

    def fuzz_decoder(fdp: atheris.FuzzedDataProvider) -> None:
        encoding = encodings[fdp.ConsumeIntInRange(0, len(encodings) - 1)]
        limit = fdp.ConsumeIntInRange(0, 1 << 22)
        try:
            decoder = make_decoder(encoding, limit)
            for piece in pieces(fdp):
                decoder.feed(piece)
            decoder.flush()
        except aiosonic_error:
            pass

    def fuzz_head(fdp: atheris.FuzzedDataProvider) -> None:
        parts = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()).split("\x00")
        method, target = ([*parts, "", ""])[:2]
        rest = parts[2:]
        headers = list(zip(rest[::2], rest[1::2], strict=False))
        try:
            head = encode_head(method, target, headers)
        except invalid_request:
            return
        if head.count(b"\r\n") != len(headers) + 2:
            raise AssertionError(f"header injection: {head!r}")
        if b"\r" in head.replace(b"\r\n", b"") or b"\n" in head.replace(b"\r\n", b""):
            raise AssertionError(f"bare CR or LF: {head!r}")

    targets = [fuzz_parser, fuzz_decoder, fuzz_head]

    def one_input(data: bytes) -> None:
        if not data:
            return
        fdp = atheris.FuzzedDataProvider(data[1:])
        targets[data[0] % len(targets)](fdp)

    return one_input


def run_atheris(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["aiosonic"]):
        http11, decode, exceptions = _targets()  # type: ignore[misc]
    corpus = [arg for arg in argv[1:] if not arg.startswith("-")]
    for directory in corpus:
        path = Path(directory)
        if not path.is_dir():
            continue
        for number, seed in enumerate(SEED_CORPUS):
            seed_file = path / f"seed-{number}"
            if not seed_file.exists():
                seed_file.write_bytes(seed)
    atheris.Setup(argv, make_one_input(http11, decode, exceptions))
    atheris.Fuzz()


def run_hypothesis(seconds: float, examples: int) -> int:
    """Rounds of fresh random examples of every property until the time is up."""
    os.environ["AIOSONIC_FUZZ_EXAMPLES"] = str(examples)
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from fuzz import test_parser_fuzz as props  # the tests/fuzz package

    tests = [
        getattr(props, name)
        for name in sorted(dir(props))
        if name.startswith("test_") and hasattr(getattr(props, name), "hypothesis")
    ]
    deadline = time.monotonic() + seconds
    rounds = runs = 0
    while time.monotonic() < deadline:
        for test in tests:
            if time.monotonic() >= deadline:
                break
            test()  # a failure raises, after hypothesis has shrunk and printed the example
            runs += 1
        rounds += 1
        print(f"round {rounds}: {runs} property runs x {examples} examples, no failure")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--hypothesis", action="store_true")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--examples", type=int, default=2000, help="per property and round")
    known, rest = parser.parse_known_args()
    try:
        import atheris  # noqa: F401
    except ImportError:
        known.hypothesis = True
    if known.hypothesis:
        sys.exit(run_hypothesis(known.seconds, known.examples))
    run_atheris([sys.argv[0], *rest])


if __name__ == "__main__":
    main()
