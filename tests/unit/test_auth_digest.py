"""DigestAuth as a sans-IO flow: published test vectors, nonce counting, stale nonces,
pre-authentication and refusals, with responses built in memory (no network)."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from aiosonic.auth import AuthError, Challenge, DigestAuth, parse_www_authenticate
from aiosonic.request import Request
from aiosonic.response import HttpResponse

Flow = Generator[Request, HttpResponse, None]

RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def unauthorized(*challenges: str, info: str | None = None) -> HttpResponse:
    return HttpResponse(
        401, raw_headers=[(b"WWW-Authenticate", value.encode()) for value in challenges]
    )


def ok(info: str | None = None) -> HttpResponse:
    headers = [] if info is None else [(b"Authentication-Info", info.encode())]
    return HttpResponse(200, raw_headers=headers)


def challenge(nonce: str = "n1", *extra: str, realm: str = "r") -> str:
    return ", ".join([f'Digest realm="{realm}"', f'nonce="{nonce}"', 'qop="auth"', *extra])


def sent(request: Request) -> dict[str, str]:
    """The params of the request's Digest Authorization header."""
    [credentials] = parse_www_authenticate(request.headers["Authorization"])
    assert credentials.scheme == "digest"
    return dict(credentials.params)


def start(
    auth: DigestAuth, url: str = "http://example.org/dir/index.html", method: str = "GET"
) -> tuple[Flow, Request]:
    flow: Flow = auth.auth_flow(Request(method, url))
    return flow, next(flow)


def finish(flow: Flow, response: HttpResponse) -> HttpResponse:
    with pytest.raises(StopIteration):
        flow.send(response)
    return response


def answer(auth: DigestAuth, *challenges: str, url: str = "http://example.org/") -> dict[str, str]:
    """Run one challenge/response exchange and return what was sent the second time."""
    flow, request = start(auth, url)
    request = flow.send(unauthorized(*challenges))
    params = sent(request)
    finish(flow, ok())
    return params


# -- published vectors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1(algorithm: str, expected: str) -> None:
    auth = DigestAuth("Mufasa", "Circle of Life", cnonce_factory=lambda: RFC7616_CNONCE)
    flow, request = start(auth)
    assert "Authorization" not in request.headers
    request = flow.send(unauthorized(RFC7616_CHALLENGE.format(alg=algorithm)))
    assert sent(request) == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "uri": "/dir/index.html",
        "algorithm": algorithm,
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "nc": "00000001",
        "cnonce": RFC7616_CNONCE,
        "qop": "auth",
        "response": expected,
        "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    }


def test_rfc2617_section_3_5() -> None:
    auth = DigestAuth("Mufasa", "Circle Of Life", cnonce_factory=lambda: "0a4f113b")
    params = answer(
        auth,
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        url="http://host.com/dir/index.html",
    )
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert "algorithm" not in params  # not echoed when the server did not name one


def test_rfc2069_mode_without_qop() -> None:
    # RFC 2069's example with its erratum applied (the published response was wrong)
    auth = DigestAuth("Mufasa", "CircleOfLife")
    params = answer(
        auth,
        'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        url="http://host.com/dir/index.html",
    )
    assert params["response"] == "1949323746fe6a43ef61f9606e7febea"
    assert not {"qop", "nc", "cnonce", "algorithm"} & set(params)


# -- nonce counting and pre-authentication ------------------------------------------------


def test_nonce_count_increments_and_resets_for_a_new_nonce() -> None:
    auth = DigestAuth("u", "p")
    assert answer(auth, challenge("n1"))["nc"] == "00000001"
    counts = []
    for _ in range(3):
        flow, request = start(auth)
        counts.append(sent(request)["nc"])
        finish(flow, ok())
    assert counts == ["00000002", "00000003", "00000004"]
    # the server moves to a new nonce: counting starts again
    flow, request = start(auth)
    assert sent(request)["nonce"] == "n1"
    request = flow.send(unauthorized(challenge("n2", "stale=true")))
    assert (sent(request)["nonce"], sent(request)["nc"]) == ("n2", "00000001")
    finish(flow, ok())
    flow, request = start(auth)
    assert (sent(request)["nonce"], sent(request)["nc"]) == ("n2", "00000002")


def test_pre_authentication_is_per_origin() -> None:
    auth = DigestAuth("u", "p")
    answer(auth, challenge(), url="http://example.org/")
    for other in ("https://example.org/", "http://example.org:8080/", "http://example.com/"):
        _, request = start(auth, other)
        assert "Authorization" not in request.headers
    _, request = start(auth, "http://example.org/elsewhere?q=1")
    assert sent(request)["uri"] == "/elsewhere?q=1"


def test_interleaved_flows_never_share_a_count() -> None:
    auth = DigestAuth("u", "p")
    answer(auth, challenge())
    flows = [start(auth, f"http://example.org/{index}") for index in range(5)]
    assert sorted(sent(request)["nc"] for _, request in flows) == [
        f"{count:08x}" for count in range(2, 7)
    ]
    # one of them meets a new nonce while the others still finish on the old one
    first_flow, _ = flows[0]
    request = first_flow.send(unauthorized(challenge("n2", "stale=true")))
    assert (sent(request)["nonce"], sent(request)["nc"]) == ("n2", "00000001")
    _, fresh = start(auth)
    assert (sent(fresh)["nonce"], sent(fresh)["nc"]) == ("n2", "00000002")
    second_flow, _ = flows[1]
    request = second_flow.send(unauthorized(challenge("n1", "stale=true")))
    assert sent(request)["nonce"] == "n1"
    assert sent(request)["nc"] == "00000007"  # the old nonce keeps its own count


def test_each_request_gets_a_fresh_random_cnonce() -> None:
    auth = DigestAuth("u", "p")
    first = answer(auth, challenge())["cnonce"]
    _, request = start(auth)
    second = sent(request)["cnonce"]
    assert first != second
    assert len(first) == 32 and int(first, 16) >= 0


# -- retries and their bounds -------------------------------------------------------------


def test_a_non_stale_second_401_goes_to_the_caller() -> None:
    flow, _ = start(DigestAuth("u", "wrong"))
    flow.send(unauthorized(challenge("n1")))
    final = unauthorized(challenge("n2"))
    assert finish(flow, final) is final


def test_stale_is_retried_once() -> None:
    flow, _ = start(DigestAuth("u", "p"))
    flow.send(unauthorized(challenge("n1")))
    request = flow.send(unauthorized(challenge("n2", "stale=true")))
    assert sent(request)["nonce"] == "n2"
    finish(flow, unauthorized(challenge("n3", "stale=true")))


def test_pre_authenticated_401_is_answered_then_bounded() -> None:
    auth = DigestAuth("u", "p")
    answer(auth, challenge("n1"))
    flow, request = start(auth)
    assert sent(request)["nonce"] == "n1"
    # a new realm for this path (not stale): answered once, as if unauthenticated
    request = flow.send(unauthorized(challenge("n2", realm="other")))
    assert sent(request)["realm"] == "other"
    request = flow.send(unauthorized(challenge("n3", "stale=true", realm="other")))
    assert sent(request)["nonce"] == "n3"
    finish(flow, unauthorized(challenge("n4", "stale=true", realm="other")))


@pytest.mark.parametrize(
    "response",
    [
        unauthorized('Basic realm="only basic"'),
        unauthorized(),
        unauthorized("Negotiate", 'Bearer realm="x"'),
        ok(),
        HttpResponse(403),
    ],
)
def test_responses_without_a_digest_challenge_end_the_flow(response: HttpResponse) -> None:
    flow, request = start(DigestAuth("u", "p"))
    assert finish(flow, response) is response
    assert "Authorization" not in request.headers


# -- choosing and refusing challenges -----------------------------------------------------


def test_first_usable_challenge_wins() -> None:
    params = answer(
        DigestAuth("u", "p"),
        'Digest realm="r", nonce="a", algorithm=SHA-999',
        'Digest realm="r", nonce="b", qop="auth-int"',
        'Basic realm="r", Digest realm="r", nonce="c", algorithm=sha-256, qop="auth-int,auth"',
        'Digest realm="r", nonce="d", algorithm=MD5',
    )
    assert (params["nonce"], params["algorithm"], params["qop"]) == ("c", "sha-256", "auth")


@pytest.mark.parametrize(
    ("challenges", "why"),
    [
        (['Digest realm="r", algorithm=SHA-999, nonce="n"'], "unsupported Digest algorithm"),
        (['Digest realm="r", nonce="n", qop="auth-int"'], "unsupported Digest qop"),
        (['Digest realm="r", qop=auth'], "without nonce"),
        (['Digest nonce="n", qop=auth'], "without realm"),
        (["Digest abcdef=="], "without nonce"),
        (['Digest realm="r", nonce="n", algorithm=MD5-sess'], "without qop"),
        (['Digest realm="r", nonce="n" qop=auth'], "malformed WWW-Authenticate"),
        (['Digest realm="unterminated'], "malformed WWW-Authenticate"),
    ],
)
def test_unanswerable_challenges_raise_auth_error(challenges: list[str], why: str) -> None:
    flow, _ = start(DigestAuth("u", "p"))
    with pytest.raises(AuthError, match=why):
        flow.send(unauthorized(*challenges))


def test_all_problems_are_reported_together() -> None:
    flow, _ = start(DigestAuth("u", "p"))
    with pytest.raises(AuthError) as info:
        flow.send(unauthorized('Digest realm="r", nonce="n", algorithm=SHA-1', 'Digest realm="r"'))
    assert "'SHA-1'" in str(info.value) and "without nonce" in str(info.value)


# -- what goes into the header --------------------------------------------------------------


def test_server_values_are_escaped_back() -> None:
    params = answer(
        DigestAuth("u", "p"),
        'Digest realm="a \\"quoted\\" \\\\ realm, with comma", nonce="n", qop=auth, '
        'opaque="o\\"paque"',
    )
    assert params["realm"] == 'a "quoted" \\ realm, with comma'
    assert params["opaque"] == 'o"paque'


def test_user_names_that_cannot_be_quoted_use_the_extended_form() -> None:
    for name, encoded in [("J\u00e4s\u00f8n", "J%C3%A4s%C3%B8n"), ("tab\tname", "tab%09name")]:
        params = answer(DigestAuth(name, "p"), challenge())
        assert params["username*"] == "UTF-8''" + encoded
        assert "username" not in params
    params = answer(DigestAuth('quo"te', "p"), challenge())
    assert params["username"] == 'quo"te'


def test_userhash_hides_the_user_name() -> None:
    import hashlib

    params = answer(DigestAuth("Mufasa", "p"), challenge("n", "userhash=TRUE", realm="r"))
    assert params["username"] == hashlib.md5(b"Mufasa:r").hexdigest()
    assert params["userhash"] == "true"


def test_next_nonce_from_authentication_info() -> None:
    auth = DigestAuth("u", "p")
    flow, _ = start(auth)
    flow.send(unauthorized(challenge("n1")))
    finish(flow, ok('nextnonce="n2", qop=auth'))
    flow, request = start(auth)
    assert (sent(request)["nonce"], sent(request)["nc"]) == ("n2", "00000001")
    finish(flow, ok('this is "not valid'))  # a broken hint is ignored, not raised
    _, request = start(auth)
    assert (sent(request)["nonce"], sent(request)["nc"]) == ("n2", "00000002")


def test_method_and_uri_are_hashed() -> None:
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    auth = DigestAuth("Mufasa", "Circle of Life", cnonce_factory=lambda: "c")
    flow, _ = start(auth, "http://example.org/up?load=1", method="POST")
    params = sent(flow.send(unauthorized(RFC7616_CHALLENGE.format(alg="MD5"))))
    ha1 = md5("Mufasa:http-auth@example.org:Circle of Life")
    ha2 = md5("POST:/up?load=1")
    nonce = params["nonce"]
    assert params["uri"] == "/up?load=1"
    assert params["response"] == md5(f"{ha1}:{nonce}:00000001:c:auth:{ha2}")


def test_repr_hides_the_password() -> None:
    text = repr(DigestAuth("Mufasa", "Circle of Life"))
    assert "Mufasa" in text and "Circle" not in text


def test_constructor_checks_types() -> None:
    from aiosonic.exceptions import InvalidRequest

    with pytest.raises(InvalidRequest):
        DigestAuth("u", None)  # type: ignore[arg-type]


def test_challenge_is_a_value() -> None:
    assert Challenge("basic", {"realm": "r"}) == Challenge("basic", {"realm": "r"})
