"""Host names in their wire form: IDNA 2008 with UTS #46 mapping, non-transitional.

It owns the one rule every place that sends or compares a host name follows (the URL host,
hence Host header, pool key, SNI and DNS; NO_PROXY; SOCKS5 names; ``auths`` and ``.netrc``
keys; cookie Domain attributes), so that ``faß.de`` is ``xn--fa-hia.de`` everywhere, as in
browsers and curl, and never ``fass.de`` (IDNA 2003, Python's ``"idna"`` codec). It never
handles IP addresses (callers check those first) and does no I/O.

The rule, label by label after the UTS #46 mapping of the whole name (case folding,
full-width forms, ideographic full stops as dots):

- an ASCII label is kept as it is, lowercased, like an all-ASCII name (which never reaches
  the idna package: most hosts are ASCII, and their form was already the wire form). An
  A-label (``xn--...``) is passed through unchecked, as curl does: the idna package's
  IDNA 2008 check refuses registered, resolvable names such as ``xn--i-7iq.ws``, and an
  A-label is already what the resolver and the server receive;
- any other label is checked against IDNA 2008 (code points, contextual rules, bidi) and
  Punycode-encoded; it must fit in 63 octets;
- no empty label (a single trailing dot is kept), and at most 253 octets in all;
- no character that ends a host in a URL or cannot be in one (a full-width solidus maps
  to ``/``): mapping must not make a different name than the one written.

A name that breaks the rule raises ``idna.IDNAError``, a ``UnicodeError``, whose message may
contain the name (callers word their own errors).
"""

from __future__ import annotations

from functools import lru_cache

import idna

__all__ = ["IDNAError", "host_to_ascii"]

IDNAError = idna.IDNAError
# ASCII that UTS #46 mapping (without STD3 rules) can produce and no host name may contain.
_FORBIDDEN = frozenset(" \t\r\n\0/\\@:?#[]%")


def host_to_ascii(name: str) -> str:
    """``name`` (a host name, not an IP address) as sent on the wire; see the module doc."""
    if name.isascii():
        return name.lower()
    return _encode(name)


@lru_cache(maxsize=512)
def _encode(name: str) -> str:
    mapped = idna.uts46_remap(name, std3_rules=False)
    labels = mapped.split(".")
    trailing_dot = len(labels) > 1 and labels[-1] == ""
    if trailing_dot:
        labels.pop()
    encoded: list[str] = []
    for label in labels:
        if not label:
            raise IDNAError("Empty label")
        encoded.append(label if label.isascii() else idna.alabel(label).decode("ascii"))
    result = ".".join(encoded)
    if len(result) > 253:
        raise IDNAError("Domain too long")
    if not _FORBIDDEN.isdisjoint(result):
        raise IDNAError("Character not allowed in a host name")
    return result + "." if trailing_dot else result
