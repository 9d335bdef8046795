"""Hearthline's own asyncio SIP layer (RFC 3261), a self-contained sub-package.

It imports nothing else of Hearthline and no web framework or database (import-linter checks
this), so it can be reused and tested on its own.

- `message`   parse and serialise SIP requests and responses (RFC 3261 §7, §20, §25)
- `uri`       SIP URIs, name-addr / addr-spec with parameters (RFC 3261 §19.1, §20.10, §25.1)
- `headers`   the header list and the typed headers Via, CSeq (RFC 3261 §7.3, §20)
- `transport` UDP and TCP listeners on asyncio (RFC 3261 §18, RFC 3581 rport)
- `endpoint`  a minimal UAS core: server transactions, OPTIONS, 405/501/483 (RFC 3261 §8.2, §17.2)
- `timers`    the scheduler port the transactions take their time from
"""
from hearthline.sip.errors import SipParseError
from hearthline.sip.headers import CSeq, Headers, Via
from hearthline.sip.message import Request, Response, make_response, parse_message
from hearthline.sip.uri import Address, SipUri, parse_address, parse_uri

__all__ = [
    "Address",
    "CSeq",
    "Headers",
    "Request",
    "Response",
    "SipParseError",
    "SipUri",
    "Via",
    "make_response",
    "parse_address",
    "parse_message",
    "parse_uri",
]
