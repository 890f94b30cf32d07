"""SASL authentication. SaslHandshake is never flexible.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


SASL_HANDSHAKE = Api(
    17, 'SaslHandshake', versions="1-1", flexible='none',
    request=(
        F('mechanism', 'string', '0+'),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('mechanisms', '[]string', '0+'),
    ),
)


SASL_AUTHENTICATE = Api(
    36, 'SaslAuthenticate', versions="0-2", flexible='2+',
    request=(
        F('auth_bytes', 'bytes', '0+'),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('auth_bytes', 'bytes', '0+'),
        F('session_lifetime_ms', 'int64', '1+', default=0),
    ),
)


APIS = (SASL_HANDSHAKE, SASL_AUTHENTICATE,)
