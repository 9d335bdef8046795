"""Parsing inbound e-mail (adapters/mail/parse.py) and the pure rules of the e-mail channel
(reference numbers, reply subjects, loop protection). Fuzzed with hypothesis: any bytes give an
InboundMail or a ParseError, never another exception."""
from __future__ import annotations

import base64
from email.message import EmailMessage
from email import policy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearthline.adapters.mail.parse import (
    InboundMail, Limits, ParseError, decode_words, html_to_text, parse_message, sanitize_html,
)
from hearthline.services.email import auto_reply_refusal, reference, thread_subject


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8", "surrogateescape")


def test_a_plain_mail_gives_its_headers_and_text() -> None:
    mail = parse_message(crlf(
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.org>\n"
        "To: help@acme.example, \"Bob, the builder\" <bob@example.org>\n"
        "Cc: carol@example.org\n"
        "Subject: =?utf-8?b?R3LDvA==?= =?utf-8?b?w59l?= [#AB12CD34]\n"
        "Message-ID: <abc@example.org>\n"
        "In-Reply-To: <parent@example.org> (sent by a client)\n"
        "References: <root@example.org>\n <parent@example.org>\n"
        "Date: Mon, 1 Jun 2026 10:00:00 +0200\n"
        "\n"
        "Hello,\nmy bill.\n"))
    assert mail.sender.address == "Joerg@Example.org" and mail.sender.name == "Jörg Müller"
    assert [a.address for a in mail.to] == ["help@acme.example", "bob@example.org"]
    assert mail.to[1].name == "Bob, the builder" and [a.address for a in mail.cc] == ["carol@example.org"]
    assert mail.subject == "Grüße [#AB12CD34]"  # adjacent encoded words joined, spaces between dropped
    assert mail.message_id == "<abc@example.org>" and mail.in_reply_to == "<parent@example.org>"
    assert mail.references == ("<root@example.org>", "<parent@example.org>")
    assert mail.thread_ids == ["<parent@example.org>", "<root@example.org>"]
    assert mail.date is not None and mail.date.utcoffset() is not None and mail.date.hour == 10
    assert mail.text.replace("\r\n", "\n").strip() == "Hello,\nmy bill." and mail.html is None


def test_a_utf8_character_split_across_two_encoded_words_is_whole_again() -> None:
    encoded = base64.b64encode("é".encode()).decode()
    first, second = base64.b64encode(b"\xc3").decode(), base64.b64encode(b"\xa9").decode()
    assert decode_words(f"=?utf-8?b?{encoded}?=") == "é"
    assert decode_words(f"Caf=?utf-8?b?{first}?= =?utf-8?b?{second}?=!") == "Café!"
    assert decode_words("=?utf-8?b?!!!?= stays") == "=?utf-8?b?!!!?= stays"  # undecodable: kept as written
    assert decode_words("=?x-no-such-charset?q?abc?=") == "abc"


def test_bad_charsets_and_8bit_headers_are_read_as_well_as_they_can() -> None:
    mail = parse_message(
        b"From: Ren\xe9 <rene@example.org>\r\nSubject: caf\xc3\xa9\r\n"
        b"Content-Type: text/plain; charset=x-bogus\r\n\r\nna\xc3\xafve\r\n")
    assert mail.sender.name == "René" and mail.subject == "café"  # cp1252, then UTF-8
    assert "naïve" in mail.text
    latin = parse_message(b"From: a@example.org\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\xe9t\xe9\r\n")
    assert "été" in latin.text  # declared ASCII, really Windows-1252


def test_a_multipart_whose_boundary_never_comes_keeps_its_text() -> None:
    mail = parse_message(crlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=zz\n\nplain words\n"))
    assert "plain words" in mail.text and mail.defects


def test_missing_headers_are_fine_but_a_sender_is_needed() -> None:
    mail = parse_message(b"From: a@example.org\r\n\r\nbody\r\n")
    assert mail.message_id is None and mail.subject == "" and mail.date is None and mail.references == ()
    assert parse_message(b"Subject: hi\r\n\r\nbody\r\n", fallback_sender="env@example.org").sender.address == \
        "env@example.org"
    for raw in (b"", b"   \r\n", b"just some text\r\n", b"\x00\x01\x02\r\n\r\n", b"Subject: nobody\r\n\r\nx"):
        with pytest.raises(ParseError):
            parse_message(raw)


def test_machine_markers_are_read() -> None:
    mail = parse_message(crlf("From: list@example.org\nAuto-Submitted: Auto-Replied; owner=x\nPrecedence: BULK\n"
                              "List-Id: <news.example.org>\nList-Unsubscribe: <mailto:u@example.org>\n"
                              "X-Auto-Response-Suppress: DR, OOF\nReturn-Path: <>\n\nhi\n"))
    assert mail.auto_submitted == "auto-replied" and mail.precedence == "bulk"
    assert mail.list_id == "<news.example.org>" and mail.list_unsubscribe == "<mailto:u@example.org>"
    assert mail.auto_reply_headers == ("x-auto-response-suppress",) and mail.return_path == ""


def test_html_is_sanitized_and_turned_into_text_when_there_is_no_plain_part() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg.set_content('<html><head><title>T</title><style>p{}</style></head><body>'
                    '<p onmouseover="x()">Dear <b>team</b>,</p><ul><li>one</li><li>two</li></ul>'
                    '<img src="http://tracker.example/p.gif" alt="logo"><img src="cid:part1">'
                    '<a href="javascript:alert(1)">bad</a><a href="https://example.org/x">good</a>'
                    '<script>document.write(1)</script><iframe src="https://evil.example/"></iframe>'
                    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>'
                    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"></body></html>', subtype="html")
    mail = parse_message(msg.as_bytes(policy=policy.SMTP))
    html = mail.html or ""
    for bad in ("script", "onmouseover", "javascript:", "tracker.example", "iframe", "evil.example", "<style",
                "data:text/html"):
        assert bad not in html, bad
    assert '<a href="https://example.org/x" rel="noopener noreferrer nofollow">good</a>' in html
    assert 'src="cid:part1"' in html and 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert mail.remote_images_blocked == 1
    assert mail.text.splitlines()[:3] == ["Dear team,", "", "- one"]
    assert "document.write" not in mail.text and "T" not in mail.text.split()


def test_sanitizer_and_text_converter_on_their_own() -> None:
    html, blocked = sanitize_html('<img src="//cdn.example/x.png"><img src="https://a.example/y.png">'
                                  '<div style="background:url(https://a.example/z)">x</div>')
    assert "cdn.example" not in html and "a.example" not in html and "style" not in html
    assert blocked == 1  # the protocol-relative one goes as a relative URL, before it is counted
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\nc"
    assert html_to_text("<head><body>unclosed head") == "unclosed head"


def test_attachments_are_kept_within_the_limits_and_the_others_noted() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg.set_content("see attached")
    msg.add_attachment(b"a" * 100, maintype="application", subtype="pdf", filename="../../etc/passwd.pdf")
    msg.add_attachment(b"b" * 5000, maintype="application", subtype="zip", filename="big.zip")
    msg.add_attachment(b"c" * 900, maintype="image", subtype="png", filename="=?utf-8?q?b=C3=A9b=C3=A9.png?=")
    msg.add_attachment(b"d" * 900, maintype="text", subtype="csv", filename="rows.csv")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "x@example.org", "Forwarded one"
    inner.set_content("inner text")
    msg.add_attachment(inner)
    msg.add_attachment(b"e" * 900, maintype="application", subtype="octet-stream", filename="last.bin")
    mail = parse_message(msg.as_bytes(policy=policy.SMTP), Limits(max_attachment_bytes=1000,
                                                                  max_attachments_bytes=2500))
    assert [a.filename for a in mail.attachments] == ["passwd.pdf", "bébé.png", "rows.csv", "Forwarded one.eml"]
    assert mail.attachments[0].data == b"a" * 100 and mail.attachments[2].content_type == "text/csv"
    big, last = mail.dropped
    assert big.filename == "big.zip" and abs(big.size - 5000) < 10 and "per attachment" in big.reason
    assert last.filename == "last.bin" and "for all attachments" in last.reason
    assert sum("was not kept" in n for n in mail.notes) == 2 and mail.text.strip() == "see attached"


def test_a_forwarded_mail_is_kept_as_an_eml_attachment() -> None:
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "x@example.org", "Original"
    inner.set_content("inner text")
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg.set_content("FYI")
    msg.add_attachment(inner)
    mail = parse_message(msg.as_bytes(policy=policy.SMTP))
    [eml] = mail.attachments
    assert eml.filename == "Original.eml" and eml.content_type == "message/rfc822" and b"inner text" in eml.data
    assert mail.text.strip() == "FYI"


def test_deep_nesting_and_many_parts_are_bounded() -> None:
    many = b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + \
        b"--b\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n" * 700 + b"--b--\r\n"
    mail = parse_message(many)
    assert len(mail.attachments) < 500 and any("more than 500 parts" in n for n in mail.notes)


# ---- fuzzing -------------------------------------------------------------------------------------
_HEADERS = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                            "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
                            "Precedence", "List-Id", "Return-Path", "Sender", "Reply-To", "X-Auto-Response-Suppress"])
_VALUES = st.one_of(st.text(max_size=60), st.sampled_from([
    "=?utf-8?b?!!?=", "=?x-bogus?q?a=FF?=", "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", 'multipart/mixed; boundary="b"',
    "multipart/alternative; boundary=b", 'text/plain; charset="idna"', "text/html; charset=utf-7",
    "text/plain; charset=unicode_escape", "base64", "quoted-printable", "attachment; filename*=bogus''%FF%FE",
    "message/rfc822", "<a@b> <c@d>", '"x" <a@b.c>, ,, <<>>', "Mon, 99 Foo 2020 25:61:00 +9999",
    "text/plain; charset*=x-bad''a", "<>", "a@b.c (comment", "=?utf-8?q?=00=01?="]))
_BODIES = st.one_of(st.binary(max_size=80), st.sampled_from([
    b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n", b"--b--\r\n",
    b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z\r\n\r\ninner\r\n",
    b"--b\r\nContent-Type: text/html\r\n\r\n<script>x</script><p onclick=y>hi\r\n",
    b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
    b"--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nx\r\n"]))


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(_HEADERS, _VALUES), max_size=12))
    head = b"".join(n.encode() + b": " + v.encode("utf-8", "surrogatepass") + b"\r\n" for n, v in headers)
    return head + b"\r\n" + b"".join(draw(st.lists(_BODIES, max_size=10)))


def _parses_or_refuses_cleanly(raw: bytes) -> None:
    try:
        mail = parse_message(raw, Limits(max_attachment_bytes=100, max_attachments_bytes=150))
    except ParseError as err:
        assert not err.internal, f"the parser itself failed: {err.__cause__!r}"
        return
    assert isinstance(mail, InboundMail) and mail.sender.address
    assert "\x00" not in mail.text and "\x00" not in (mail.html or "") and "\x00" not in mail.subject
    mail.text.encode("utf-8")  # no lone surrogates: storable everywhere
    assert "<script" not in (mail.html or "").lower()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_give_a_mail_or_a_parse_error(raw: bytes) -> None:
    _parses_or_refuses_cleanly(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mails())
def test_malformed_mime_gives_a_mail_or_a_parse_error(raw: bytes) -> None:
    _parses_or_refuses_cleanly(raw)


# ---- the channel's pure rules ----------------------------------------------------------------------
def test_reference_numbers_and_reply_subjects() -> None:
    assert reference("ab12cd34ef567890ab12cd34ef567890") == "AB12CD34"
    assert thread_subject("My bill", "AB12CD34") == "Re: My bill [#AB12CD34]"
    assert thread_subject("RE: Aw: Re[2]: My bill [#AB12CD34]", "AB12CD34") == "Re: My bill [#AB12CD34]"
    assert thread_subject("Re: other [#FFFFFFFF]", "AB12CD34") == "Re: other [#AB12CD34]"
    assert thread_subject("", "AB12CD34") == "Re: Your message [#AB12CD34]"


def _mail(sender: str = "dana@example.org", **headers: str) -> InboundMail:
    head = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in headers.items())
    return parse_message(crlf(f"From: {sender}\n{head}\nhi\n"))


@pytest.mark.parametrize(("sender", "headers", "reason"), [
    ("dana@example.org", {"Auto_Submitted": "auto-replied"}, "Auto-Submitted"),
    ("dana@example.org", {"Precedence": "junk"}, "Precedence"),
    ("dana@example.org", {"List_Id": "<l.example.org>"}, "mailing list"),
    ("dana@example.org", {"List_Unsubscribe": "<https://example.org/u>"}, "mailing list"),
    ("dana@example.org", {"X_Autoreply": "yes"}, "autoresponder"),
    ("dana@example.org", {"Return_Path": "<>"}, "null sender"),
    ("MAILER-DAEMON@example.org", {}, "machine"),
    ("noreply@example.org", {}, "machine"),
    ("do-not-reply+x@example.org", {}, "machine"),
    ("owner-list@example.org", {}, "machine"),
    ("Help@Acme.example", {}, "own"),
])
def test_machines_and_our_own_addresses_get_no_automatic_answer(sender: str, headers: dict[str, str],
                                                                 reason: str) -> None:
    refusal = auto_reply_refusal(_mail(sender, **headers), null_sender=False, own_addresses={"help@acme.example"})
    assert refusal is not None and reason.lower() in refusal.lower()


def test_a_person_gets_an_automatic_answer() -> None:
    assert auto_reply_refusal(_mail(Auto_Submitted="no"), null_sender=False, own_addresses=set()) is None
    assert auto_reply_refusal(_mail("norma@example.org"), null_sender=False, own_addresses=set()) is None
    assert auto_reply_refusal(_mail(), null_sender=True, own_addresses=set()) is not None
