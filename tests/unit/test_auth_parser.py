"""The WWW-Authenticate / Authentication-Info parser: a corpus of shapes, hostile and
malformed values, and properties over generated input (pure, no network)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiosonic.auth import AuthError, Challenge, parse_auth_params, parse_www_authenticate

C = Challenge

CORPUS: list[tuple[str, list[Challenge]]] = [
    ('Basic realm="simple"', [C("basic", {"realm": "simple"})]),
    ("basic REALM=simple", [C("basic", {"realm": "simple"})]),
    ('DIGEST Realm="r", NONCE="n"', [C("digest", {"realm": "r", "nonce": "n"})]),
    # RFC 9110 section 11.6.1's example: two challenges, escapes and commas in quotes
    (
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        [
            C("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
            C("basic", {"realm": "simple"}),
        ],
    ),
    (
        'Digest realm="a, b", nonce="x,y", qop="auth,auth-int"',
        [C("digest", {"realm": "a, b", "nonce": "x,y", "qop": "auth,auth-int"})],
    ),
    ('Basic realm="back\\\\slash"', [C("basic", {"realm": "back\\slash"})]),
    ('Basic realm="\\a\\b"', [C("basic", {"realm": "ab"})]),
    ('Basic realm=""', [C("basic", {"realm": ""})]),
    ('Basic realm="caf\u00e9 \u2603"', [C("basic", {"realm": "caf\u00e9 \u2603"})]),
    ('Basic realm="tab\there"', [C("basic", {"realm": "tab\there"})]),
    # bare schemes and token68
    ("Negotiate", [C("negotiate", {})]),
    ("Negotiate, NTLM", [C("negotiate", {}), C("ntlm", {})]),
    (
        "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagGDAWBgkqhkiC9xIBAgIGCSqGSIb3EgECAqKCAVgEggFU==",
        [
            C(
                "negotiate",
                {},
                "YIIBhgYGKwYBBQUCoIIBejCCAXagGDAWBgkqhkiC9xIBAgIGCSqGSIb3EgECAqKCAVgEggFU==",
            )
        ],
    ),
    ("Foo abc/+=, Bar", [C("foo", {}, "abc/+="), C("bar", {})]),
    ("Foo token68only", [C("foo", {}, "token68only")]),
    # "name=" alone is a token68 by the grammar (a Digest challenge without a nonce)
    ("Digest realm=", [C("digest", {}, "realm=")]),
    # and a lone token after a comma is a new challenge
    ("Digest realm=x, nonce", [C("digest", {"realm": "x"}), C("nonce", {})]),
    # whitespace and empty list elements
    ('  ,, Basic   realm = "r"  ,, ', [C("basic", {"realm": "r"})]),
    ("Basic realm=r,,, charset=UTF-8", [C("basic", {"realm": "r", "charset": "UTF-8"})]),
    ("Basic , realm=r", [C("basic", {"realm": "r"})]),
    ("Basic\trealm=r", [C("basic", {"realm": "r"})]),
    ("", []),
    (" , ", []),
    # lenient: unquoted base64 nonces
    (
        "Digest realm=r, nonce=ab/cd+ef==, stale=true",
        [C("digest", {"realm": "r", "nonce": "ab/cd+ef==", "stale": "true"})],
    ),
    # several challenges of one scheme
    (
        'Digest realm="r", algorithm=SHA-256, nonce="1", '
        'Digest realm="r", algorithm=MD5, nonce="2"',
        [
            C("digest", {"realm": "r", "algorithm": "SHA-256", "nonce": "1"}),
            C("digest", {"realm": "r", "algorithm": "MD5", "nonce": "2"}),
        ],
    ),
    (
        'Bearer realm="x", error="invalid_token", error_description="The token expired"',
        [
            C(
                "bearer",
                {"realm": "x", "error": "invalid_token", "error_description": "The token expired"},
            )
        ],
    ),
]


@pytest.mark.parametrize(("value", "expected"), CORPUS)
def test_corpus(value: str, expected: list[Challenge]) -> None:
    assert parse_www_authenticate(value) == expected


MALFORMED: list[tuple[str, str]] = [
    ('Basic realm="unterminated', "unterminated quoted string"),
    ('Basic realm="ends in backslash\\"', "unterminated quoted string"),
    ('Basic realm="new\nline"', "control character"),
    ('Basic realm="nul\x00"', "control character"),
    ('Basic realm="del\x7f"', "control character"),
    ('Digest realm="a" nonce="b"', "expected ',' after a parameter"),
    ("Digest realm=,nonce=x", "expected a space after the scheme"),
    ("Digest realm==x", "expected a value for 'realm'"),
    ('Digest realm="a", realm="b"', "parameter 'realm' given twice"),
    ('Digest realm="a", REALM="b"', "parameter 'realm' given twice"),
    ('"quoted" realm=x', "expected an authentication scheme"),
    ("=realm", "expected an authentication scheme"),
    ('Basic"realm"', "expected a space after the scheme"),
    ("Basic realm=x y", "expected ',' after a parameter"),
    ('Basic realm="x", "y"', "expected an authentication scheme"),
    ("Basic a=b c=d", "expected ',' after a parameter"),
    ("Basic \u00e9=x", "expected a parameter name"),
]


@pytest.mark.parametrize(("value", "why"), MALFORMED)
def test_malformed_values_raise_auth_error_saying_why(value: str, why: str) -> None:
    with pytest.raises(AuthError, match="malformed WWW-Authenticate header") as info:
        parse_www_authenticate(value)
    assert why in str(info.value)


def test_error_message_is_bounded_for_huge_values() -> None:
    value = 'Basic realm="' + "x" * 100_000
    with pytest.raises(AuthError) as info:
        parse_www_authenticate(value)
    assert len(str(info.value)) < 400


def test_long_hostile_values_parse_in_linear_time() -> None:
    # many escapes and many parameters: a backtracking parser would never finish
    escapes = 'Basic realm="' + "\\\\" * 50_000 + '"'
    assert parse_www_authenticate(escapes) == [C("basic", {"realm": "\\" * 50_000})]
    many = "Foo " + ", ".join(f"p{i}=v" for i in range(5_000))
    assert len(parse_www_authenticate(many)[0].params) == 5_000
    unterminated = 'Basic realm="' + "\\a" * 50_000
    with pytest.raises(AuthError):
        parse_www_authenticate(unterminated)


def test_authentication_info_params() -> None:
    assert parse_auth_params('nextnonce="abc", qop=auth, rspauth="d", nc=00000001') == {
        "nextnonce": "abc",
        "qop": "auth",
        "rspauth": "d",
        "nc": "00000001",
    }
    assert parse_auth_params("  ") == {}
    with pytest.raises(AuthError, match="malformed Authentication-Info"):
        parse_auth_params('nextnonce="abc", Digest')
    with pytest.raises(AuthError, match="malformed Authentication-Info"):
        parse_auth_params("Digest nextnonce=x")


# -- properties ---------------------------------------------------------------------------

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(alphabet=_TCHARS, min_size=1, max_size=12)
# any text without control characters (HTAB aside): what a quoted string can carry
quotable = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters="".join(chr(c) for c in [*range(0x09), *range(0x0A, 0x20), 0x7F]),
    ),
    max_size=30,
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def challenges(draw: st.DrawFn) -> Challenge:
    scheme = draw(tokens).lower()
    names = draw(st.lists(tokens.map(str.lower), unique=True, max_size=5))
    params = {name: draw(quotable) for name in names}
    return Challenge(scheme, params)


def _serialise(challenge: Challenge, quote_all: bool) -> str:
    parts = []
    for name, value in challenge.params.items():
        bare = value and all(ch in _TCHARS for ch in value)
        parts.append(f"{name}={value if bare and not quote_all else _quote(value)}")
    return challenge.scheme + (" " + ", ".join(parts) if parts else "")


@given(st.lists(challenges(), max_size=4), st.booleans())
def test_serialised_challenges_parse_back(items: list[Challenge], quote_all: bool) -> None:
    value = ", ".join(_serialise(item, quote_all) for item in items)
    assert parse_www_authenticate(value) == items


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_auth_error(value: str) -> None:
    try:
        parsed = parse_www_authenticate(value)
    except AuthError:
        return
    for challenge in parsed:
        assert challenge.scheme == challenge.scheme.lower()
        assert all(name == name.lower() for name in challenge.params)


@given(st.text(alphabet='Basic Digest realm=nonce"\\, \t=abc', max_size=60))
def test_near_miss_text_parses_or_raises_auth_error(value: str) -> None:
    try:
        parse_www_authenticate(value)
    except AuthError:
        pass
