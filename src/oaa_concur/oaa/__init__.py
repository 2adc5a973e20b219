"""Concur to Veza OAA: the payload builder, its files and the push (the only oaaclient users).

``build_application`` maps a DiscoveryResult to one CustomApplication (design.md §4),
``payload``/``payload_json``/``save_payload`` serialise it, ``push`` sends it to Veza.
"""

from oaa_concur.oaa.build import APPLICATION_TYPE, application_name, build_application
from oaa_concur.oaa.files import payload, payload_json, save_payload
from oaa_concur.oaa.push import check_name, push

__all__ = [
    "APPLICATION_TYPE",
    "application_name",
    "build_application",
    "check_name",
    "payload",
    "payload_json",
    "push",
    "save_payload",
]
