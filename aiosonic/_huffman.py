"""The HPACK Huffman code (RFC 7541 Appendix B) and the tables that encode and decode with it.

Owns: the 257 code lengths, the codes derived from them, a per-byte encoding table, and a
byte-at-a-time decoding state machine. Never does: HPACK framing (string length prefixes,
the Huffman flag), which is `_hpack.py`'s; never raises on bad input (decode returns None,
so the caller turns it into its own error).

The code of Appendix B is canonical: codes of one length are consecutive and follow symbol
order, and each length starts where the shorter ones left off. So the lengths alone
determine every code, and the table here is just the lengths (the tests check the derived
codes against the RFC and against the hpack library).

Decoding is table driven, a byte at a time. The states are the 256 inner nodes of the code
tree (0 is the root: no bits pending) plus one dead state (after an invalid code or EOS). A
state's row maps each of the 256 byte values to the next state and the bytes emitted (at
most two symbols: no code is shorter than five bits). The full table would have 65,792
entries and take tens of milliseconds to build, so a row is built from the tree the first
time its state is met: importing builds only the tree and the root's row, and the decoding
loop does one lookup per input byte.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CODES", "CODE_LENGTHS", "decode", "encode"]

# Bit lengths of the codes of symbols 0..255 and of EOS (256), RFC 7541 Appendix B.
CODE_LENGTHS: Final[tuple[int, ...]] = (
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  # 0-15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  # 16-31
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,  # 32-47
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,  # 48-63
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  # 64-79
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,  # 80-95
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,  # 96-111
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,  # 112-127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  # 128-143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  # 144-159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  # 160-175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  # 176-191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  # 192-207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  # 208-223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  # 224-239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  # 240-255
    30,  # EOS
)  # fmt: skip

EOS: Final = 256
_DEAD: Final = 256  # the decoder state after an invalid code or EOS: no way out, never accepting


def _canonical_codes(lengths: tuple[int, ...]) -> tuple[int, ...]:
    codes = [0] * len(lengths)
    code = 0
    previous = 0
    for symbol in sorted(range(len(lengths)), key=lambda s: (lengths[s], s)):
        code <<= lengths[symbol] - previous
        previous = lengths[symbol]
        codes[symbol] = code
        code += 1
    return tuple(codes)


CODES: Final[tuple[int, ...]] = _canonical_codes(CODE_LENGTHS)

# Each byte's code as a string of '0' and '1': joining them gives the string's bits, and
# int(bits, 2) packs those in linear time. That is about twice as fast as shifting a (code,
# length) pair per byte into one int, whose every shift copies the whole growing number
# (quadratic on long cookies and tokens); str.translate with multi-character values is
# slower still.
_BITS: Final[list[str]] = [format(CODES[b], f"0{CODE_LENGTHS[b]}b") for b in range(256)]


def encode(data: bytes) -> bytes | None:
    """The Huffman encoding of `data`, or None when it would not be shorter than `data`."""
    size = len(data)
    if size == 0:
        return None
    table = _BITS
    bits = "".join([table[byte] for byte in data])
    nbits = len(bits)
    nbytes = (nbits + 7) >> 3
    if nbytes >= size:
        return None
    # Pad with the most significant bits of EOS (all ones) up to the octet boundary.
    pad = (nbytes << 3) - nbits
    return ((int(bits, 2) << pad) | ((1 << pad) - 1)).to_bytes(nbytes, "big")


def _build_tree() -> tuple[list[int], list[int], list[bool]]:
    # Children of each inner node for bit 0 and bit 1: an inner node's number (>= 0), or a
    # leaf as ~symbol (< 0). `accepting[n]` says a string may end in node n: the bits since
    # the last symbol are all ones and at most seven (RFC 7541 5.2 padding).
    zero = [0] * 256
    one = [0] * 256
    depth_of_ones = [-1] * 256
    depth_of_ones[0] = 0
    count = 1
    for symbol in range(257):
        code = CODES[symbol]
        length = CODE_LENGTHS[symbol]
        node = 0
        for shift in range(length - 1, 0, -1):
            children = one if (code >> shift) & 1 else zero
            child = children[node]
            if child == 0:  # the root is nobody's child, so 0 means "not made yet"
                child = count
                count += 1
                children[node] = child
                if children is one and depth_of_ones[node] >= 0:
                    depth_of_ones[child] = depth_of_ones[node] + 1
            node = child
        (one if code & 1 else zero)[node] = ~symbol
    accepting = [0 <= depth <= 7 for depth in depth_of_ones]
    return zero, one, accepting


_ZERO, _ONE, _ACCEPT_LIST = _build_tree()
# The dead state is its own child on both bits, so walking from it needs no special case.
_ZERO.append(_DEAD)
_ONE.append(_DEAD)
_ACCEPTING: Final[tuple[bool, ...]] = (*_ACCEPT_LIST, False)
_SINGLE: Final[list[bytes]] = [bytes((b,)) for b in range(256)]

# Decoder rows by state, made on first use (None until then): where each byte value leads
# and what it emits, in two lists (the states are small cached ints, the outputs shared
# bytes), which takes a third of the memory of a list of pairs at the same speed.
_NEXT: Final[list[list[int] | None]] = [None] * 257
_OUT: Final[list[list[bytes]]] = [[] for _ in range(257)]
_OUTPUTS: Final[dict[bytes, bytes]] = {}  # one object for each two-symbol output


def _build_row(state: int) -> list[int]:
    # Walk eight levels down from `state`, breadth first, bit 0 before bit 1: the last
    # level lists where each byte value 0..255 leads, in order, with what it emitted.
    # Sharing the walk's prefixes costs 510 steps a row instead of 2048.
    zero = _ZERO
    one = _ONE
    single = _SINGLE
    level: list[tuple[int, bytes]] = [(state, b"")]
    for _ in range(8):
        deeper: list[tuple[int, bytes]] = []
        for node, out in level:
            for child in (zero[node], one[node]):
                if child >= 0:
                    deeper.append((child, out))
                elif child == ~EOS:
                    deeper.append((_DEAD, out))
                else:
                    deeper.append((0, out + single[~child]))
        level = deeper
    outputs = _OUTPUTS
    _OUT[state] = [outputs.setdefault(out, out) for _, out in level]
    row = [node for node, _ in level]
    _NEXT[state] = row
    return row


_build_row(0)  # the root's row is used by every string


def decode(data: bytes) -> bytes | None:
    """The symbols Huffman-encoded in `data`, or None when `data` is not a valid encoding.

    Invalid: a code for EOS, or padding that is longer than seven bits or not all ones.
    """
    next_rows = _NEXT
    out_rows = _OUT
    nexts = _build_row(0) if next_rows[0] is None else next_rows[0]
    outs = out_rows[0]
    out = bytearray()
    state = 0
    for byte in data:
        out += outs[byte]
        state = nexts[byte]
        row = next_rows[state]
        if row is None:
            row = _build_row(state)
        nexts = row
        outs = out_rows[state]
    if not _ACCEPTING[state]:
        return None
    return bytes(out)
