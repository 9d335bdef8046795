"""The SIP parser and serialiser: RFC 3261 §7, §19.1, §20, §25 (hearthline.sip.message, .uri, .headers)."""
from __future__ import annotations

import pytest

from hearthline.sip import SipParseError, make_response, parse_address, parse_message, parse_uri
from hearthline.sip.headers import Headers, parse_cseq, parse_via
from hearthline.sip.message import ParseLimits, Request, Response

CRLF = "\r\n"


def sip(*lines: str, body: str = "") -> bytes:
    return (CRLF.join(lines) + CRLF + CRLF + body).encode()


def options(*extra: str, first: str = "OPTIONS sip:carol@chicago.com SIP/2.0", body: str = "",
            cseq: str = "CSeq: 63104 OPTIONS") -> bytes:
    return sip(
        first,
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877",
        "Max-Forwards: 70",
        "To: <sip:carol@chicago.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        cseq,
        *extra,
        body=body,
    )


# RFC 4475 §3.1.1.1 style "short tortuous" request, trimmed to what this slice parses.
TORTUOUS = (
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
    "TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
    "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n"
    "MaX-fOrWaRdS: 0068\r\n"
    "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
    "Content-Length   : 3\r\n"
    "cseq: 0009\r\n  INVITE\r\n"
    "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw\r\n"
    "s :\r\n"
    "NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n"
    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
    "Content-Type: application/sdp\r\n"
    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
    " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n"
    "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
    "      newvalue ;\r\n  secondparam ; q = 0.33\r\n"
    "\r\n"
    "v=0"
)


def test_a_request_is_parsed_with_its_typed_headers() -> None:
    request = parse_message(options("Content-Type: application/sdp", body="v=0\r\n"))
    assert isinstance(request, Request)
    assert request.method == "OPTIONS"
    assert str(request.uri) == "sip:carol@chicago.com"
    assert request.top_via.branch == "z9hG4bKhjhs8ass877"
    assert request.top_via.transport == "UDP"
    assert request.from_.tag == "1928301774"
    assert request.from_.display_name == "Alice"
    assert request.to.tag is None
    assert request.call_id == "a84b4c76e66710"
    assert (request.cseq.number, request.cseq.method) == (63104, "OPTIONS")
    assert request.max_forwards == 70
    assert request.body == b"v=0\r\n"


def test_a_response_is_parsed() -> None:
    data = sip("SIP/2.0 180 Ringing", "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
               "From: <sip:a@a.example.com>;tag=1", "To: <sip:b@b.example.com>;tag=2",
               "Call-ID: x@y", "CSeq: 1 INVITE", "Content-Length: 0")
    response = parse_message(data)
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (180, "Ringing")
    assert response.to.tag == "2"


def test_the_rfc_4475_tortuous_request_parses() -> None:
    request = parse_message(TORTUOUS.encode())
    assert isinstance(request, Request)
    assert request.to.tag == "1918181833n"
    assert request.from_.display_name == 'J Rosenberg \\"'
    assert request.from_.tag == "98asjd8"
    assert request.max_forwards == 68
    assert (request.cseq.number, request.cseq.method) == (9, "INVITE")
    vias = request.vias
    assert [(via.transport, via.host, via.branch) for via in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert vias[0].wants_rport and vias[0].rport is None
    assert request.headers.get("Subject") == ""
    assert request.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert parse_address(request.headers.get("Contact") or "").params.get("q") == "0.33"
    assert request.body == b"v=0"


def test_serialising_then_parsing_gives_the_same_message() -> None:
    for data in (options(), TORTUOUS.encode(), options("Content-Type: text/plain", body="hello")):
        message = parse_message(data)
        again = parse_message(message.to_bytes())
        assert again == message or again.to_bytes() == message.to_bytes()
        assert parse_message(again.to_bytes()).to_bytes() == again.to_bytes()


def test_compact_header_forms_map_to_full_names() -> None:
    data = sip("MESSAGE sip:b@b.example.com SIP/2.0", "v: SIP/2.0/TCP h.example.com;branch=z9hG4bKa",
               "f: <sip:a@a.example.com>;tag=9", "t: <sip:b@b.example.com>", "i: abc@h",
               "CSeq: 2 MESSAGE", "m: <sip:a@h.example.com>", "l: 2", "c: text/plain", "k: path",
               "s: hi", "e: gzip", "o: presence", "r: <sip:c@c.example.com>", "u: talk",
               body="hi")
    headers = parse_message(data).headers
    expected = {"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
                "Supported", "Subject", "Content-Encoding", "Event", "Refer-To", "Allow-Events"}
    assert {name for name, _ in headers} == expected
    assert headers.get("content-type") == headers.get("C") == "text/plain"


def test_header_names_are_case_insensitive() -> None:
    request = parse_message(options("CONTENT-type: application/sdp", "x-CUSTOM: 1"))
    assert request.headers.get("Content-Type") == "application/sdp"
    assert request.headers.get("X-Custom") == "1"


def test_list_headers_split_on_commas_and_keep_their_order() -> None:
    request = parse_message(options(
        "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK2, SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bK3",
        'Contact: "Doe, John" <sip:j,k@h.example.com;x=a>, <sip:k@h.example.com>',
        "Allow: INVITE, ACK", "Allow: OPTIONS",
        "Date: Sat, 13 Nov 2010 23:29:00 GMT",
        'Authorization: Digest username="a", realm="b"',
    ))
    assert [via.host for via in request.vias] == ["pc33.atlanta.com", "b.example.com", "2001:db8::9"]
    assert request.vias[2].port == 5070
    contacts = [parse_address(value) for value in request.headers.get_all("Contact")]
    assert [contact.display_name for contact in contacts] == ["Doe, John", None]
    assert contacts[0].uri.user == "j,k"
    assert request.headers.get_all("Allow") == ["INVITE", "ACK", "OPTIONS"]
    assert request.headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert request.headers.get_all("Authorization") == ['Digest username="a", realm="b"']


def test_folded_header_lines_are_joined() -> None:
    request = parse_message(options("Subject: I know you're there,\r\n  pick up the phone\r\n\tand talk"))
    assert request.headers.get("Subject") == "I know you're there, pick up the phone and talk"


def test_leading_crlfs_are_ignored() -> None:
    assert parse_message(b"\r\n\r\n" + options()).method == "OPTIONS"  # type: ignore[union-attr]


def test_udp_body_runs_to_the_end_without_content_length_and_is_cut_at_it() -> None:
    assert parse_message(options(body="abc")).body == b"abc"
    assert parse_message(options("Content-Length: 2", body="abcdef")).body == b"ab"


def test_a_stream_message_needs_content_length_and_no_extra_bytes() -> None:
    with pytest.raises(SipParseError, match="required"):
        parse_message(options(), stream=True)
    with pytest.raises(SipParseError):
        parse_message(options("Content-Length: 1", body="ab"), stream=True)
    assert parse_message(options("Content-Length: 2", body="ab"), stream=True).body == b"ab"


@pytest.mark.parametrize("text, user, host, port, params, headers", [
    ("sip:alice@atlanta.com", "alice", "atlanta.com", None, (), ()),
    ("sip:alice@192.0.2.4:5070", "alice", "192.0.2.4", 5070, (), ()),
    ("SIPS:bob@[2001:db8::10]:5061;transport=tcp", "bob", "2001:db8::10", 5061,
     (("transport", "tcp"),), ()),
    ("sip:[::1]", None, "::1", None, (), ()),
    ("sip:+1-212-555-1212@gateway.com;user=phone;lr", "+1-212-555-1212", "gateway.com", None,
     (("user", "phone"), ("lr", None)), ()),
    ("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com&priority=urgent", None, "atlanta.com",
     None, (("method", "REGISTER"),), (("to", "alice%40atlanta.com"), ("priority", "urgent"))),
    ("sip:%61lice@atlanta.com", "%61lice", "atlanta.com", None, (), ()),
])
def test_sip_uris_parse(text: str, user: str | None, host: str, port: int | None,
                        params: tuple[tuple[str, str | None], ...],
                        headers: tuple[tuple[str, str], ...]) -> None:
    uri = parse_uri(text)
    assert (uri.user, uri.host, uri.port, uri.params.items, uri.headers) == (user, host, port, params, headers)
    assert parse_uri(str(uri)) == uri


def test_a_uri_password_is_kept_but_never_shown_in_a_repr() -> None:
    uri = parse_uri("sip:alice:secretword@atlanta.com")
    assert uri.password == "secretword"
    assert "secretword" not in repr(uri)


@pytest.mark.parametrize("text", [
    "sip:", "sip:@atlanta.com", "sip:alice@", "sip:alice@atl anta.com", "sip:alice@[::1",
    "sip:alice@[::g]", "sip:alice@host:99999", "sip:alice@host:12a", "sip:alice@host:-1",
    "sip:alice@host;=x", "sip:alice@host?novalue", "sip:a<b@host", "sip:alice@1.2.3.999",
    "sip:alice@host:", "sip:alice@host:\u0661",
])
def test_malformed_uris_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_a_non_sip_uri_scheme_is_416() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri("tel:+12125551212")
    assert caught.value.status == 416


@pytest.mark.parametrize("text, name, tag", [
    ('"Bob" <sips:bob@biloxi.com>;tag=a48s', "Bob", "a48s"),
    ("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", "Anonymous", "hyh8"),
    ("sip:+12125551212@server.phone2net.com;tag=887s", None, "887s"),
    ("<sip:[2001:db8::1]:5060;transport=udp>", None, None),
    ('"\\"quoted\\" \\\\ name" <sip:q@h.example.com>', '"quoted" \\ name', None),
])
def test_addresses_parse(text: str, name: str | None, tag: str | None) -> None:
    address = parse_address(text)
    assert (address.display_name, address.tag) == (name, tag)
    assert parse_address(str(address)) == address


def test_in_an_addr_spec_the_parameters_belong_to_the_header() -> None:
    address = parse_address("sip:bob@biloxi.com;tag=1;transport=tcp")
    assert address.uri.params.items == ()
    assert address.params.get("transport") == "tcp"


def test_via_parameters_are_read() -> None:
    via = parse_via("SIP/2.0/udp host.example.com:5062;branch=z9hG4bKx;received=192.0.2.1;rport=4000;maddr=239.0.0.1;ttl=16")
    assert (via.transport, via.host, via.port) == ("UDP", "host.example.com", 5062)
    assert (via.branch, via.received, via.rport, via.maddr) == ("z9hG4bKx", "192.0.2.1", 4000, "239.0.0.1")
    assert parse_via("SIP/2.0/UDP [2001:db8::1];received=2001:db8::2").received == "2001:db8::2"


@pytest.mark.parametrize("text", [
    "SIP/2.0 host", "SIP/3.0/UDP host", "SIP/2.0/UDP", "SIP/2.0/UDP host;branch=",
    "SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP host;received=not an ip", "SIP/2.0/UDP host:70000",
    "SIP/2.0/U@P host", "SIP/2.0/UDP host;ttl=300",
])
def test_malformed_vias_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(text)


def test_cseq_number_is_bounded_by_2_to_the_31() -> None:
    assert parse_cseq(f"{2**31 - 1} INVITE").number == 2**31 - 1
    with pytest.raises(SipParseError):
        parse_cseq(f"{2**31} INVITE")


MALFORMED = {
    "no blank line after the headers": options()[:-4],
    "no CRLF at all": b"OPTIONS sip:a@b SIP/2.0",
    "bare LF line ends": options().replace(b"\r\n", b"\n"),
    "bare CR inside a header": options("Subject: a\rb"),
    "bad request line (two spaces)": options(first="OPTIONS  sip:carol@chicago.com SIP/2.0"),
    "bad request line (no version)": options(first="OPTIONS sip:carol@chicago.com"),
    "bad method": options(first="OPT@ONS sip:carol@chicago.com SIP/2.0"),
    "bad Request-URI": options(first="OPTIONS sip:carol@chi cago.com SIP/2.0"),
    "bad status line": sip("SIP/2.0 2000 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1"),
    "CSeq not a number": options(cseq="CSeq: abc OPTIONS"),
    "CSeq negative": options(cseq="CSeq: -1 OPTIONS"),
    "CSeq too large": options(cseq=f"CSeq: {2**31} OPTIONS"),
    "CSeq method differs": options(cseq="CSeq: 1 INVITE"),
    "CSeq without method": options(cseq="CSeq: 1"),
    "two CSeq headers": options("CSeq: 2 OPTIONS"),
    "negative Content-Length": options("Content-Length: -1"),
    "huge Content-Length": options("Content-Length: 99999999999999999999"),
    "non-ASCII digits in Content-Length": options("Content-Length: \u0661".encode().decode()),
    "body shorter than Content-Length": options("Content-Length: 10", body="abc"),
    "conflicting Content-Lengths": options("Content-Length: 1", "l: 2", body="ab"),
    "NUL byte in a header": options("Subject: a\x00b"),
    "not UTF-8": options().replace(b"Alice", b"Al\xffce"),
    "header without colon": options("NoColonHere"),
    "header name with a space": options("Bad Name: x"),
    "continuation before any header": b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n",
    "no Via": options().replace(b"Via:", b"X-Via:"),
    "no From": options().replace(b"From:", b"X-From:"),
    "no Call-ID": options().replace(b"Call-ID:", b"X-Call-ID:"),
    "bad Call-ID": options().replace(b"Call-ID: a84b4c76e66710", b"Call-ID: a b"),
    "bad To": options().replace(b"To: <sip:carol@chicago.com>", b"To: <sip:carol@chicago.com"),
    "bad From tag": options().replace(b";tag=1928301774", b";tag="),
    "Max-Forwards not a number": options("Max-Forwards: many"),
    "Max-Forwards above 255": options().replace(b"Max-Forwards: 70", b"Max-Forwards: 256"),
    "empty element in a list header": options("Route: <sip:a@b>,,<sip:c@d>"),
    "empty message": b"",
    "only CRLFs": b"\r\n\r\n\r\n\r\n",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_messages_raise_sip_parse_error_with_a_status(data: bytes) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert 400 <= caught.value.status < 600
    assert caught.value.reason


def test_an_unsupported_sip_version_is_505_and_still_answerable() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(options(first="OPTIONS sip:carol@chicago.com SIP/3.0"))
    assert caught.value.status == 505
    assert caught.value.request is not None


def test_a_request_with_readable_core_headers_can_be_answered_despite_an_error() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(options(cseq="CSeq: 1 INVITE"))
    assert caught.value.request is not None
    response = make_response(caught.value.request, caught.value.status, to_tag="t1")
    assert response.status == 400
    assert response.headers.get("CSeq") == "1 INVITE"
    assert response.to.tag == "t1"


def test_a_message_without_the_core_headers_cannot_be_answered() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(options().replace(b"Via:", b"X-Via:"))
    assert caught.value.request is None


def test_limits_bound_message_size_header_count_and_line_length() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(options(body="x" * 70000))
    assert caught.value.status == 513
    assert caught.value.request is not None  # the headers were readable: answer 513
    with pytest.raises(SipParseError, match="header fields"):
        parse_message(options(*[f"X-H{i}: {i}" for i in range(200)]))
    with pytest.raises(SipParseError, match="longer"):
        parse_message(options("Subject: " + "x" * 9000))
    small = ParseLimits(max_message_size=100, max_headers=10, max_line_length=100)
    with pytest.raises(SipParseError):
        parse_message(options(), limits=small)


def test_make_response_copies_the_rfc_3261_8_2_6_headers() -> None:
    request = parse_message(options(
        "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77;received=192.0.2.7"))
    assert isinstance(request, Request)
    response = make_response(request, 200, to_tag="abc", headers=[("Allow", "OPTIONS")])
    assert response.reason == "OK"
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    assert response.headers.get("From") == request.headers.get("From")
    assert response.to.tag == "abc"
    assert response.call_id == request.call_id
    assert str(response.cseq) == "63104 OPTIONS"
    assert response.headers.get("Allow") == "OPTIONS"
    assert b"\r\nContent-Length: 0\r\n\r\n" in response.to_bytes()
    assert parse_message(response.to_bytes()) == parse_message(response.to_bytes())


def test_make_response_keeps_an_existing_to_tag_and_adds_none_to_100() -> None:
    request = parse_message(options().replace(b"To: <sip:carol@chicago.com>", b"To: <sip:carol@chicago.com>;tag=x"))
    assert isinstance(request, Request)
    assert make_response(request, 200, to_tag="new").to.tag == "x"
    fresh = parse_message(options())
    assert isinstance(fresh, Request)
    assert make_response(fresh, 100, to_tag="new").to.tag is None


def test_serialising_refuses_header_values_that_would_break_framing() -> None:
    request = parse_message(options())
    assert isinstance(request, Request)
    request.headers.add("Subject", "x\r\nVia: injected")
    with pytest.raises(ValueError):
        request.to_bytes()


def test_headers_set_and_remove_are_case_insensitive() -> None:
    headers = Headers([("v", "a"), ("Via", "b"), ("X-Foo", "1")])
    headers.set("VIA", "c")
    assert list(headers) == [("Via", "c"), ("X-Foo", "1")]
    headers.remove("x-foo")
    assert len(headers) == 1
