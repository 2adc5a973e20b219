"""Concur to Veza OAA: the payload builder, its files and the push (the only oaaclient users).

``build_application`` maps a DiscoveryResult to one CustomApplication and the data issues it
found (design.md §4; the mapping itself is in docs/mapping.md), ``payload``/``payload_json``/
``save_payload`` serialise it in memory, ``stream.write_payload`` writes it to a file user by user,
``push`` sends either to Veza (in parts when it is large) and waits until Veza parsed it.
"""

from oaa_concur.oaa.build import (
    APPLICATION_TYPE,
    BuiltApplication,
    MappedUser,
    application_name,
    build_application,
    map_user,
)
from oaa_concur.oaa.files import payload, payload_json, save_payload
from oaa_concur.oaa.push import PushOptions, PushResult, check_name, push

__all__ = [
    "APPLICATION_TYPE",
    "BuiltApplication",
    "MappedUser",
    "PushOptions",
    "PushResult",
    "application_name",
    "build_application",
    "check_name",
    "map_user",
    "payload",
    "payload_json",
    "push",
    "save_payload",
]
